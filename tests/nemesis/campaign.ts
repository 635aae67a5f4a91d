/**
 * One campaign run against one target: start the cluster, run the clients
 * and the fault schedule, heal everything, wait until the cluster
 * converged, read every key once more, and check what the clients saw.
 *
 * @module
 */

import type { Operation } from "../kv/linearizability.ts";
import { checkRun, recoveries, type Recovery, type Verdicts } from "./check.ts";
import { Cluster, type Member } from "./cluster.ts";
import { poll } from "./fault_context.ts";
import type { LanView } from "./lan.ts";
import { LeaderTracker } from "./leader.ts";
import { Nemesis } from "./nemesis.ts";
import { hookBackend, Partitions, routeBackend } from "./partition.ts";
import { type FaultKind, type FaultPlan, makeSchedule } from "./schedule.ts";
import type { Target } from "./target.ts";
import { type OpMeta, Timeline } from "./timeline.ts";
import { type OpCounts, Workload } from "./workload.ts";

/** What one run is made of. */
export interface CampaignOptions {
  target: Target;
  seed: number;
  /** Length of the faulty part, ms. */
  runMs: number;
  members: number;
  kinds: readonly FaultKind[];
  /** Members run in this LAN's namespaces; absent: on 127.0.0.1 (partitions by hooks). */
  lan?: LanView;
  clients?: number;
  /** Operations per second per client (default 25). */
  rate?: number;
  /** Progress lines. */
  log?: (line: string) => void;
  /** Ends the run early (its faults are healed and it is checked as usual). */
  signal?: AbortSignal;
}

/** Everything a run produced, for the checks and the report. */
export interface RunResult {
  target: string;
  seed: number;
  members: number;
  runMs: number;
  net: "netns" | "loopback";
  supports: FaultKind[];
  plans: FaultPlan[];
  timeline: Timeline;
  history: Operation[];
  meta: OpMeta[];
  counts: OpCounts;
  ackedOwn: number;
  verdicts: Verdicts;
  recovery: Recovery[];
  /** Per slot, the ids of the members that lived there. */
  slotMembers: number[][];
  /** When the last fault was healed, ms into the run. */
  healedAt: number;
  /** Problems of liveness: no convergence after the last heal, reads that failed at the end. */
  liveness: string[];
  wallMs: number;
}

const SENTINEL = "/_nemesis-sentinel";

/**
 * A write acknowledged by some live member, then read back on every live
 * member; written again (a new value) when it is not readable everywhere
 * within 5 s (an acknowledgement before commit, as raftexample's, can be lost).
 */
async function converge(c: Cluster, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  for (let attempt = 1; performance.now() < end; attempt++) {
    const value = `s${attempt}`;
    let written = false;
    for (const m of c.live()) {
      written = await c.target.put(m, SENTINEL, value, 3000) === "ok";
      if (written) break;
    }
    if (!written) {
      await new Promise((r) => setTimeout(r, 300));
      continue;
    }
    const everywhere = await poll(Math.min(5000, end - performance.now()), async () => {
      const reads = await Promise.all(c.live().map((m) => c.target.get(m, SENTINEL, 3000)));
      return reads.every((r) => r === value) ? true : undefined;
    });
    if (everywhere) return true;
  }
  return false;
}

/** Starts the first `n` slots' members; throws with their output when no write gets through. */
async function startCluster(c: Cluster, n: number): Promise<void> {
  const first: Member[] = [];
  for (let slot = 1; slot <= n; slot++) {
    const m = c.create(slot);
    c.place(m);
    first.push(m);
  }
  for (const m of first) c.start(m);
  if (!await converge(c, 60_000)) {
    throw new Error(`${c.target.name}: no write got through the new cluster in 60 s\n${c.logs()}`);
  }
}

/** After the heal: members that died on their own run again; paused ones go on. */
function restoreAll(c: Cluster): void {
  for (const slot of c.activeSlots()) {
    const m = c.at(slot)!;
    if (m.proc?.paused) m.proc.signal("SIGCONT");
    if (m.proc === undefined || !m.proc.running) c.start(m);
  }
}

/**
 * Reads every shared key and every own key on every live member (each read
 * retried up to 3 times there), all into the history: members whose state
 * machines diverged (one applied an entry the cluster's log lost) then
 * read differently, which the checker sees. A key's found value is the
 * one every member read, else one that differs from the acknowledged
 * value (undefined: no member answered).
 */
