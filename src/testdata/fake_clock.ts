// A Clock for unit tests that moves only when the test says so.
import type { Clock, TimerId } from "../util/clock.ts";

interface Timer {
  due: number;
  /** Creation order: timers due at the same time run in the order they were set. */
  seq: number;
  every: number | undefined;
  fn: () => void;
}

/**
 * Lets the promise reactions already queued run, and those they queue in
 * turn, `turns` deep. The components react to a chunk or a timer with short
 * promise chains (a few dozen turns at most); no real time passes.
 *
 * @example
 * ```ts
 * import { settle } from "./fake_clock.ts";
 * let done = false;
 * Promise.resolve().then(() => Promise.resolve()).then(() => done = true);
 * await settle();
 * console.log(done); // true
 * ```
 */
export async function settle(turns = 100): Promise<void> {
  for (let i = 0; i < turns; i++) await Promise.resolve();
}

/**
 * A {@link Clock} whose time stands still until {@link FakeClock.advance}
 * moves it; its timers are entries in a table, never runtime timers, so a
 * test leaves none behind.
 *
 * @example
 * ```ts
 * import { FakeClock } from "./fake_clock.ts";
 * const clock = new FakeClock();
 * const fired: number[] = [];
 * clock.setTimeout(() => fired.push(clock.now()), 100);
 * const every = clock.setInterval(() => fired.push(clock.now()), 40);
 * await clock.advance(100);
 * clock.clearInterval(every);
 * console.log(fired.map((t) => t - fired[0])); // [ 0, 40, 60 ]
 * ```
 */
export class FakeClock implements Clock {
  #now: number;
  #seq = 1; // ids are never 0: some callers test a timer id for truth
  #timers = new Map<TimerId, Timer>();

  /** Starts at `start` ms since the epoch (a plausible `Date.now()`, so that 0 means "never"). */
  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  /** The fake time. */
  now(): number {
    return this.#now;
  }

  /** Runs `fn` once `advance` reaches `ms` from now. */
  setTimeout(fn: () => void, ms: number): TimerId {
    return this.#add(fn, ms, undefined);
  }

  /** Removes a timer. */
  clearTimeout(id: TimerId | undefined): void {
    if (id !== undefined) this.#timers.delete(id);
  }

  /** Runs `fn` every `ms` while `advance` moves on. */
  setInterval(fn: () => void, ms: number): TimerId {
    return this.#add(fn, ms, Math.max(1, ms));
  }

  /** Removes a timer. */
  clearInterval(id: TimerId | undefined): void {
    this.clearTimeout(id);
  }

  /** How many timers are set. */
  get pending(): number {
    return this.#timers.size;
  }

  /**
   * Moves time `ms` forward, running each timer that falls due on the way at
   * its own time, in order, and letting what it started settle before the
   * next one runs.
   */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    await settle();
    for (;;) {
      const next = this.#first(end);
      if (next === undefined) break;
      const [id, t] = next;
      this.#now = t.due;
      if (t.every === undefined) this.#timers.delete(id);
      else {
        t.due += t.every;
        t.seq = this.#seq++;
      }
      t.fn();
      await settle();
    }
    this.#now = end;
    await settle();
  }

  #add(fn: () => void, ms: number, every: number | undefined): TimerId {
    const seq = this.#seq++;
    // Opaque to the caller, as a runtime's timer handle is.
    const id = seq as unknown as TimerId;
    this.#timers.set(id, { due: this.#now + Math.max(0, ms), seq, every, fn });
    return id;
  }

  #first(end: number): [TimerId, Timer] | undefined {
    let best: [TimerId, Timer] | undefined;
    for (const e of this.#timers) {
      const t = e[1];
      if (t.due > end) continue;
      if (
        best === undefined || t.due < best[1].due || (t.due === best[1].due && t.seq < best[1].seq)
      ) {
        best = e;
      }
    }
    return best;
  }
}
