/**
 * Time limits and abort signals of many waits on one timer. A timer per
 * request costs more than the request's own work at thousands of writes a
 * second (measured on the KV: about 5 % of its PUT rate), and an abort
 * listener per request costs too (adding and removing one on an
 * AbortSignal: 1-2 % of the KV's CPU per PUT at 64 clients, profiled), so
 * the waits of a table share one interval that runs while something waits
 * (and one sweep more): it ends each wait within {@link SWEEP_MS} after its
 * time, or after its signal aborted.
 *
 * @module
 */

/** How often the time limits are checked, ms. */
export const SWEEP_MS = 10;

/**
 * A wait the sweep watches: its time limit and signal, and what ends it.
 *
 * @example
 * ```ts
 * import type { Timed } from "./deadlines.ts";
 * const t: Timed = { at: performance.now() + 50, signal: undefined, expire() {}, abort() {} };
 * console.log(t.signal); // undefined
 * ```
 */
export interface Timed {
  /** When its time is up (`performance.now()` time; Infinity: never). */
  readonly at: number;
  /** Its abort signal, if it has one. */
  readonly signal: AbortSignal | undefined;
  /** Its time is up. */
  expire(): void;
  /** Its signal aborted. */
  abort(): void;
}

const noop = () => {};

/**
 * The time limits of one table of waits.
 *
 * @example
 * ```ts
 * import { Deadlines } from "./deadlines.ts";
 * const d = new Deadlines();
 * const fired = new Promise<string>((resolve) => d.add(20, () => resolve("late")));
 * const cancel = d.add(20, () => console.log("never"));
 * cancel();
 * console.log(await fired, d.size); // late 0
 * ```
 */
export class Deadlines {
  readonly #items = new Set<Timed>();
  #timer: ReturnType<typeof setInterval> | undefined;

  /** Waits being timed. */
  get size(): number {
    return this.#items.size;
  }

  /**
   * Calls `fire` once, `ms` (up to {@link SWEEP_MS} more) from now, or
   * `onAbort` once `signal` aborted (seen at the next sweep), whichever
   * comes first; returns a cancel. `ms` may be Infinity (a signal only).
   */
  add(ms: number, fire: () => void, signal?: AbortSignal, onAbort?: () => void): () => void {
    if (ms === Infinity && signal === undefined) return noop;
    const item: Timed = {
      at: performance.now() + ms,
      signal,
      expire: fire,
      abort: onAbort ?? noop,
    };
    this.track(item);
    return () => this.#items.delete(item);
  }

  /**
   * Watches `item` (no closure per wait: the hot path's waits are their own
   * items) until {@link untrack} or until it is ended.
   */
  track(item: Timed): void {
    this.#items.add(item);
    this.#timer ??= setInterval(() => this.#sweep(), SWEEP_MS);
  }

  /** Stops watching `item`. */
  untrack(item: Timed): void {
    this.#items.delete(item);
  }

  /** Fires what is due; the interval stops at a sweep that finds nothing waiting (not at
   * each last removal: one request at a time would start and stop it every time). */
  #sweep(): void {
    if (this.#items.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    const now = performance.now();
    for (const item of this.#items) {
      const aborted = item.signal?.aborted === true;
      if (!aborted && item.at > now) continue;
      this.#items.delete(item);
      if (aborted) item.abort();
      else item.expire();
    }
  }
}
