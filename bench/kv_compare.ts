/**
 * `deno task kv-compare`: our KV (apps/kv) against etcd 3.4 (its v2 keys
 * API, `--enable-v2`), both of which answer a PUT only once it is committed
 * and applied. Three members of each on 127.0.0.1, data directories in one
 * temporary directory (one disk), both clusters running side by side; the
 * same load client (kv_load.ts: each client sends one PUT after another,
 * client i to member i mod 3) at each client level, in alternating rounds
 * (ours, etcd, ours, etcd, ...) so that both meet the same machine load.
 *
 * Flags: `--clients 1,16,64,256` `--duration-ms 5000` (per round and level)
 * `--rounds 2` `--warmup-ms 2000` (16 clients on each cluster first, not
 * counted: JIT and caches warm) `--json FILE` `--dir DIR` (parent of the temporary
 * directory; default the system's) `--etcd PATH` (default `$RAFTHTTP_ETCD`
 * or `etcd` on PATH). Exits 2 when etcd cannot be run, saying what to
 * install.
 *
 * @module
 */

import type { KvCluster } from "./kv_cluster.ts";
import { type PutLoad, putLoad, quantile, sampleMissing } from "./kv_load.ts";
import { etcdImpl, EtcdUnavailableError, etcdVersion, oursImpl } from "./kv_impls.ts";
import { Clusters, gitCommit, loadAverage, runMain } from "./kv_run.ts";
import { intFlag, walkFlags } from "./flags.ts";

/** What kv-compare is told on its command line. */
export interface CompareOptions {
  clients: number[];
  durationMs: number;
  rounds: number;
  warmupMs: number;
  json: string | undefined;
  dir: string | undefined;
  etcd: string;
}

/** A command line kv-compare cannot use; the message says which flag and why. */
export class CompareFlagError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "CompareFlagError";
  }
}

const USAGE = "flags: --clients 1,16,64,256 --duration-ms 5000 --rounds 2 --warmup-ms 2000 " +
  "--json FILE --dir DIR --etcd PATH";

const fail = (message: string) => new CompareFlagError(message);

/** Parses kv-compare's flags (`--flag value` or `--flag=value`); throws {@link CompareFlagError}. */
export function parseCompareFlags(
  argv: string[],
  env: (name: string) => string | undefined = () => undefined,
): CompareOptions {
  const o: CompareOptions = {
    clients: [1, 16, 64, 256],
    durationMs: 5000,
    rounds: 2,
    warmupMs: 2000,
    json: undefined,
    dir: undefined,
    etcd: env("RAFTHTTP_ETCD") ?? "etcd",
  };
  walkFlags(
    argv,
    (flag, value) => {
      if (flag === "clients") {
        o.clients = value().split(",").map((c) => intFlag(flag, c, 1, 4096, fail));
      } else if (flag === "duration-ms") o.durationMs = intFlag(flag, value(), 1, 600_000, fail);
      else if (flag === "rounds") o.rounds = intFlag(flag, value(), 1, 100, fail);
      else if (flag === "warmup-ms") o.warmupMs = intFlag(flag, value(), 0, 60_000, fail);
      else if (flag === "json") o.json = value();
      else if (flag === "dir") o.dir = value();
      else if (flag === "etcd") o.etcd = value();
      else return false;
      return true;
    },
    fail,
    USAGE,
  );
  return o;
}

/** One implementation's figures at one client level, all rounds together. */
export interface ImplFigures {
  /** Acknowledged PUTs of all rounds. */
  puts: number;
  /** Failed PUTs (other status, timeout, connection error) of all rounds. */
  errors: number;
  /** Acknowledged PUTs per second of the rounds' time together. */
  putsPerSec: number;
  /** Latency quantiles of all acknowledged PUTs of all rounds, ms. */
  p50Ms: number;
  p99Ms: number;
  /** Acknowledged writes checked on every member, and how many were missing somewhere. */
  sampled: number;
  missing: number;
  /** CPU time of the three members per acknowledged PUT, ms (NaN where /proc is not readable). */
  memberCpuMsPerPut: number;
  /** Each round alone (`clientCpu`: the load client's CPU, % of one core). */
  rounds: {
    putsPerSec: number;
    p50Ms: number;
    p99Ms: number;
    errors: number;
    memberCpuMsPerPut?: number;
    clientCpu?: number;
  }[];
}

