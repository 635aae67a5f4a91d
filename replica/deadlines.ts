/**
 * Time limits and abort signals of many waits on one timer. A timer per
 * request costs more than the request's own work at thousands of writes a
 * second (measured on the KV: about 5 % of its PUT rate), and so does an
 * abort listener per request (adding and removing one on an AbortSignal:
 * about 4 % of the KV's CPU per PUT at 64 clients, profiled), so the waits
 * of a table share one interval that runs while something waits (and one
 * sweep more): it ends each wait within {@link SWEEP_MS} after its time, or
 * after its signal aborted.
 *
 * @module
 */

/** How often the time limits are checked, ms. */
export const SWEEP_MS = 10;

interface Item {
  at: number;
  fire: () => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
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
  readonly #items = new Set<Item>();
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
    const item = { at: performance.now() + ms, fire, signal, onAbort };
    this.#items.add(item);
    this.#timer ??= setInterval(() => this.#sweep(), SWEEP_MS);
    return () => this.#items.delete(item);
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
      if (aborted) (item.onAbort ?? noop)();
      else item.fire();
    }
  }
}
