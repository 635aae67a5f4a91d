/**
 * The kv-bench load: N concurrent clients, each sending PUTs one after
 * another to one member (client i to member i mod 3) for a fixed time, with
 * every acknowledged write's latency recorded. Then, because raftexample
 * answers before a write is even committed, the time until every client's
 * last write is readable on every member, and a sample of all acknowledged
 * writes checked on every member.
 *
 * @module
 */

import { type KvCluster, processCpuMs } from "./kv_cluster.ts";

/** One level's figures. */
export interface LevelResult {
  impl: string;
  clients: number;
  durationMs: number;
  /** Acknowledged PUTs (204). */
  puts: number;
  /** PUTs that failed (other status, timeout, connection error). */
  errors: number;
  putsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** From the first PUT until every client's last write was readable on every member. */
  allReadableMs: number | undefined;
  /** Acknowledged PUTs per second of allReadableMs. */
  readablePutsPerSec: number | undefined;
  /** Acknowledged writes checked on every member, and how many of them were missing somewhere. */
  sampled: number;
  missing: number;
  /** Up to five of the missing keys, for a look at the members' logs. */
  missingKeys: string[];
  /** CPU the bench client itself used during the PUTs, in % of one core (Linux only). */
  clientCpuPercent: number | undefined;
  /** CPU time of all members per acknowledged PUT, ms (what a write costs the servers). */
  memberCpuMsPerPut?: number;
}

/** One write of the load. */
export interface Write {
  key: string;
  value: string;
}

/** What the clients of one load phase saw. */
export interface PutLoad {
  /** Latency of each acknowledged PUT, ms, in the order they were answered. */
  latencies: number[];
  /** The acknowledged writes. */
  acked: Write[];
  /** Each client's last acknowledged write. */
  lastOfClient: Write[];
  /** PUTs that failed (other status, timeout, connection error). */
  errors: number;
  /** From the first PUT to the end of the last, ms. */
  elapsedMs: number;
  /** CPU this process used meanwhile, in % of one core (undefined off Linux). */
  clientCpuPercent: number | undefined;
  /** CPU time of all members per acknowledged PUT, ms (undefined off Linux or without PUTs). */
  memberCpuMsPerPut: number | undefined;
}

/**
 * Runs `clients` clients, each sending one PUT after another (client i to
 * member i mod 3) for `durationMs`; `tag` keeps keys unique per phase.
 */
export async function putLoad(
  cluster: KvCluster,
  clients: number,
  durationMs: number,
  tag: string,
): Promise<PutLoad> {
  const latencies: number[] = [];
  const acked: Write[] = [];
  const lastOfClient: (Write | undefined)[] = new Array(clients).fill(undefined);
  let errors = 0;
  const cpuStart = processCpuMs("self");
  const membersStart = cluster.membersCpuMs();
  const start = performance.now();
  const deadline = start + durationMs;
  const abort = AbortSignal.timeout(durationMs + 10_000); // a PUT stuck past the run fails
  await Promise.all([...Array(clients)].map(async (_, c) => {
    const api = cluster.apis[c % cluster.apis.length];
    for (let seq = 0; performance.now() < deadline; seq++) {
      const w = { key: `${tag}-c${c}-${seq}`, value: `${c}.${seq}` };
      const t0 = performance.now();
      if (!await cluster.put(api, w.key, w.value, abort)) {
        errors++;
        continue;
      }
      latencies.push(performance.now() - t0);
      acked.push(w);
      lastOfClient[c] = w;
    }
  }));
  const elapsedMs = performance.now() - start;
  const cpuEnd = processCpuMs("self");
  const membersEnd = cluster.membersCpuMs();
  return {
    latencies,
    acked,
    lastOfClient: lastOfClient.filter((w) => w !== undefined),
    errors,
    elapsedMs,
    clientCpuPercent: cpuStart === undefined || cpuEnd === undefined
      ? undefined
      : Math.round((cpuEnd - cpuStart) / elapsedMs * 100),
    memberCpuMsPerPut: membersStart === undefined || membersEnd === undefined || acked.length === 0
      ? undefined
      : (membersEnd - membersStart) / acked.length,
  };
}

/** Runs `clients` clients for `durationMs` against `cluster`; `tag` keeps keys unique per level. */
export async function runLevel(
  cluster: KvCluster,
  clients: number,
  durationMs: number,
  tag: string,
): Promise<LevelResult> {
  const start = performance.now();
  const load = await putLoad(cluster, clients, durationMs, tag);
  const readableAt = await allReadable(cluster, load.lastOfClient);
  const allReadableMs = readableAt === undefined ? undefined : readableAt - start;
  const { sampled, missing, missingKeys } = await sampleMissing(cluster, load.acked, 300);
  const sorted = load.latencies.toSorted((a, b) => a - b);
  const puts = load.acked.length;
  return {
    impl: cluster.impl.name,
    clients,
    durationMs: Math.round(load.elapsedMs),
    puts,
    errors: load.errors,
    putsPerSec: puts / (load.elapsedMs / 1000),
    p50Ms: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
    allReadableMs,
    readablePutsPerSec: allReadableMs === undefined ? undefined : puts / (allReadableMs / 1000),
    sampled,
    missing,
    missingKeys,
    clientCpuPercent: load.clientCpuPercent,
    memberCpuMsPerPut: load.memberCpuMsPerPut,
  };
}

/** The `q` quantile of ascending `sorted` (NaN when empty). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

// When every write in `writes` reads back on every member (polled with local
// reads), or undefined if that does not happen within 20 s.
async function allReadable(cluster: KvCluster, writes: Write[]): Promise<number | undefined> {
  const deadline = performance.now() + 20_000;
  let pending = writes.flatMap((w) => cluster.apis.map((api) => ({ api, w })));
  while (pending.length > 0) {
    if (performance.now() > deadline) return undefined;
    const seen = await Promise.all(pending.map(async ({ api, w }) => {
      return await cluster.readLocal(api, w.key) === w.value;
    }));
    pending = pending.filter((_, i) => !seen[i]);
    if (pending.length > 0) await new Promise((r) => setTimeout(r, 2));
  }
  return performance.now();
}

/** Checks up to `n` acknowledged writes (evenly spread) on every member. */
export async function sampleMissing(cluster: KvCluster, acked: Write[], n: number) {
  const step = Math.max(1, Math.floor(acked.length / n));
  const sample = acked.filter((_, i) => i % step === 0).slice(0, n);
  const missingKeys: string[] = [];
  let missing = 0;
  for (let i = 0; i < sample.length; i += 32) {
    const batch = sample.slice(i, i + 32);
    const ok = await Promise.all(batch.map(async (w) => {
      for (const api of cluster.apis) {
        if (await cluster.readLocal(api, w.key) !== w.value) return false;
      }
      return true;
    }));
    batch.forEach((w, k) => {
      if (ok[k]) return;
      missing++;
      if (missingKeys.length < 5) missingKeys.push(w.key);
    });
  }
  return { sampled: sample.length, missing, missingKeys };
}
