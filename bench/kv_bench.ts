/**
 * `deno task kv-bench`: committed PUTs per second and p50/p99 latency on
 * three local members, for 1, 16 and 64 concurrent clients, for our KV
 * service (apps/kv) and etcd 3.4's raftexample (Go) in the same run.
 * raftexample answers a PUT before it is committed, so the table also shows
 * the time until every write is readable on every member, and the rate on
 * that basis. Both clusters run side by side and each client level is
 * measured on one right after the other, so they meet the same machine load.
 *
 * Mixed clusters run both: `mixed-2go-1ours` (raftexample members 1 and 2,
 * ours as member 3 with --raftexample-compat) and `mixed-1go-2ours`; their
 * clients go to every member, so some PUTs are answered before commit
 * (raftexample's) and some after; reads go without `?stale` (raftexample
 * would take it as part of the key), so reads on ours are linearizable.
 *
 * Flags: `--impl ours,raftexample,mixed-2go-1ours,mixed-1go-2ours`
 * `--clients 1,16,64` `--duration-ms 5000` `--rounds 1` (each level measured
 * that many times on every implementation in turn; the table shows medians)
 * `--baseline DIR` (adds `baseline`: the KV of another checkout, e.g. a
 * `git worktree` of an older commit, run beside this one; the table then
 * gives ours / baseline per level, the median of the rounds' ratios)
 * `--out FILE` (JSON lines, appended; default .tools/kv-bench/results.jsonl)
 * `--no-isolate`.
 *
 * raftexample's KV API listens on every interface (":PORT" in its code), so
 * where `unshare` allows it the bench runs in a private network namespace
 * with only a loopback interface; nothing outside the machine can reach it.
 *
 * @module
 */

import type { KvCluster, KvImpl } from "./kv_cluster.ts";
import { type LevelResult, quantile, runLevel } from "./kv_load.ts";
import { OURS_MAIN, oursImpl, raftexampleImpl } from "./kv_impls.ts";
import { Clusters, gitCommit, loadAverage, runMain } from "./kv_run.ts";
import { ensureRaftexample } from "./raftexample.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

const MIXED: Record<string, number[]> = { "mixed-2go-1ours": [1, 2], "mixed-1go-2ours": [1] };

// A cluster of both: members in `goIds` are raftexample, the others ours in compat mode.
function mixedImpl(name: string, bin: string, goIds: number[]): KvImpl {
  const go = raftexampleImpl(bin);
  const ours = oursImpl();
  return {
    name,
    command: (id, cluster, port, dataDir) => {
      if (goIds.includes(id)) return go.command(id, cluster, port, dataDir);
      const c = ours.command(id, cluster, port, dataDir);
      return { cmd: c.cmd, args: [...c.args, "--raftexample-compat"] };
    },
    localReadSuffix: "",
    acksAfterCommit: false,
  };
}

const IMPLS = ["ours", "raftexample", ...Object.keys(MIXED)];

interface BenchOptions {
  impls: string[];
  clients: number[];
  durationMs: number;
  rounds: number;
  /** A checkout whose apps/kv runs as the implementation `baseline`. */
  baseline?: string;
  out: string;
  isolate: boolean;
}

function parseFlags(argv: string[]): BenchOptions {
  const o: BenchOptions = {
    impls: ["ours", "raftexample", ...Object.keys(MIXED)],
    clients: [1, 16, 64],
    durationMs: 5000,
    rounds: 1,
    out: `${ROOT}/.tools/kv-bench/results.jsonl`,
    isolate: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split("=", 2);
    const value = () => inline ?? argv[++i] ?? "";
    if (flag === "--impl") o.impls = value().split(",").filter(Boolean);
    else if (flag === "--clients") o.clients = value().split(",").map(Number);
    else if (flag === "--duration-ms") o.durationMs = Number(value());
    else if (flag === "--rounds") o.rounds = Number(value());
    else if (flag === "--baseline") o.baseline = value().replace(/\/$/, "");
    else if (flag === "--out") o.out = value();
    else if (flag === "--no-isolate") o.isolate = false;
    else {throw new Error(
        `unknown flag ${argv[i]}; flags: --impl ${
          IMPLS.join(",")
        } --clients 1,16,64 --duration-ms N --rounds N --baseline DIR --out FILE --no-isolate`,
      );}
  }
  const bad = o.clients.some((c) => !Number.isInteger(c) || c < 1) ||
    !(o.durationMs > 0 && o.durationMs <= 60_000) ||
    !(Number.isInteger(o.rounds) && o.rounds >= 1 && o.rounds <= 50) ||
    o.baseline === "" || o.impls.some((n) => !IMPLS.includes(n));
  if (bad) {
    throw new Error(
      `--clients takes positive integers, --duration-ms 1..60000, --rounds 1..50, ` +
        `--baseline a directory, --impl some of ${IMPLS.join(",")}`,
    );
  }
  if (o.baseline !== undefined) o.impls.push("baseline");
  return o;
}

