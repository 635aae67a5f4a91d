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
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Waits keyed by a string; several waits on one key are served first in,
 * first out (writes matched by content when the codec carries no id).
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

  /** Waits until `resolve(key)`; rejects with {@link RequestTimeoutError} after `ms`. */
  wait(key: string, ms: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#remove(key, waiter);
          reject(new RequestTimeoutError(what, ms));
        }, ms),
      };
      const list = this.#pending.get(key);
      if (list === undefined) this.#pending.set(key, [waiter]);
      else list.push(waiter);
    });
  }

  /** True if someone waits on `key`. */
  has(key: string): boolean {
    return this.#pending.has(key);
  }

  /** Number of waits. */
  get size(): number {
    let n = 0;
    for (const list of this.#pending.values()) n += list.length;
    return n;
  }

  /** Resolves the oldest wait on `key`; false if there was none. */
  resolve(key: string, value: T): boolean {
    const list = this.#pending.get(key);
    const waiter = list?.shift();
    if (waiter === undefined) return false;
    if (list!.length === 0) this.#pending.delete(key);
    clearTimeout(waiter.timer);
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
    for (const list of this.#pending.values()) {
      for (const w of list) {
        clearTimeout(w.timer);
        w.reject(error);
      }
    }
    this.#pending.clear();
  }

  #remove(key: string, waiter: Waiter<T>): void {
    const list = this.#pending.get(key);
    if (list === undefined) return;
    const i = list.indexOf(waiter);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#pending.delete(key);
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
