/**
 * A deadline on silence: it fires when nothing has touched it for a given
 * time. Streams and snapshot transfers have no overall timeout (a big
 * transfer may take as long as it takes); they fail when no bytes move.
 * One timer per deadline, re-armed only when it fires, so that `touch` on
 * the hot path is a single store.
 *
 * @module
 */

import { type Clock, systemClock, type TimerId } from "./clock.ts";

/** Builds the error a deadline fails with, from how long it was idle. */
export type IdleReason = (idleMs: number, limitMs: number) => Error;

/**
 * If the timer fires this much later than asked, our own event loop was
 * stalled (a long GC or synchronous work): the silence is ours, so the peer
 * is not blamed for it.
 */
const STALL_MS = 1000;

/** Fails (calls `onIdle` once) when not touched for `limitMs`. */
export class IdleDeadline implements Disposable {
  #limit: number;
  #reason: IdleReason;
  #onIdle: (e: Error) => void;
  #clock: Clock;
  #last: number;
  #due = 0;
  #timer: TimerId | undefined;
  #over = false;

  /**
   * Starts the deadline; `onIdle` gets `reason(idleMs, limitMs)` when it
   * expires. Time is read from `clock`.
   */
  constructor(
    limitMs: number,
    reason: IdleReason,
    onIdle: (e: Error) => void,
    clock: Clock = systemClock,
  ) {
    this.#limit = limitMs;
    this.#reason = reason;
    this.#onIdle = onIdle;
    this.#clock = clock;
    this.#last = clock.now();
    this.#arm(limitMs);
  }

  /** Something moved: the silence starts again from now (returned, for callers that keep it). */
  touch(): number {
    return this.#last = this.#clock.now();
  }

  /** From now on, a new limit and reason (a transfer entering another phase). */
  reset(limitMs: number, reason: IdleReason): void {
    if (this.#over) return;
    this.#limit = limitMs;
    this.#reason = reason;
    this.#last = this.#clock.now();
    this.#clock.clearTimeout(this.#timer);
    this.#arm(limitMs);
  }

  /** Stops counting (our side is the one pausing) until {@link resume}. */
  suspend(): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Counts again, from now. */
  resume(): void {
    if (this.#over || this.#timer !== undefined) return;
    this.#last = this.#clock.now();
    this.#arm(this.#limit);
  }

  /** Releases the timer; the deadline never fires after this. */
  cleanup(): void {
    this.#over = true;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Same as {@link cleanup}, for `using`. */
  [Symbol.dispose](): void {
    this.cleanup();
  }

  #arm(ms: number): void {
    this.#due = this.#clock.now() + ms;
    this.#timer = this.#clock.setTimeout(() => this.#check(), ms);
  }

  #check(): void {
    this.#timer = undefined;
    if (this.#over) return;
    const now = this.#clock.now();
    if (now - this.#due > STALL_MS) this.#last = now;
    const idle = now - this.#last;
    if (idle < this.#limit) {
      this.#arm(this.#limit - idle);
      return;
    }
    this.#over = true;
    this.#onIdle(this.#reason(idle, this.#limit));
  }
}