/** A round's load and its check of acknowledged writes. */
export interface RoundResult {
  load: Pick<
    PutLoad,
    "latencies" | "acked" | "errors" | "elapsedMs" | "clientCpuPercent" | "memberCpuMsPerPut"
  >;
  sampled: number;
  missing: number;
}

/** Puts the rounds of one implementation at one level together. */
export function combineRounds(rounds: RoundResult[]): ImplFigures {
  const sorted = (l: number[]) => l.toSorted((a, b) => a - b);
  const all = sorted(rounds.flatMap((r) => r.load.latencies));
  const puts = rounds.reduce((n, r) => n + r.load.acked.length, 0);
  const ms = rounds.reduce((n, r) => n + r.load.elapsedMs, 0);
  const cpu = rounds.map((r) => (r.load.memberCpuMsPerPut ?? NaN) * r.load.acked.length);
  return {
    puts,
    errors: rounds.reduce((n, r) => n + r.load.errors, 0),
    putsPerSec: ms > 0 ? puts / (ms / 1000) : 0,
    p50Ms: quantile(all, 0.5),
    p99Ms: quantile(all, 0.99),
    sampled: rounds.reduce((n, r) => n + r.sampled, 0),
    missing: rounds.reduce((n, r) => n + r.missing, 0),
    memberCpuMsPerPut: puts > 0 ? cpu.reduce((a, b) => a + b, 0) / puts : NaN,
    rounds: rounds.map((r) => {
      const l = sorted(r.load.latencies);
      return {
        putsPerSec: r.load.elapsedMs > 0 ? r.load.acked.length / (r.load.elapsedMs / 1000) : 0,
        p50Ms: quantile(l, 0.5),
        p99Ms: quantile(l, 0.99),
        errors: r.load.errors,
        memberCpuMsPerPut: r.load.memberCpuMsPerPut,
        clientCpu: r.load.clientCpuPercent,
      };
    }),
  };
}

/** One client level: both implementations and ours/etcd of each figure. */
export interface CompareLevel {
  clients: number;
  ours: ImplFigures;
  etcd: ImplFigures;
  /** ours / etcd: PUT/s (above 1: ours faster), p50 and p99 (below 1: ours faster). */
  ratio: { putsPerSec: number; p50: number; p99: number };
}

/** The level's figures with their ratios. */
export function compareLevel(clients: number, ours: ImplFigures, etcd: ImplFigures): CompareLevel {
  return {
    clients,
    ours,
    etcd,
    ratio: {
      putsPerSec: ours.putsPerSec / etcd.putsPerSec,
      p50: ours.p50Ms / etcd.p50Ms,
      p99: ours.p99Ms / etcd.p99Ms,
    },
  };
}

const num = (n: number, digits: number) => Number.isFinite(n) ? n.toFixed(digits) : "-";

/** The levels as a Markdown table. */
export function formatCompareTable(levels: CompareLevel[]): string {
  const lines = [
    "| clients | ours PUT/s | etcd PUT/s | ours/etcd PUT/s | ours p50 ms | etcd p50 ms | ours/etcd p50 " +
    "| ours p99 ms | etcd p99 ms | ours/etcd p99 | member CPU ms/PUT ours/etcd | errors ours/etcd " +
    "| missing ours/etcd |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const l of levels) {
    const { ours: o, etcd: e, ratio: r } = l;
    lines.push(
      `| ${l.clients} | ${num(o.putsPerSec, 0)} | ${num(e.putsPerSec, 0)} | ` +
        `${num(r.putsPerSec, 2)}× | ${num(o.p50Ms, 2)} | ${num(e.p50Ms, 2)} | ` +
        `${num(r.p50, 2)}× | ${num(o.p99Ms, 2)} | ${num(e.p99Ms, 2)} | ${num(r.p99, 2)}× | ` +
        `${num(o.memberCpuMsPerPut, 2)} / ${num(e.memberCpuMsPerPut, 2)} | ` +
        `${o.errors} / ${e.errors} | ${o.missing}/${o.sampled} / ${e.missing}/${e.sampled} |`,
    );
  }
  return lines.join("\n");
}

