/**
 * What one peer's streams know about the network path to it, shared by its
 * readers and writers: when a byte from the peer last arrived, and who must
 * hear when the path looks dead.
 *
 * Why the writers need this: on a real network a cut link sends no RST. A
 * stream writer then goes on handing chunks to a socket whose kernel buffer
 * accepts them (tens of KiB of heartbeats fit), so nothing fails, the
 * writer stays "working", `pick` keeps choosing it, and every message sent
 * meanwhile vanishes without being counted or reported. The readers of the
 * same peer are the ones that notice: its link heartbeats stop, and their
 * read deadline fires within `stream.readTimeoutMs`. They declare the link
 * dead here; the writers then close their connections, count as dropped
 * what they wrote since the last sign of life from the peer, and raft hears
 * `reportUnreachable` at once.
 *
 * @module
 */

/**
 * A message written at time t counts as delivered once the peer was heard
 * from this long after t: the peer's bytes crossed the same path later. On
 * a link that dies, what was written within the last one or two of these
 * windows before the last byte heard is counted as dropped (an estimate on
 * the safe side: a few delivered messages may be counted too).
 */
export const CONFIRM_MS = 250;

/** The shared view of one peer's link. */
export class Link {
  /** The context's `clock.now()` when a stream from the peer last delivered bytes (0: never). */
  lastHeard = 0;
  #onDead: ((reason: string) => void)[] = [];

  /** Registers `fn` to run each time the link is declared dead. */
  onDead(fn: (reason: string) => void): void {
    this.#onDead.push(fn);
  }

  /** A reader found the peer silent past its read deadline: tells every listener. */
  dead(reason: string): void {
    for (const fn of this.#onDead) fn(reason);
  }
}

/**
 * Counts messages written into one connection, in two windows, so that a
 * dead link can tell how many of them were not confirmed by later bytes
 * from the peer. Two additions and a comparison per chunk; no allocation.
 */
export class WriteWindows {
  #older = 0;
  #recent = 0;
  #recentSince: number;
  #lastWrite = 0;

  constructor(now: number) {
    this.#recentSince = now;
  }

  /** `n` messages were written at `now`; `heard` is the link's `lastHeard`. */
  wrote(n: number, now: number, heard: number): void {
    if (heard >= this.#lastWrite + CONFIRM_MS) {
      this.#older = 0;
      this.#recent = 0;
      this.#recentSince = now;
    } else if (heard >= this.#recentSince + CONFIRM_MS) {
      this.#older = this.#recent;
      this.#recent = 0;
      this.#recentSince = now;
    }
    this.#recent += n;
    this.#lastWrite = now;
  }

  /** Messages written that nothing heard since confirms. */
  unconfirmed(heard: number): number {
    if (heard >= this.#lastWrite + CONFIRM_MS) return 0;
    if (heard >= this.#recentSince + CONFIRM_MS) return this.#recent;
    return this.#older + this.#recent;
  }
}
