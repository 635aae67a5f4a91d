// Faults on member processes: SIGKILL and restart, a power cut of a
// majority, SIGSTOP/SIGCONT, and the disk faults a member's test hooks arm
// (a failed fsync stops it; a torn log sync kills it), restarted later.

import type { Member } from "./cluster.ts";
import type { Rng } from "./rng.ts";
import {
  type FaultContext,
  type FaultFn,
  freeMembers,
  pickMember,
  restart,
  restartLeaderLast,
} from "./fault_context.ts";

/** SIGKILL one member; restarted from its data directory at the heal. */
export const kill: FaultFn = async (ctx, plan, rng) => {
  const m = pickMember(ctx, plan, rng);
  if (m === undefined) return { skipped: "no free running member" };
  const wasLeader = m.id === ctx.leaderId();
  ctx.busy.add(m.slot);
  await ctx.cluster.kill(m);
  return {
    slots: [m.slot],
    detail: `SIGKILL member ${m.id}${wasLeader ? " (leader)" : ""}`,
    heal: () => {
      restart(ctx, [m]);
      return Promise.resolve();
    },
  };
};

/**
 * Who a power cut hits: when a partition is in force, the side that holds
 * the leader (the members that acknowledged its latest entries); else every
 * member, or a majority with the leader in it.
 */
function crashVictims(ctx: FaultContext, rng: Rng, majority: number): Member[] {
  const free = freeMembers(ctx);
  const lead = free.find((m) => m.id === ctx.leaderId());
  const side = lead && [...ctx.partitions.sides.values()].flat().find((g) => g.includes(lead.slot));
  if (side !== undefined && side.length >= majority) {
    return free.filter((m) => side.includes(m.slot));
  }
  if (rng.chance(0.5)) return rng.shuffle(free);
  const others = rng.shuffle(free.filter((m) => m !== lead));
  return lead ? [lead, ...others.slice(0, majority - 1)] : others.slice(0, majority);
}

/**
 * SIGKILL a majority or every member at once (a power cut, see
 * crashVictims); at the heal they restart, the old leader a while after
 * the others (so that they may elect one without it).
 */
export const crash: FaultFn = async (ctx, _plan, rng) => {
  const majority = Math.floor(ctx.cluster.activeSlots().length / 2) + 1;
  const victims = crashVictims(ctx, rng, majority);
  if (victims.length < majority) return { skipped: `fewer than ${majority} free members` };
  const lead = victims.find((m) => m.id === ctx.leaderId());
  for (const m of victims) ctx.busy.add(m.slot);
  await Promise.all(victims.map((m) => ctx.cluster.kill(m)));
  return {
    slots: victims.map((m) => m.slot),
    detail: `SIGKILL members ${victims.map((m) => m.id).join(",")} at once` +
      (lead ? ` (leader ${lead.id} restarts last)` : ""),
    heal: () => restartLeaderLast(ctx, victims, lead),
  };
};

/** SIGSTOP one member (the leader, when the plan says so); SIGCONT at the heal. */
export const pause: FaultFn = (ctx, plan, rng) => {
  const m = pickMember(ctx, plan, rng);
  if (m === undefined) return Promise.resolve({ skipped: "no free running member" });
  const wasLeader = m.id === ctx.leaderId();
  ctx.busy.add(m.slot);
  m.proc!.signal("SIGSTOP");
  return Promise.resolve({
    slots: [m.slot],
    detail: `SIGSTOP member ${m.id}${wasLeader ? " (leader)" : ""}`,
    heal: () => {
      m.proc!.signal("SIGCONT");
      ctx.busy.delete(m.slot);
      return Promise.resolve();
    },
  });
};

function diskFault(kind: "fail-fsync" | "tear"): FaultFn {
  return async (ctx, plan, rng) => {
    const disk = ctx.cluster.target.hooks.disk;
    if (disk === undefined) return { skipped: "the target has no disk hooks" };
    const m = pickMember(ctx, plan, rng);
    if (m === undefined) return { skipped: "no free running member" };
    ctx.busy.add(m.slot);
    m.proc!.expectExit = true; // it will stop itself
    let armed = false;
    try {
      armed = await disk(m, kind);
    } finally {
      if (!armed) {
        m.proc!.expectExit = false;
        ctx.busy.delete(m.slot);
      }
    }
    if (!armed) return { skipped: `member ${m.id} did not take /_test/disk/${kind}` };
    const stopped = await m.proc!.exitWithin(10_000);
    if (!stopped) await ctx.cluster.kill(m);
    return {
      slots: [m.slot],
      detail: `${kind} on member ${m.id}: ${
        stopped ? "it stopped itself" : "no sync in 10 s, killed"
      }`,
      heal: () => {
        restart(ctx, [m]);
        return Promise.resolve();
      },
    };
  };
}

/** The next fsync of a member fails: it must stop itself; restarted at the heal. */
export const fsync: FaultFn = diskFault("fail-fsync");
/** The next log sync of a member writes part of its batch and the process dies. */
export const tear: FaultFn = diskFault("tear");

/**
 * A slow disk on every free follower: each fsync waits 50-250 ms (drawn
 * once) until the heal. With a lazy disk, what a follower acknowledged
 * stays that long in memory only if it acknowledges before its fsync (the
 * planted ack-before-fsync), so that a power cut meanwhile loses it.
 */
export const slowdisk: FaultFn = async (ctx, _plan, rng) => {
  const slow = ctx.cluster.target.hooks.slowDisk;
  if (slow === undefined) return { skipped: "the target has no slow-disk hook" };
  const followers = freeMembers(ctx).filter((m) => m.id !== ctx.leaderId());
  if (followers.length === 0) return { skipped: "no free running follower" };
  const ms = 50 + Math.floor(rng.next() * 201);
  const took = (await Promise.all(followers.map((m) => slow(m, ms)))).every(Boolean);
  if (!took) return { skipped: "a member did not take /_test/disk/slow" };
  return {
    slots: followers.map((m) => m.slot),
    detail: `fsyncs wait ${ms} ms on members ${followers.map((m) => m.id).join(",")}`,
    heal: async () => {
      // A member killed meanwhile restarts with a fast disk; the others are set back.
      await Promise.all(followers.map((m) => m.proc?.running ? slow(m, 0) : true));
    },
  };
};
