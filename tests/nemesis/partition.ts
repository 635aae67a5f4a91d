// Partitions as sets of cut slot pairs, counted: overlapping partitions
// cut a pair once and mend it when the last of them heals. A backend does
// the cutting: blackhole routes in the members' namespaces, or the
// transport's cut/mend test hooks (which a restarted member has forgotten,
// so they are applied to it again).

import type { Cluster } from "./cluster.ts";
import { blackhole, type LanView } from "./lan.ts";

/** Cuts or mends the traffic between two slots, both ways; false if a side did not answer. */
export type CutBackend = (a: number, b: number, on: boolean) => Promise<boolean | void>;

/** A backend of blackhole routes on the LAN. */
export function routeBackend(v: LanView): CutBackend {
  return (a, b, on) => blackhole(v, a, b, on);
}

/** A backend of test hooks: each side drops the other's raft traffic (failures ignored). */
export function hookBackend(c: Cluster): CutBackend {
  return async (a, b, on) => {
    const [ma, mb] = [c.at(a), c.at(b)];
    const h = c.target.hooks;
    if (ma === undefined || mb === undefined || h.cut === undefined || h.mend === undefined) return;
    const call = on ? h.cut : h.mend;
    const done = await Promise.all([
      call(ma, mb.id).catch(() => false),
      call(mb, ma.id).catch(() => false),
    ]);
    return done.every((d) => d);
  };
}

const key = (a: number, b: number) => a < b ? `${a}-${b}` : `${b}-${a}`;

/** The cut pairs in force, each counted by the partitions that want it. */
export class Partitions {
  readonly #count = new Map<string, number>();
  /** The sides of each partition in force, by its fault number. */
  readonly sides = new Map<number, number[][]>();
  /** Slots whose link is down at the bridge (one partition at a time owns each). */
  readonly downLinks = new Set<number>();

  constructor(readonly backend: CutBackend, readonly byHooks: boolean) {}

  /** Cuts every pair of `pairs` not already cut. */
  async cut(pairs: [number, number][]): Promise<void> {
    for (const [a, b] of pairs) {
      const n = this.#count.get(key(a, b)) ?? 0;
      this.#count.set(key(a, b), n + 1);
      if (n === 0) await this.backend(a, b, true);
    }
  }

  /** Releases `pairs`; mends those no other partition holds. */
  async mend(pairs: [number, number][]): Promise<void> {
    for (const [a, b] of pairs) {
      const n = this.#count.get(key(a, b)) ?? 0;
      if (n <= 1) {
        this.#count.delete(key(a, b));
        await this.backend(a, b, false).catch(() => {});
      } else this.#count.set(key(a, b), n - 1);
    }
  }

  /** The cut pairs involving `slot` (to apply again to a restarted member). */
  pairsOf(slot: number): [number, number][] {
    return [...this.#count.keys()].map((k) => k.split("-").map(Number) as [number, number])
      .filter(([a, b]) => a === slot || b === slot);
  }

  /**
   * Cuts `slot`'s pairs again on a restarted member, trying for up to
   * `ms` while it starts (hooks only: routes outlive processes).
   */
  async reapply(slot: number, ms = 15_000): Promise<void> {
    if (!this.byHooks) return;
    const end = performance.now() + ms;
    let pending = this.pairsOf(slot);
    while (pending.length > 0 && performance.now() < end) {
      const left: [number, number][] = [];
      for (const [a, b] of pending) {
        if (this.#count.has(key(a, b)) && await this.backend(a, b, true) === false) {
          left.push([a, b]);
        }
      }
      pending = left;
      if (pending.length > 0) await new Promise((r) => setTimeout(r, 300));
    }
  }

  /** How many pairs are cut. */
  get size(): number {
    return this.#count.size;
  }
}

/** Every pair with one slot in `a` and one in `b`. */
export function across(a: number[], b: number[]): [number, number][] {
  return a.flatMap((x) => b.map((y) => [x, y] as [number, number]));
}
