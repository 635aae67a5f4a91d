// A power cut that can make a cluster forget: a minority is cut off for a
// moment, so that only the leader's side holds the latest entries; that
// side loses power at once; the cut is mended; the side comes back with
// its leader last, so that the others may elect a leader without it. A
// member that acknowledged entries it had not fsynced (with --lazy-disk,
// what was not fsynced is lost at a SIGKILL) makes acknowledged writes
// disappear here; a correct one does not.

import { type FaultFn, freeMembers, restartLeaderLast } from "./fault_context.ts";
import { across } from "./partition.ts";

/** How long the minority is cut off before the power cut, ms. */
const LAG_MS = 1500;

/** See the module comment. */
export const amnesia: FaultFn = async (ctx, plan, rng) => {
  const active = ctx.cluster.activeSlots();
  const free = freeMembers(ctx);
  const lead = free.find((m) => m.id === ctx.leaderId());
  const k = Math.floor((active.length - 1) / 2);
  if (lead === undefined || free.length < active.length) {
    return { skipped: "needs a known leader and every member free" };
  }
  const behind = rng.shuffle(free.filter((m) => m !== lead)).slice(0, k).map((m) => m.slot);
  const side = active.filter((s) => !behind.includes(s));
  const pairs = across(behind, side);
  const victims = free.filter((m) => side.includes(m.slot));
  for (const m of victims) ctx.busy.add(m.slot); // before the wait: no other fault takes them
  await ctx.partitions.cut(pairs);
  ctx.partitions.sides.set(plan.n, [behind, side]);
  await new Promise((r) => setTimeout(r, LAG_MS));
  await Promise.all(victims.map((m) => ctx.cluster.kill(m)));
  ctx.partitions.sides.delete(plan.n);
  await ctx.partitions.mend(pairs);
  return {
    slots: victims.map((m) => m.slot),
    detail: `slots ${behind.join(",")} cut off ${LAG_MS} ms, then SIGKILL members ` +
      `${victims.map((m) => m.id).join(",")} at once (leader ${lead.id} restarts last)`,
    heal: () => restartLeaderLast(ctx, victims, lead),
  };
};
