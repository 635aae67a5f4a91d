/**
 * A deadline on silence: it fires when nothing has touched it for a given
 * time. Streams and snapshot transfers have no overall timeout (a big
 * transfer may take as long as it takes); they fail when no bytes move.
 * One timer per deadline, re-armed only when it fires, so that `touch` on
 * the hot path is a single store.
 *
 * @module
 */

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
  #last = Date.now();
  #due = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #over = false;

  /** Starts the deadline; `onIdle` gets `reason(idleMs, limitMs)` when it expires. */
  constructor(limitMs: number, reason: IdleReason, onIdle: (e: Error) => void) {
    this.#limit = limitMs;
    this.#reason = reason;
    this.#onIdle = onIdle;
    this.#arm(limitMs);
  }

  /** Something moved: the silence starts again from now (returned, for callers that keep it). */
  touch(): number {
    return this.#last = Date.now();
  }

  /** From now on, a new limit and reason (a transfer entering another phase). */
  reset(limitMs: number, reason: IdleReason): void {
    if (this.#over) return;
    this.#limit = limitMs;
    this.#reason = reason;
    this.#last = Date.now();
    clearTimeout(this.#timer);
    this.#arm(limitMs);
  }

  /** Stops counting (our side is the one pausing) until {@link resume}. */
  suspend(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Counts again, from now. */
  resume(): void {
    if (this.#over || this.#timer !== undefined) return;
    this.#last = Date.now();
    this.#arm(this.#limit);
  }

  /** Releases the timer; the deadline never fires after this. */
  cleanup(): void {
    this.#over = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Same as {@link cleanup}, for `using`. */
  [Symbol.dispose](): void {
    this.cleanup();
  }

  #arm(ms: number): void {
    this.#due = Date.now() + ms;
    this.#timer = setTimeout(() => this.#check(), ms);
  }

  #check(): void {
    this.#timer = undefined;
    if (this.#over) return;
    const now = Date.now();
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
