/**
 * Requests waiting for raft: writes and membership changes until their
 * entry is applied here, reads until their ReadIndex is confirmed and
 * applied. Every wait has a deadline, so no client hangs.
 *
 * @module
 */

import { RequestTimeoutError } from "./errors.ts";

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: Error): void;
  deadline: number;
  what: string;
  ms: number;
}

/** How often deadlines are checked, ms: one timer for all waits (a timer per request costs). */
const SWEEP_MS = 25;

/**
 * Waits keyed by a string; several waits on one key are served first in,
 * first out (writes matched by content when the codec carries no id).
 * Deadlines are checked every 25 ms by one interval timer, running only
 * while something waits.
 *
 * @example
 * ```ts
 * import { Waiters } from "./waiters.ts";
 * const w = new Waiters<number>();
 * const p = w.wait("a", 1000, "PUT /a");
 * w.resolve("a", 7);
 * console.log(await p); // 7
 * ```
 */
export class Waiters<T> {
  readonly #pending = new Map<string, Waiter<T>[]>();
  #count = 0;
  #sweeper: ReturnType<typeof setInterval> | undefined;

  /** Waits until `resolve(key)`; rejects with {@link RequestTimeoutError} after `ms`. */
  wait(key: string, ms: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = { resolve, reject, deadline: performance.now() + ms, what, ms };
      const list = this.#pending.get(key);
      if (list === undefined) this.#pending.set(key, [waiter]);
      else list.push(waiter);
      this.#count++;
      this.#sweeper ??= setInterval(() => this.#sweep(), SWEEP_MS);
    });
  }

  /** True if someone waits on `key`. */
  has(key: string): boolean {
    return this.#pending.has(key);
  }

  /** Number of waits. */
  get size(): number {
    return this.#count;
  }

  /** Resolves the oldest wait on `key`; false if there was none. */
  resolve(key: string, value: T): boolean {
    const list = this.#pending.get(key);
    const waiter = list?.shift();
    if (waiter === undefined) return false;
    if (list!.length === 0) this.#pending.delete(key);
    this.#settled(1);
    waiter.resolve(value);
    return true;
  }

  /** Resolves every wait on `key` (a batch of reads answered at once); how many there were. */
  resolveAll(key: string, value: T): number {
    let n = 0;
    while (this.resolve(key, value)) n++;
    return n;
  }

  /** Rejects every wait with `error` (the member stops). */
  rejectAll(error: Error): void {
    const lists = [...this.#pending.values()];
    this.#pending.clear();
    this.#settled(this.#count);
    for (const list of lists) for (const w of list) w.reject(error);
  }

  #settled(n: number): void {
    this.#count -= n;
    if (this.#count === 0 && this.#sweeper !== undefined) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }

  #sweep(): void {
    const now = performance.now();
    for (const [key, list] of this.#pending) {
      const late = list.filter((w) => w.deadline <= now);
      if (late.length === 0) continue;
      const still = list.filter((w) => w.deadline > now);
      if (still.length === 0) this.#pending.delete(key);
      else this.#pending.set(key, still);
      this.#settled(late.length);
      for (const w of late) w.reject(new RequestTimeoutError(w.what, w.ms));
    }
  }
}

interface IndexWaiter {
  index: bigint;
  resolve: () => void;
  reject: (e: Error) => void;
}

/**
 * Waits until the applied index reaches a given index (a confirmed
 * ReadIndex); no deadline of its own, the caller's wait has one.
 *
 * @example
 * ```ts
 * import { AppliedIndexWaiters } from "./waiters.ts";
 * const w = new AppliedIndexWaiters();
 * const p = w.wait(5n);
 * w.advance(5n);
 * await p;
 * console.log(w.size); // 0
 * ```
 */
export class AppliedIndexWaiters {
  #applied = 0n;
  #pending: IndexWaiter[] = [];

  /** Number of waits. */
  get size(): number {
    return this.#pending.length;
  }

  /** True if the applied index is at least `index`. */
  reached(index: bigint): boolean {
    return index <= this.#applied;
  }

  /** Resolves once the applied index is at least `index`. */
  wait(index: bigint): Promise<void> {
    if (index <= this.#applied) return Promise.resolve();
    return new Promise((resolve, reject) => this.#pending.push({ index, resolve, reject }));
  }

  /** Records the new applied index and releases the waits it satisfies. */
  advance(applied: bigint): void {
    if (applied <= this.#applied) return;
    this.#applied = applied;
    const still: IndexWaiter[] = [];
    for (const w of this.#pending) {
      if (w.index <= applied) w.resolve();
      else still.push(w);
    }
    this.#pending = still;
  }

  /** Rejects every wait (the member stops). */
  rejectAll(error: Error): void {
    for (const w of this.#pending) w.reject(error);
    this.#pending = [];
  }
}
