// Network faults: partitions of several shapes (through routes on the LAN,
// or the transport's hooks) and slow links (tc tbf, on the LAN only).

import type { FaultContext, FaultFn } from "./fault_context.ts";
import { link, slowLink } from "./lan.ts";
import { across } from "./partition.ts";
import type { Rng } from "./rng.ts";
import type { FaultPlan } from "./schedule.ts";

interface Sides {
  pairs: [number, number][];
  /** Who can still talk to whom: the parts (a bridging member is in two). */
  groups: number[][];
  label: string;
  /** The slot whose link goes down (shape "link" on the LAN). */
  down?: number;
}

const list = (s: number[]) => s.join(",");

function leaderSlot(ctx: FaultContext): number | undefined {
  const id = ctx.leaderId();
  return id === undefined ? undefined : ctx.cluster.byId.get(id)?.slot;
}

/** The slots on each side for `plan`'s shape, the leader placed as the shape wants. */
function sides(ctx: FaultContext, plan: FaultPlan, rng: Rng): Sides {
  const slots = rng.shuffle(ctx.cluster.activeSlots());
  const lead = leaderSlot(ctx);
  if (lead !== undefined && slots.includes(lead) && (plan.shape !== "halves" || rng.chance(0.5))) {
    slots.splice(slots.indexOf(lead), 1); // the leader first: in the minority / alone
    slots.unshift(lead);
  }
  const n = slots.length;
  switch (plan.shape) {
    case "leader":
    case "link": {
      const [one, ...rest] = slots;
      const byLink = plan.shape === "link" && ctx.lan !== undefined;
      const down = byLink && !ctx.partitions.downLinks.has(one) ? one : undefined;
      const what = one === lead ? "leader" : "member";
      const label = `${what} slot ${one} | ${list(rest)}`;
      return { pairs: across([one], rest), groups: [[one], rest], label, down };
    }
    case "bridge": {
      const k = Math.floor((n - 1) / 2);
      const [a, b, c] = [slots.slice(0, k), slots[k], slots.slice(k + 1)];
      const label = `${list(a)} | ${list(c)}, slot ${b} bridges`;
      return { pairs: across(a, c), groups: [[...a, b], [b, ...c]], label };
    }
    default: {
      const k = rng.between(1, Math.max(1, Math.floor((n - 1) / 2)));
      const [minority, majority] = [slots.slice(0, k), slots.slice(k)];
      const label = `${list(minority)} | ${list(majority)}`;
      return { pairs: across(minority, majority), groups: [minority, majority], label };
    }
  }
}

/** A partition of the plan's shape; healed by mending what it cut. */
export const partition: FaultFn = async (ctx, plan, rng) => {
  if (ctx.cluster.activeSlots().length < 2) return { skipped: "fewer than two members" };
  const s = sides(ctx, plan, rng);
  ctx.partitions.sides.set(plan.n, s.groups);
  const how = ctx.partitions.byHooks ? "hooks" : "routes";
  if (s.down !== undefined) {
    ctx.partitions.downLinks.add(s.down);
    await link(ctx.lan!, s.down, false);
  } else await ctx.partitions.cut(s.pairs);
  const slots = s.down !== undefined
    ? [s.down]
    : [...new Set(s.pairs.flat())].sort((a, b) => a - b);
  return {
    slots,
    detail: s.down !== undefined
      ? `link of slot ${s.down} down at the bridge`
      : `${plan.shape} partition ${s.label} (${how})`,
    heal: async () => {
      ctx.partitions.sides.delete(plan.n);
      if (s.down === undefined) return await ctx.partitions.mend(s.pairs);
      await link(ctx.lan!, s.down, true);
      ctx.partitions.downLinks.delete(s.down);
    },
  };
};

/** A slow link (256 kbit/s token bucket, both ways) on one member's slot. */
export const slow: FaultFn = async (ctx, plan, rng) => {
  if (ctx.lan === undefined) return { skipped: "slow links need network namespaces" };
  const lead = leaderSlot(ctx);
  const free = ctx.cluster.activeSlots().filter((s) => !ctx.slowed.has(s));
  if (free.length === 0) return { skipped: "every slot is slowed already" };
  const slot = plan.leader && lead !== undefined && free.includes(lead) ? lead : rng.pick(free);
  ctx.slowed.add(slot);
  await slowLink(ctx.lan, slot, true);
  return {
    slots: [slot],
    detail: `tbf 256kbit on slot ${slot}${slot === lead ? " (leader)" : ""}`,
    heal: async () => {
      await slowLink(ctx.lan!, slot, false);
      ctx.slowed.delete(slot);
    },
  };
};
