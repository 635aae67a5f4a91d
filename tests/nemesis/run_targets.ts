// Runs the campaign against each chosen target in turn (the same seed,
// hence the same schedule), writes each one's report, a side-by-side page
// when there are several, and says how to reproduce a failing seed.

import { ensureRaftexample } from "../../bench/raftexample.ts";
import { writeRun } from "./artifacts.ts";
import { runCampaign } from "./campaign.ts";
import type { CliOptions } from "./cli.ts";
import type { LanView } from "./lan.ts";
import type { Summary } from "./report.ts";
import { sideBySide } from "./report_md.ts";
import type { Target, TargetName } from "./target.ts";
import { etcdTarget } from "./target_etcd.ts";
import { oursTarget } from "./target_ours.ts";
import { raftexampleTarget } from "./target_raftexample.ts";

async function runs(cmd: string, args: string[]): Promise<boolean> {
  try {
    return (await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output()).success;
  } catch {
    return false;
  }
}

/** The target `name`, or why it cannot run here. */
async function makeTarget(
  name: TargetName,
  o: CliOptions,
  lan: LanView | undefined,
): Promise<Target | string> {
  if (name === "ours") {
    const memberFlags = o.memberFlags?.split(/\s+/).filter((f) => f !== "");
    return oursTarget({ memberFlags, staleReads: o.staleReads });
  }
  if (name === "etcd") {
    return await runs("etcd", ["--version"])
      ? etcdTarget("etcd")
      : "etcd is not on PATH (Debian: apt-get install etcd-server)";
  }
  if (lan === undefined && Deno.env.get("NEMESIS_UNSHARED") !== "1") {
    return "raftexample listens on every interface: run as root (namespaces) or where `unshare -rn` works";
  }
  try {
    return raftexampleTarget(await ensureRaftexample());
  } catch (e) {
    return (e as Error).message;
  }
}

function line(s: Summary): string {
  const a = s.anomalies;
  const applied = Object.values(s.faults).reduce((n, f) => n + (f?.applied ?? 0), 0);
  return `${s.target}: ${s.operations.total} ops, ${applied} faults applied, ` +
    `${a.count} non-linearizable keys, ${a.lostWrites.length}/${s.operations.ownAcked} acknowledged writes lost, ` +
    `${s.unexpectedExits.length} unexpected exits, recovery median ${
      s.recovery.p50?.toFixed(0) ?? "-"
    } ms` +
    (s.liveness.length ? `; liveness: ${s.liveness.join("; ")}` : "");
}

/** Runs every target of `o`; the process exit code (1: ours unclean, or a run failed). */
export async function runTargets(o: CliOptions, lan: LanView | undefined): Promise<number> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const summaries: Summary[] = [];
  let code = 0;
  try {
    console.log(
      `nemesis: seed ${o.seed}, ${o.seconds} s per target, ${o.members} members, ${
        lan ? "network namespaces" : "127.0.0.1"
      }`,
    );
    for (const name of o.targets) {
      if (stop.signal.aborted) break;
      const t = await makeTarget(name, o, lan);
      if (typeof t === "string") {
        console.log(`${name}: not run: ${t}`);
        if (name === "ours" || o.targets.length === 1) code = 1;
        continue;
      }
      try {
        const r = await runCampaign({
          target: t,
          seed: o.seed!,
          runMs: o.seconds * 1000,
          members: o.members,
          kinds: o.kinds,
          lan,
          clients: o.clients,
          rate: o.rate,
          log: (l) => console.log(l),
          signal: stop.signal,
        });
        const s = await writeRun(o.out!, r, t, {
          seconds: o.seconds,
          faults: o.faults,
          memberFlags: o.memberFlags,
          net: o.net,
          staleReads: o.staleReads,
        });
        summaries.push(s);
        console.log(line(s));
        if (name === "ours" && !s.clean) {
          code = 1;
          console.log(`ours: FAILED; reproduce with: ${s.reproduce}`);
        }
      } catch (e) {
        console.error(`${name}: the campaign could not run: ${(e as Error).stack ?? e}`);
        code = 1;
      }
    }
    if (summaries.length > 1) {
      await Deno.writeTextFile(`${o.out}/summary.md`, sideBySide(summaries));
      await Deno.writeTextFile(`${o.out}/summary.json`, JSON.stringify(summaries, null, 1));
    }
    console.log(`reports in ${o.out}`);
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
  return code;
}
