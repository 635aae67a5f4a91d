/**
 * A fixed-capacity FIFO on a ring buffer: O(1) push and shift, no
 * allocation per element, and a hard bound.
 *
 * @module
 */

/** A bounded FIFO queue. */
export class BoundedQueue<T> {
  #items: (T | undefined)[];
  #head = 0;
  #length = 0;

  /** Creates a queue holding at most `capacity` items. */
  constructor(readonly capacity: number) {
    this.#items = new Array(capacity);
  }

  /** Number of queued items. */
  get length(): number {
    return this.#length;
  }

  /** Appends `item`; returns false (and keeps nothing) when the queue is full. */
  push(item: T): boolean {
    if (this.#length === this.capacity) return false;
    this.#items[(this.#head + this.#length) % this.capacity] = item;
    this.#length++;
    return true;
  }

  /** Removes and returns the oldest item, or undefined when empty. */
  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.capacity;
    this.#length--;
    return item;
  }

  /** Removes everything, returning how many items were dropped. */
  clear(): number {
    const n = this.#length;
    while (this.#length > 0) this.shift();
    this.#head = 0;
    return n;
  }
}
