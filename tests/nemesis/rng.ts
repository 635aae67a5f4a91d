// The campaign's seeded random numbers: the simulation's mulberry32
// (raft/testing/sim_random.ts), with what a fault schedule also needs. The
// schedule is a pure function of its seed, so a failing seed replays the
// same faults at the same times.

import { SimRandom } from "../../raft/testing/sim_random.ts";

/** A deterministic stream of numbers from a 32-bit seed. */
export class Rng extends SimRandom {
  /** An integer in [lo, hi]. */
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** A shuffled copy (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }

  /** A 32-bit integer, e.g. the seed of a sub-stream. */
  u32(): number {
    return this.int(4294967296) >>> 0;
  }
}
