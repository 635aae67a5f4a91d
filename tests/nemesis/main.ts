/**
 * `deno task nemesis`: a seeded fault campaign against our KV, Go
 * raftexample and etcd (see README.md). Run as root, the members live in
 * network namespaces on a bridge: this process makes the LAN, runs the
 * campaign inside the clients' namespace (`ip netns exec`), and removes
 * everything after. Otherwise members run on 127.0.0.1 (raftexample, which
 * listens on every interface, inside `unshare -rn`). Exit code 1 when our
 * KV showed an anomaly or a campaign could not run.
 *
 * @module
 */

import { NETNS_MISSING } from "../netns/netns.ts";
import { type CliOptions, formatCli, parseCli, USAGE } from "./cli.ts";
import { type LanView, makeLan, pidsIn } from "./lan.ts";
import { runTargets } from "./run_targets.ts";

const SELF = new URL(import.meta.url).pathname;

async function runChild(cmd: string, args: string[], env: Record<string, string>): Promise<number> {
  const child = new Deno.Command(cmd, { args, env, stdin: "null" }).spawn();
  const forward = () => {
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
  };
  Deno.addSignalListener("SIGINT", forward);
  Deno.addSignalListener("SIGTERM", forward);
  try {
    return (await child.status).code;
  } finally {
    Deno.removeSignalListener("SIGINT", forward);
    Deno.removeSignalListener("SIGTERM", forward);
  }
}

/** Makes the LAN, runs the campaign inside it, then ends what is left and removes it. */
async function outerNetns(o: CliOptions): Promise<number> {
  const { lan, view } = await makeLan(o.members + 2);
  try {
    const args = [
      "netns",
      "exec",
      view.clientNs,
      Deno.execPath(),
      "run",
      "-A",
      SELF,
      ...formatCli(o),
    ];
    return await runChild("ip", args, { NEMESIS_LAN: JSON.stringify(view) });
  } finally {
    for (const pid of await pidsIn(view)) {
      for (const sig of ["SIGCONT", "SIGKILL"] as const) {
        try {
          Deno.kill(pid, sig);
        } catch { /* gone */ }
      }
    }
    await lan.remove();
  }
}

async function canUnshare(): Promise<boolean> {
  try {
    return (await new Deno.Command("unshare", {
      args: ["-rn", "true"],
      stdout: "null",
      stderr: "null",
    })
      .output()).success;
  } catch {
    return false;
  }
}

async function main(argv: string[]): Promise<number> {
  let o: CliOptions;
  try {
    o = parseCli(argv);
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  o.seed ??= crypto.getRandomValues(new Uint32Array(1))[0];
  o.out ??= await Deno.makeTempDir({ prefix: "nemesis-report-" });
  await Deno.mkdir(o.out, { recursive: true });
  const inner = Deno.env.get("NEMESIS_LAN");
  if (inner !== undefined) return await runTargets(o, JSON.parse(inner) as LanView);
  if (Deno.env.get("NEMESIS_UNSHARED") === "1") return await runTargets(o, undefined);
  if (o.net === "netns" || (o.net === "auto" && NETNS_MISSING === undefined)) {
    if (NETNS_MISSING !== undefined) {
      console.error(`--net netns: ${NETNS_MISSING}`);
      return 1;
    }
    o.net = "netns";
    return await outerNetns(o);
  }
  o.net = "loopback";
  if (o.targets.includes("raftexample") && await canUnshare()) {
    const args = [
      "-rn",
      "sh",
      "-c",
      'ip link set lo up && exec "$@"',
      "sh",
      Deno.execPath(),
      "run",
      "-A",
      SELF,
      ...formatCli(o),
    ];
    return await runChild("unshare", args, { NEMESIS_UNSHARED: "1" });
  }
  return await runTargets(o, undefined);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
