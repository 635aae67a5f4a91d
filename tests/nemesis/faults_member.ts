// Faults through a target's hooks: leadership transfers, forced snapshots,
// a member removed and added back under a new id with an empty data
// directory, and two members replaced at once through joint consensus.

import type { Member } from "./cluster.ts";
import { type FaultContext, type FaultFn, freeMembers, pickMember, poll } from "./fault_context.ts";

/** A live member other than those in `not`, the leader when it qualifies. */
function via(ctx: FaultContext, not: Member[]): Member | undefined {
  const ok = ctx.cluster.live().filter((m) => !not.includes(m));
  return ok.find((m) => m.id === ctx.leaderId()) ?? ok[0];
}

/** Whether the voters some live member reports satisfy `want`, within `ms`. */
async function votersSettle(
  ctx: FaultContext,
  not: Member[],
  ms: number,
  want: (v: number[]) => boolean,
) {
  const voters = ctx.cluster.target.hooks.voters!;
  return await poll(ms, async () => {
    const v = via(ctx, not);
    const list = v === undefined ? undefined : await voters(v);
    return list !== undefined && want(list) ? true : undefined;
  }) ?? false;
}

/** Asks the leader to hand leadership to another live member. */
export const transfer: FaultFn = async (ctx, _plan, rng) => {
  const hook = ctx.cluster.target.hooks.transfer;
  if (hook === undefined) return { skipped: "the target has no transfer hook" };
  const lead = ctx.leaderId();
  const others = ctx.cluster.live().filter((m) => m.id !== lead);
  const from = ctx.cluster.live().find((m) => m.id === lead);
  if (from === undefined || others.length === 0) return { skipped: "no leader or no other member" };
  const to = rng.pick(others);
  const ok = await hook(from, to.id);
  return ok
    ? { slots: [from.slot, to.slot], detail: `transfer leadership ${from.id} -> ${to.id}` }
    : { skipped: `member ${from.id} refused the transfer` };
};

/** Forces a snapshot on one member (the leader, when the plan says so). */
export const snapshot: FaultFn = async (ctx, plan, rng) => {
  const hook = ctx.cluster.target.hooks.snapshot;
  if (hook === undefined) return { skipped: "the target has no snapshot hook" };
  const m = pickMember(ctx, plan, rng);
  if (m === undefined) return { skipped: "no free running member" };
  return await hook(m)
    ? { slots: [m.slot], detail: `snapshot forced on member ${m.id}` }
    : { skipped: `member ${m.id} refused the snapshot` };
};

/** Removes a member (it exits by itself); at the heal a new id joins in its slot, empty. */
export const member: FaultFn = async (ctx, plan, rng) => {
  const h = ctx.cluster.target.hooks;
  if (h.remove === undefined || h.add === undefined || h.voters === undefined) {
    return { skipped: "the target has no membership API" };
  }
  const m = pickMember(ctx, plan, rng);
  const v = m && via(ctx, [m]);
  if (m === undefined || v === undefined) return { skipped: "no free member to remove" };
  ctx.busy.add(m.slot);
  m.proc!.expectExit = true;
  const asked = await h.remove(v, m.id);
  const gone = await votersSettle(ctx, [m], asked ? 3000 : 8000, (l) => !l.includes(m.id));
  if (!gone) {
    m.proc!.expectExit = false;
    ctx.busy.delete(m.slot);
    return { skipped: `removing member ${m.id} was not confirmed` };
  }
  ctx.cluster.vacate(m.slot);
  const exited = await m.proc!.exitWithin(10_000);
  if (!exited) await ctx.cluster.kill(m);
  return {
    slots: [m.slot],
    detail: `remove member ${m.id}${exited ? "" : " (did not exit by itself: killed)"}`,
    heal: async () => {
      const fresh = ctx.cluster.create(m.slot);
      const known = await poll(20_000, async () => {
        const w = via(ctx, []);
        if (w === undefined) return undefined;
        if (await h.add!(w, fresh.id, fresh.peerUrl)) return true;
        return (await h.voters!(w))?.includes(fresh.id) ? true : undefined;
      }) ?? false;
      ctx.cluster.place(fresh);
      ctx.cluster.start(fresh, true);
      ctx.started(fresh);
      ctx.busy.delete(m.slot);
      return `member ${fresh.id} joins in slot ${m.slot}${
        known ? "" : " (its addition unconfirmed)"
      }`;
    },
  };
};

/** Replaces two members by two new ones in spare slots, in one joint-consensus change. */
export const joint: FaultFn = async (ctx, plan, rng) => {
  const hook = ctx.cluster.target.hooks.joint;
  if (hook === undefined) return { skipped: "the target has no joint-change hook" };
  const spares = ctx.cluster.spareSlots();
  const free = freeMembers(ctx);
  if (spares.length < 2 || free.length < 3) {
    return { skipped: "too few spare slots or free members" };
  }
  const first = pickMember(ctx, plan, rng)!;
  const out = [first, rng.pick(free.filter((m) => m !== first))];
  const v = via(ctx, out);
  if (v === undefined) return { skipped: "no member to ask" };
  for (const m of out) ctx.busy.add(m.slot);
  const fresh = spares.slice(0, 2).map((s) => ctx.cluster.create(s));
  for (const s of fresh) ctx.busy.add(s.slot);
  const release = () => [...out, ...fresh].forEach((m) => ctx.busy.delete(m.slot));
  for (const m of out) m.proc!.expectExit = true;
  const ok = await hook(v, fresh, out.map((m) => m.id)) ||
    await votersSettle(ctx, out, 8000, (l) => fresh.every((f) => l.includes(f.id)));
  if (!ok) {
    for (const m of out) m.proc!.expectExit = false;
    release();
    return { skipped: `the joint change at member ${v.id} was not confirmed` };
  }
  for (const f of fresh) {
    ctx.cluster.place(f);
    ctx.cluster.start(f, true);
    ctx.started(f);
  }
  const exits = await Promise.all(out.map(async (m) => {
    ctx.cluster.vacate(m.slot);
    const exited = await m.proc!.exitWithin(15_000);
    if (!exited) await ctx.cluster.kill(m);
    return exited ? "" : ` (${m.id} killed: did not exit)`;
  }));
  release();
  const ids = (ms: Member[]) => ms.map((m) => m.id).join(",");
  return {
    slots: [...out, ...fresh].map((m) => m.slot),
    detail: `joint change: ${ids(out)} out, ${ids(fresh)} in${exits.join("")}`,
  };
};
