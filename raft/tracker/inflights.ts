/**
 * Inflights: the window of MsgApp messages sent to one follower and not
 * yet acknowledged, by the last index each carried (flow control).
 *
 * @module
 */

/** A bounded FIFO of the last indexes of unacknowledged MsgApp messages. */
export class Inflights {
  #buffer: bigint[] = [];
  #start = 0;
  #count = 0;

  /** `size` is the most messages in flight at once (maxInflightMsgs). */
  constructor(readonly size: number) {}

  /** Records a MsgApp whose last entry is `index`; indexes must increase. */
  add(index: bigint): void {
    if (this.full()) throw new Error("inflights: add to a full window; check full() first");
    const next = (this.#start + this.#count) % this.size;
    this.#buffer[next] = index;
    this.#count++;
  }

  /** Frees every message whose last index is <= `to` (they were acknowledged). */
  freeLE(to: bigint): void {
    if (this.#count === 0 || to < this.#buffer[this.#start]) return;
    let freed = 0;
    let idx = this.#start;
    while (freed < this.#count && this.#buffer[idx] <= to) {
      freed++;
      idx = (idx + 1) % this.size;
    }
    this.#count -= freed;
    this.#start = this.#count === 0 ? 0 : idx;
  }

  /** Frees the oldest message (a heartbeat response proves the follower is alive). */
  freeFirstOne(): void {
    if (this.#count === 0) return;
    this.freeLE(this.#buffer[this.#start]);
  }

  /** True if no more messages may be sent. */
  full(): boolean {
    return this.#count === this.size;
  }

  /** Messages in flight. */
  count(): number {
    return this.#count;
  }

  /** Forgets every message in flight. */
  reset(): void {
    this.#count = 0;
    this.#start = 0;
  }
}
