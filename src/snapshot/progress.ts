/**
 * Progress of a snapshot send: bytes of the data the receiver holds or was
 * handed, the total and the rate, reported to the message's `onProgress` at
 * most every 100 ms and once at the end.
 *
 * @module
 */

/**
 * How far a snapshot send is.
 *
 * @example
 * ```ts
 * import type { SnapshotProgress } from "@rafthttp/rafthttp";
 * const show = (p: SnapshotProgress) =>
 *   console.log(`${(100 * p.sent / p.total).toFixed(1)} % at ${(p.bytesPerSecond / 2 ** 20).toFixed(1)} MiB/s`);
 * show({ sent: 50, total: 100, bytesPerSecond: 2 ** 20, attempt: 1, resumedFrom: 0 });
 * ```
 */
export interface SnapshotProgress {
  /** Data bytes handed to the connection or already held by the receiver. */
  sent: number;
  /** Data bytes in all. */
  total: number;
  /** Data bytes per second in the current attempt. */
  bytesPerSecond: number;
  /** Attempt number, from 1. */
  attempt: number;
  /**
   * Where the current attempt started: data bytes the receiver already held
   * (an extension continuing a broken transfer); 0 with etcd's protocol.
   */
  resumedFrom: number;
}

const INTERVAL_MS = 100;

/** Throttled progress reports of one transfer. */
export class ProgressMeter {
  readonly #total: number;
  readonly #report: ((p: SnapshotProgress) => void) | undefined;
  #attempt = 0;
  #from = 0;
  #sent = 0;
  #started = 0;
  #last = 0;

  /** `report` may be undefined (nothing is computed then). */
  constructor(total: number, report?: (p: SnapshotProgress) => void) {
    this.#total = total;
    this.#report = report;
  }

  /** The latest figures. */
  get current(): SnapshotProgress {
    const s = (performance.now() - this.#started) / 1000;
    return {
      sent: this.#sent,
      total: this.#total,
      bytesPerSecond: s > 0 ? (this.#sent - this.#from) / s : 0,
      attempt: this.#attempt,
      resumedFrom: this.#from,
    };
  }

  /** A new attempt from `offset`. */
  attempt(offset: number): void {
    this.#attempt++;
    this.#from = this.#sent = offset;
    this.#started = performance.now();
    this.#emit(true);
  }

  /** `n` more data bytes went out. */
  add(n: number): void {
    this.#sent += n;
    if (this.#report !== undefined && performance.now() - this.#last >= INTERVAL_MS) {
      this.#emit(false);
    }
  }

  /** The last report of an attempt. */
  flush(): void {
    this.#emit(true);
  }

  #emit(force: boolean): void {
    if (this.#report === undefined) return;
    const now = performance.now();
    if (!force && now - this.#last < INTERVAL_MS) return;
    this.#last = now;
    try {
      this.#report(this.current);
    } catch { /* a throwing callback must not break the transfer */ }
  }
}
