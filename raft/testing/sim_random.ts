/**
 * A small seeded PRNG (mulberry32) for the deterministic simulation.
 *
 * @module
 */

/** A reproducible stream of numbers derived from a seed. */
export class SimRandom {
  #state: number;

  /** The same seed always yields the same stream. */
  constructor(seed: number) {
    this.#state = (seed ^ 0x9e3779b9) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** A uniformly chosen element (the array must not be empty). */
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }

  /** A new independent stream, for one member's election timeouts. */
  fork(): SimRandom {
    return new SimRandom(Math.floor(this.next() * 4294967296));
  }
}