// One round on one cluster: the load, then a sample of its writes checked on every member.
async function round(cluster: KvCluster, clients: number, ms: number, tag: string) {
  const load = await putLoad(cluster, clients, ms, tag);
  const { sampled, missing } = await sampleMissing(cluster, load.acked, 100);
  console.error(
    `${cluster.impl.name} x${clients} ${tag}: ${load.acked.length} PUTs, ${load.errors} errors, ` +
      `${missing} of ${sampled} sampled missing, client CPU ${load.clientCpuPercent ?? "?"}%, ` +
      `members' CPU ${load.memberCpuMsPerPut?.toFixed(2) ?? "?"} ms/PUT`,
  );
  return { load, sampled, missing };
}

async function measure(o: CompareOptions, ours: KvCluster, etcd: KvCluster) {
  for (const cluster of o.warmupMs > 0 ? [ours, etcd] : []) {
    const w = await putLoad(cluster, 16, o.warmupMs, "warmup");
    console.error(`${cluster.impl.name} warm-up: ${w.acked.length} PUTs, ${w.errors} errors`);
  }
  const levels: CompareLevel[] = [];
  for (const clients of o.clients) {
    const mine: RoundResult[] = [];
    const theirs: RoundResult[] = [];
    for (let r = 1; r <= o.rounds; r++) {
      mine.push(await round(ours, clients, o.durationMs, `c${clients}-r${r}`));
      theirs.push(await round(etcd, clients, o.durationMs, `c${clients}-r${r}`));
    }
    levels.push(compareLevel(clients, combineRounds(mine), combineRounds(theirs)));
  }
  return levels;
}

const clusters = new Clusters();

async function main(argv: string[]): Promise<number> {
  const o = parseCompareFlags(argv, (n) => Deno.env.get(n));
  const version = await etcdVersion(o.etcd);
  if (!version.startsWith("3.4.")) {
    console.error(`note: etcd ${version}; the comparison is meant against etcd 3.4`);
  }
  const runAt = new Date().toISOString();
  const commit = await gitCommit();
  const loadBefore = loadAverage();
  const ours = await clusters.start(oursImpl(), { parentDir: o.dir });
  const etcd = await clusters.start(etcdImpl(o.etcd), { parentDir: o.dir });
  const levels = await measure(o, ours, etcd);
  await clusters.stopAll();
  const loadAfter = loadAverage();
  console.log(formatCompareTable(levels));
  console.log(
    `\nours ${commit} vs etcd ${version}; Deno ${Deno.version.deno}; ${o.rounds} alternating ` +
      `round(s) of ${o.durationMs} ms per level; load average ${loadBefore} before, ` +
      `${loadAfter} after`,
  );
  if (o.json !== undefined) {
    const doc = { runAt, commit, etcdVersion: version, deno: Deno.version.deno, loadBefore };
    const all = { ...doc, loadAfter, options: o, levels };
    await Deno.writeTextFile(o.json, JSON.stringify(all, null, 1) + "\n");
    console.log(`JSON in ${o.json}`);
  }
  return 0;
}

if (import.meta.main) {
  await runMain(clusters, () => main(Deno.args), (e) => {
    if (e instanceof EtcdUnavailableError || e instanceof CompareFlagError) return 2;
    return 1;
  });
}
