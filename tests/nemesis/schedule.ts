/**
 * The fault schedule of a campaign: which fault starts when, for how long,
 * aimed at whom. It is a pure function of a seed and the options, so
 * `--seed S` replays the same schedule; what depends on the cluster at run
 * time (who leads, which members are free) is decided then from each
 * fault's own `seed`, the same way each time.
 *
 * @module
 */

import { Rng } from "./rng.ts";

/** Every fault the campaign knows; a target says which of them it supports. */
export const FAULT_KINDS = [
  "kill", // SIGKILL one member, restart it from its data directory later
  "crash", // SIGKILL a majority (or all) at once, restart them later: a power cut
  "amnesia", // cut a minority off, power-cut the leader's side, restart it with the leader last
  "pause", // SIGSTOP one member (often the leader), SIGCONT later
  "partition", // cut the network into parts (see PartitionShape), heal later
  "slow", // a token-bucket (tc tbf) link on one member, removed later
  "transfer", // ask for a leadership transfer to another member
  "member", // remove a member, add it back under a new id with an empty data directory
  "joint", // replace two members at once through one joint-consensus change
  "snapshot", // force a snapshot on a member now
  "fsync", // the member's next fsync fails: it stops itself; restarted later
  "tear", // the member's next log sync writes part of its batch and the process dies
  "slowdisk", // every fsync of the followers waits 50-250 ms (what acks wait on grows)
] as const;

/** One kind of fault. */
export type FaultKind = typeof FAULT_KINDS[number];

/** How a partition splits the members. */
export type PartitionShape =
  | "halves" // a majority and a minority (the leader on either side)
  | "leader" // the leader alone against the rest
  | "bridge" // two sides that cannot talk, and one member that talks to both
  | "link"; // one member's link down: neither members nor clients reach it

/** One planned fault. */
export interface FaultPlan {
  /** 1-based position in the schedule. */
  n: number;
  kind: FaultKind;
  /** Start, ms after the campaign's traffic started. */
  at: number;
  /** How long until it is healed, ms (0: a one-off action). */
  durationMs: number;
  /** Aimed at the leader of the moment (else a member picked from `seed`). */
  leader: boolean;
  /** For partitions. */
  shape?: PartitionShape;
  /** Seed of the run-time choices (which member, which sides). */
  seed: number;
}

/** What the schedule is made from. */
export interface ScheduleOptions {
  seed: number;
  /** Length of the faulty part of the run, ms. */
  runMs: number;
  /** Kinds to draw from (default all). */
  kinds?: readonly FaultKind[];
  /** No fault starts before this, ms (default 3000). */
  warmupMs?: number;
  /** Every fault is healed this long before the end, ms (default 4000). */
  cooldownMs?: number;
  /** At most this many faults at once (default 3). */
  maxActive?: number;
  /** Time between fault starts, ms (default [1000, 5000]). */
  gapMs?: [number, number];
}

/** Per kind: relative frequency, duration range in ms, share aimed at the leader. */
const KIND_PROFILE: Record<FaultKind, { weight: number; ms: [number, number]; leader: number }> = {
  kill: { weight: 3, ms: [1000, 6000], leader: 0.5 },
  crash: { weight: 1, ms: [1000, 4000], leader: 0 },
  amnesia: { weight: 1, ms: [1000, 3000], leader: 0 },
  pause: { weight: 3, ms: [1000, 5000], leader: 0.5 },
  partition: { weight: 3, ms: [2000, 8000], leader: 0 },
  slow: { weight: 1, ms: [3000, 10000], leader: 0.5 },
  transfer: { weight: 2, ms: [0, 0], leader: 0 },
  member: { weight: 1, ms: [1000, 4000], leader: 0.3 },
  joint: { weight: 1, ms: [0, 0], leader: 0.3 },
  snapshot: { weight: 2, ms: [0, 0], leader: 0.5 },
  fsync: { weight: 1, ms: [1000, 4000], leader: 0.5 },
  tear: { weight: 1, ms: [1000, 4000], leader: 0.5 },
  slowdisk: { weight: 1, ms: [3000, 10000], leader: 0 },
};

const SHAPES: readonly PartitionShape[] = ["halves", "leader", "bridge", "link"];

function weighted(rng: Rng, kinds: readonly FaultKind[]): FaultKind {
  const total = kinds.reduce((s, k) => s + KIND_PROFILE[k].weight, 0);
  let x = rng.next() * total;
  for (const k of kinds) {
    x -= KIND_PROFILE[k].weight;
    if (x < 0) return k;
  }
  return kinds[kinds.length - 1];
}

/**
 * The schedule for `o`: every kind in `o.kinds` once first (in a seeded
 * order, so a short run still sees them all), then kinds drawn by weight;
 * faults overlap, at most `maxActive` at a time, all healed by the cooldown.
 *
 * @example
 * ```ts
 * import { makeSchedule } from "./schedule.ts";
 * const a = makeSchedule({ seed: 7, runMs: 60_000 });
 * const b = makeSchedule({ seed: 7, runMs: 60_000 });
 * console.log(JSON.stringify(a) === JSON.stringify(b)); // true
 * ```
 */
export function makeSchedule(o: ScheduleOptions): FaultPlan[] {
  const kinds = o.kinds ?? FAULT_KINDS;
  if (kinds.length === 0) return [];
  const rng = new Rng(o.seed ^ 0x5eed_f417);
  const end = o.runMs - (o.cooldownMs ?? 4000);
  const maxActive = o.maxActive ?? 3;
  const [gapLo, gapHi] = o.gapMs ?? [1000, 5000];
  const firstPass = rng.shuffle(kinds);
  const plans: FaultPlan[] = [];
  let active: number[] = [];
  let t = o.warmupMs ?? 3000;
  while (t < end) {
    active = active.filter((e) => e > t);
    if (active.length >= maxActive) {
      t = Math.min(...active);
      continue;
    }
    const kind = firstPass.shift() ?? weighted(rng, kinds);
    const p = KIND_PROFILE[kind];
    if (t + p.ms[0] > end) break;
    const durationMs = Math.min(rng.between(p.ms[0], p.ms[1]), end - t);
    const plan: FaultPlan = {
      n: plans.length + 1,
      kind,
      at: t,
      durationMs,
      leader: rng.chance(p.leader),
      seed: rng.u32(),
    };
    if (kind === "partition") plan.shape = rng.pick(SHAPES);
    plans.push(plan);
    if (durationMs > 0) active.push(t + durationMs);
    t += rng.between(gapLo, gapHi);
  }
  return plans;
}

/**
 * Parses a `--faults` list ("kill,pause,partition"); throws naming an unknown kind.
 *
 * @example
 * ```ts
 * import { parseKinds } from "./schedule.ts";
 * console.log(parseKinds("kill,pause")); // [ "kill", "pause" ]
 * ```
 */
export function parseKinds(list: string): FaultKind[] {
  const out: FaultKind[] = [];
  for (const raw of list.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
    if (!(FAULT_KINDS as readonly string[]).includes(raw)) {
      throw new Error(`unknown fault kind "${raw}"; known: ${FAULT_KINDS.join(", ")}`);
    }
    out.push(raw as FaultKind);
  }
  return out;
}
