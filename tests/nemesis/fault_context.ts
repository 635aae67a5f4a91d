// What every fault works with: the cluster, the partitions in force, the
// slots other faults hold, the leader of the moment; and what a fault
// returns: what it did and how to heal it, or why it was skipped.

import type { Cluster, Member } from "./cluster.ts";
import type { LanView } from "./lan.ts";
import type { Partitions } from "./partition.ts";
import type { Rng } from "./rng.ts";
import type { FaultPlan } from "./schedule.ts";

/** The state faults share during a run. */
export interface FaultContext {
  cluster: Cluster;
  partitions: Partitions;
  /** The LAN when members run in namespaces. */
  lan?: LanView;
  /** Slots whose member a process, disk or membership fault holds. */
  busy: Set<number>;
  /** Slots with a slow link. */
  slowed: Set<number>;
  /** The leader's id as last seen. */
  leaderId(): number | undefined;
  /** To call after any (re)start of a member: partitions by hooks are applied again. */
  started(m: Member): void;
  /** Waits `ms`, or less when the campaign heals everything early. */
  sleep(ms: number): Promise<void>;
}

/** A fault that took place: the slots it touched, what it did, how to heal it. */
export interface Applied {
  slots: number[];
  detail: string;
  /** Undoes it; may return a note on how the healing went. */
  heal?: () => Promise<string | void>;
}

/** A fault's result: applied, or skipped with the reason. */
export type FaultResult = Applied | { skipped: string };

/** Applies one planned fault. */
export type FaultFn = (ctx: FaultContext, plan: FaultPlan, rng: Rng) => Promise<FaultResult>;

/** Running members no other fault holds. */
export function freeMembers(ctx: FaultContext): Member[] {
  return ctx.cluster.live().filter((m) => !ctx.busy.has(m.slot));
}

/** A free member: the leader when the plan aims at it and it is free, else one at random. */
export function pickMember(ctx: FaultContext, plan: FaultPlan, rng: Rng): Member | undefined {
  const free = freeMembers(ctx);
  const choice = free.length === 0 ? undefined : rng.pick(free);
  if (plan.leader) {
    const lead = free.find((m) => m.id === ctx.leaderId());
    if (lead !== undefined) return lead;
  }
  return choice;
}

/** Polls `check` every 200 ms for up to `ms`; its first defined answer, or undefined. */
export async function poll<T>(ms: number, check: () => Promise<T | undefined>) {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const v = await check();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  return undefined;
}

/**
 * How long after the others the old leader restarts: longer than an
 * election of ours (10 ticks of 100 ms, up to twice that, and PreVote), so
 * that the others may elect a leader without what only it holds, which is
 * where an acknowledgement that was not durable on a quorum shows.
 */
export const LEADER_LATE_MS = 5000;

/** Starts killed members again (not one replaced meanwhile) and frees their slots. */
export function restart(ctx: FaultContext, ms: readonly Member[]): void {
  for (const m of ms) {
    ctx.busy.delete(m.slot);
    if (ctx.cluster.at(m.slot) !== m) continue; // replaced meanwhile
    ctx.cluster.start(m);
    ctx.started(m);
  }
}

/** The heal of a power cut: `victims` restart, the old leader {@link LEADER_LATE_MS} later. */
export async function restartLeaderLast(
  ctx: FaultContext,
  victims: readonly Member[],
  lead: Member | undefined,
): Promise<void> {
  restart(ctx, victims.filter((m) => m !== lead));
  if (lead === undefined) return;
  await new Promise((r) => setTimeout(r, LEADER_LATE_MS));
  restart(ctx, [lead]);
}