async function finalReads(
  w: Workload,
  keys: string[],
): Promise<Map<string, string | null | undefined>> {
  const found = new Map<string, string | null | undefined>();
  const queue = [...keys, ...w.ackedOwn.keys()];
  const worker = async () => {
    for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
      const own = key.startsWith("/own-");
      const reads: (string | null)[] = [];
      for (const m of w.cluster.live()) {
        let r: string | null | undefined;
        for (let attempt = 0; attempt < 3 && r === undefined; attempt++) {
          r = await w.get(0, m.slot, key, own);
        }
        if (r !== undefined) reads.push(r);
      }
      const acked = w.ackedOwn.get(key);
      found.set(
        key,
        reads.length === 0 ? undefined : reads.find((r) => r !== (acked ?? reads[0])) ?? reads[0],
      );
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return found;
}

/** Runs the campaign `o` describes; always stops every member and removes their data. */
export async function runCampaign(o: CampaignOptions): Promise<RunResult> {
  const began = performance.now();
  const root = await Deno.makeTempDir({ prefix: `nemesis-${o.target.name}-` });
  const cluster = new Cluster(o.target, root, o.lan, o.members + 2);
  const stop = new AbortController();
  const parts: Partial<Running> = {};
  try {
    o.log?.(
      `${o.target.name}: starting ${o.members} members (${o.lan ? "namespaces" : "127.0.0.1"})`,
    );
    await startCluster(cluster, o.members);
    const run = begin(o, cluster, stop.signal, parts);
    o.log?.(
      `${o.target.name}: traffic and ${run.plans.length} planned faults for ${o.runMs / 1000} s`,
    );
    await sleepOrAbort(o.runMs, o.signal);
    await run.nemesis.healAll();
    restoreAll(cluster);
    const liveness: string[] = [];
    const healedAt = run.timeline.now();
    if (!await converge(cluster, 60_000)) {
      liveness.push(`no convergence within 60 s after the final heal (at ${fmt(healedAt)})`);
    }
    await sleepOrAbort(2000, o.signal);
    stop.abort();
    await run.clients;
    const found = await finalReads(run.w, run.keys);
    await run.tracker.stop();
    const failed = [...found].filter(([, v]) => v === undefined).map(([k]) => k);
    if (failed.length > 0) liveness.push(`${failed.length} final reads failed (e.g. ${failed[0]})`);
    const history = run.w.history.operations();
    o.log?.(`${o.target.name}: checking ${history.length} operations`);
    return {
      target: o.target.name,
      seed: o.seed,
      members: o.members,
      runMs: o.runMs,
      net: o.lan ? "netns" : "loopback",
      supports: [...run.supports],
      plans: run.plans,
      timeline: run.timeline,
      history,
      meta: run.w.meta,
      counts: run.w.counts,
      ackedOwn: run.w.ackedOwn.size,
      verdicts: checkRun(history, run.w.ackedOwn, found),
      recovery: recoveries(run.timeline.faults, history),
      slotMembers: cluster.slotIds.map((_, i) =>
        [...cluster.byId.values()].filter((m) => m.slot === i + 1 && m.proc).map((m) => m.id)
      ),
      liveness,
      healedAt,
      wallMs: performance.now() - began,
    };
  } finally {
    stop.abort();
    await parts.nemesis?.healAll().catch(() => {});
    await parts.clients;
    await parts.tracker?.stop();
    await cluster.close();
  }
}

/** The parts of a run in progress (kept by the caller, to be stopped however the run ends). */
interface Running {
  plans: FaultPlan[];
  supports: Set<FaultKind>;
  timeline: Timeline;
  keys: string[];
  w: Workload;
  tracker: LeaderTracker;
  nemesis: Nemesis;
  clients: Promise<void>;
}

/** Starts the clients, the leader tracker and the faults; fills `parts` as it goes. */
function begin(
  o: CampaignOptions,
  cluster: Cluster,
  stop: AbortSignal,
  parts: Partial<Running>,
): Running {
  const supports = new Set(
    [...o.target.supports(o.lan !== undefined)].filter((k) => o.kinds.includes(k)),
  );
  const plans = makeSchedule({ seed: o.seed, runMs: o.runMs, kinds: o.kinds });
  const timeline = new Timeline();
  cluster.onUnexpectedExit = (m, code) =>
    timeline.exits.push({
      t: timeline.now(),
      id: m.id,
      slot: m.slot,
      code,
      tail: m.proc?.tail(15) ?? [],
    });
  const keys = ["/k1", "/k2", "/k3"];
  const w = new Workload(cluster, timeline, {
    clients: o.clients ?? 4,
    keys,
    rate: o.rate ?? 25,
    timeoutMs: 4000,
    seed: o.seed,
  });
  const tracker = parts.tracker = new LeaderTracker(cluster, timeline);
  const partitions = o.lan
    ? new Partitions(routeBackend(o.lan), false)
    : new Partitions(hookBackend(cluster), true);
  const nemesis = parts.nemesis = new Nemesis(
    {
      cluster,
      partitions,
      lan: o.lan,
      busy: new Set(),
      slowed: new Set(),
      leaderId: () => tracker.current,
      started: (m) => void partitions.reapply(m.slot).catch(() => {}),
    },
    supports,
    timeline,
  );
  const clients = parts.clients = w.run(stop);
  nemesis.start(plans);
  return { plans, supports, timeline, keys, w, tracker, nemesis, clients };
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function sleepOrAbort(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => (clearTimeout(t), signal?.removeEventListener("abort", done), resolve());
    const t = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
