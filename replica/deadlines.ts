/**
 * Time limits of many waits on one timer. A timer per request costs more
 * than the request's own work at thousands of writes a second (measured on
 * the KV: about 5 % of its PUT rate), so the waits of a table share one
 * interval that runs while something waits (and one sweep more) and fires
 * each wait within {@link SWEEP_MS} after its time.
 *
 * @module
 */

/** How often the time limits are checked, ms. */
export const SWEEP_MS = 10;

interface Item {
  at: number;
  fire: () => void;
}

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

  /** Calls `fire` once, `ms` (up to {@link SWEEP_MS} more) from now; returns a cancel. */
  add(ms: number, fire: () => void): () => void {
    const item = { at: performance.now() + ms, fire };
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
      if (item.at > now) continue;
      this.#items.delete(item);
      item.fire();
    }
  }
}
