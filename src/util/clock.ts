/**
 * Where the channels read time and set timers: the wall clock and the
 * runtime's timers in production ({@link systemClock}), a clock a test
 * steps by hand otherwise (`src/testdata/fake_clock.ts`). One object per
 * peer, handed over in its `PeerContext`; reading it costs a property load,
 * nothing is allocated per message.
 *
 * @module
 */

/**
 * A timer's handle, as `setTimeout` returns it.
 *
 * @example
 * ```ts
 * import { systemClock, type TimerId } from "./clock.ts";
 * const id: TimerId = systemClock.setTimeout(() => {}, 1000);
 * systemClock.clearTimeout(id);
 * ```
 */
export type TimerId = ReturnType<typeof setTimeout>;

/**
 * Time and timers, as the channels use them.
 *
 * @example
 * ```ts
 * import type { Clock } from "./clock.ts";
 * // How long ago `since` was, on whatever clock the caller was given.
 * const ago = (clock: Clock, since: number) => clock.now() - since;
 * console.log(ago({ now: () => 1500 } as Clock, 1000)); // 500
 * ```
 */
export interface Clock {
  /** Milliseconds since the epoch, as `Date.now()`. */
  now(): number;
  /** Runs `fn` once, `ms` from now. */
  setTimeout(fn: () => void, ms: number): TimerId;
  /** Cancels a timer of {@link Clock.setTimeout}; undefined is ignored. */
  clearTimeout(id: TimerId | undefined): void;
  /** Runs `fn` every `ms`. */
  setInterval(fn: () => void, ms: number): TimerId;
  /** Cancels a timer of {@link Clock.setInterval}; undefined is ignored. */
  clearInterval(id: TimerId | undefined): void;
}

/**
 * The real clock: `Date.now` and the runtime's timers.
 *
 * @example
 * ```ts
 * import { systemClock } from "./clock.ts";
 * const t = systemClock.now();
 * console.log(Math.abs(t - Date.now()) < 1000); // true
 * ```
 */
export const systemClock: Clock = {
  now: Date.now,
  // Wrapped: some runtimes refuse timer functions called on another `this`.
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (id) => clearInterval(id),
};