async function succeeds(cmd: string, args: string[]): Promise<boolean> {
  try {
    return (await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output()).success;
  } catch {
    return false;
  }
}

// Runs this bench again inside a new network namespace that has only loopback.
async function runIsolated(argv: string[]): Promise<number> {
  const inner = [Deno.execPath(), "run", "-A", new URL(import.meta.url).pathname, ...argv];
  const child = new Deno.Command("unshare", {
    args: ["-rn", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", ...inner],
    env: { KV_BENCH_IN_NETNS: "1" },
    stdin: "null",
  }).spawn();
  return (await child.status).code;
}

async function resolveImpl(name: string, baseline?: string): Promise<KvImpl> {
  if (name === "baseline") {
    const main = `${baseline}/apps/kv/main.ts`;
    await Deno.stat(main).catch(() => {
      throw new Error(`--baseline ${baseline}: ${main} does not exist (a checkout of this repo?)`);
    });
    return oursImpl({ name: "baseline", main });
  }
  if (name === "raftexample") return raftexampleImpl(await ensureRaftexample());
  if (name in MIXED) return mixedImpl(name, await ensureRaftexample(), MIXED[name]);
  try {
    await Deno.stat(OURS_MAIN);
  } catch {
    throw new Error(`${OURS_MAIN} does not exist yet`);
  }
  return oursImpl();
}

const clusters = new Clusters();

// All implementations run side by side; each client level is measured on
// one after the other, so that they meet the same machine load (this
// machine is shared) rather than one running minutes after the other.
async function benchAll(
  o: BenchOptions,
  unavailable: Map<string, string>,
  sink: (r: LevelResult) => Promise<void>,
): Promise<void> {
  const running: KvCluster[] = [];
  for (const name of o.impls) {
    try {
      running.push(await clusters.start(await resolveImpl(name, o.baseline)));
    } catch (e) {
      unavailable.set(name, (e as Error).message);
      console.error(`${name}: not available: ${(e as Error).message}`);
    }
  }
  for (const clients of o.clients) {
    for (let round = 1; round <= o.rounds; round++) {
      // Alternate which goes first, so that neither always follows the other.
      const order = round % 2 === 1 ? running : [...running].reverse();
      for (const cluster of order) {
        const r = await runLevel(cluster, clients, o.durationMs, `b${clients}r${round}`);
        console.error(
          `${cluster.impl.name} x${clients} round ${round}: ${r.puts} PUTs, ${r.errors} errors`,
        );
        await sink(r);
      }
    }
  }
}

const fmt = (n: number | undefined, digits = 0) =>
  n === undefined || Number.isNaN(n) ? "-" : n.toFixed(digits);

/** The results as a Markdown table, with our rate relative to raftexample's. */
export function formatTable(results: LevelResult[], unavailable: Map<string, string>): string {
  const lines = [
    "| implementation | clients | PUT/s (acked) | p50 ms | p99 ms | all readable ms | PUT/s (all readable) | missing / sampled | bench client CPU |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of results) {
    lines.push(
      `| ${r.impl} | ${r.clients} | ${fmt(r.putsPerSec)} | ${fmt(r.p50Ms, 2)} | ${
        fmt(r.p99Ms, 2)
      } | ` +
        `${fmt(r.allReadableMs)} | ${fmt(r.readablePutsPerSec)} | ${r.missing} / ${r.sampled} | ` +
        `${r.clientCpuPercent === undefined ? "-" : `${r.clientCpuPercent}%`} |`,
    );
  }
  for (const [name, why] of unavailable) {
    lines.push(`\n${name}: not available (${why.split("\n")[0]})`);
  }
  const ratios = [];
  for (const ours of results.filter((r) => r.impl === "ours")) {
    const theirs = results.find((r) => r.impl === "raftexample" && r.clients === ours.clients);
    if (theirs?.readablePutsPerSec && ours.readablePutsPerSec) {
      ratios.push(
        `${ours.clients} clients ${
          (ours.readablePutsPerSec / theirs.readablePutsPerSec).toFixed(2)
        }x`,
      );
    }
  }
  if (ratios.length > 0) {
    lines.push(`\nours / raftexample (all-readable rate): ${ratios.join(", ")}`);
  }
  const rounds = formatRounds(results);
  return rounds === "" ? lines.join("\n") : `${lines.join("\n")}\n\n${rounds}`;
}

// The rounds' median (the upper one of an even count), with kv_load's quantile.
const median = (xs: number[]) => quantile([...xs].sort((a, b) => a - b), 0.5);

/**
 * With several rounds: each implementation's medians per level and, with a
 * baseline, ours / baseline per level (the median of the rounds' ratios,
 * each round's pair measured one right after the other). Empty with one round.
 */
export function formatRounds(results: LevelResult[]): string {
  const groups = new Map<string, LevelResult[]>();
  for (const r of results) {
    const k = `${r.impl}\u0000${r.clients}`;
    groups.set(k, [...groups.get(k) ?? [], r]);
  }
  if (![...groups.values()].some((g) => g.length > 1)) return "";
  const lines = [
    "| implementation | clients | rounds | median PUT/s | min-max PUT/s | median p50 ms | median p99 ms | median member CPU ms / PUT | ours / baseline PUT/s (median, min-max) |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const [k, g] of groups) {
    const rates = g.map((r) => r.putsPerSec);
    const [impl, clients] = k.split("\u0000");
    const base = impl === "ours" ? groups.get(`baseline\u0000${clients}`) : undefined;
    const ratios = base === undefined
      ? []
      : g.slice(0, base.length).map((r, i) => r.putsPerSec / base[i].putsPerSec);
    const ratio = ratios.length === 0
      ? ""
      : `${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(2)}-${
        Math.max(...ratios).toFixed(2)
      })`;
    lines.push(
      `| ${impl} | ${clients} | ${g.length} | ${fmt(median(rates))} | ${fmt(Math.min(...rates))}-${
        fmt(Math.max(...rates))
      } | ${fmt(median(g.map((r) => r.p50Ms)), 2)} | ${fmt(median(g.map((r) => r.p99Ms)), 2)} | ${
        fmt(median(g.flatMap((r) => r.memberCpuMsPerPut ?? [])), 3)
      } | ${ratio} |`,
    );
  }
  return lines.join("\n");
}

async function main(argv: string[]): Promise<number> {
  const o = parseFlags(argv);
  if (o.isolate && Deno.env.get("KV_BENCH_IN_NETNS") !== "1") {
    if (await succeeds("unshare", ["-rn", "true"])) return await runIsolated(argv);
    console.error("note: unshare unavailable; raftexample's KV port will listen on all interfaces");
  }
  await Deno.mkdir(o.out.replace(/\/[^/]+$/, ""), { recursive: true });
  const results: LevelResult[] = [];
  const unavailable = new Map<string, string>();
  const runAt = new Date().toISOString();
  const commit = await gitCommit();
  const loadBefore = loadAverage();
  const sink = async (r: LevelResult) => {
    results.push(r);
    const line = { runAt, commit, loadAverage: loadAverage(), ...r };
    await Deno.writeTextFile(o.out, JSON.stringify(line) + "\n", { append: true });
  };
  try {
    await benchAll(o, unavailable, sink);
  } finally {
    await clusters.stopAll();
  }
  results.sort((a, b) => a.impl.localeCompare(b.impl) || a.clients - b.clients);
  console.log(formatTable(results, unavailable));
  console.log(`\ncommit ${commit}; load average ${loadBefore} before, ${loadAverage()} after`);
  console.log(`\nraw results appended to ${o.out}`);
  return results.length > 0 ? 0 : 1;
}

if (import.meta.main) await runMain(clusters, () => main(Deno.args));
