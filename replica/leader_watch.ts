/**
 * The leader as this replica knows it, and waits on it: `waitForLeader`,
 * and a leadership transfer that is done once the transferee leads.
 *
 * @module
 */

import type { ReplicaStoppedError } from "./errors.ts";
import type { WaitOptions } from "./proposals.ts";

interface Wait {
  pred: (leader: bigint) => boolean;
  resolve(leader: bigint): void;
  reject(error: unknown): void;
  release(): void;
}

/**
 * The known leader and the waits on it.
 *
 * @example
 * ```ts
 * import { LeaderWatch } from "./leader_watch.ts";
 * const w = new LeaderWatch();
 * const p = w.until((l) => l !== 0n, { timeoutMs: 1000 }, () => new Error("no leader"));
 * w.set(2n, 5n);
 * console.log(await p, w.term); // 2n 5n
 * ```
 */
export class LeaderWatch {
  #leader = 0n;
  #term = 0n;
  readonly #waits = new Set<Wait>();
  #closed: Error | undefined;

  /** The known leader (0n: none). */
  get leader(): bigint {
    return this.#leader;
  }

  /** The term it leads in, as last seen. */
  get term(): bigint {
    return this.#term;
  }

  /** Records the leader; true if it changed. */
  set(leader: bigint, term: bigint): boolean {
    if (term > this.#term) this.#term = term;
    if (leader === this.#leader) return false;
    this.#leader = leader;
    for (const w of [...this.#waits]) {
      if (w.pred(leader)) this.#settle(w).resolve(leader);
    }
    return true;
  }

  /**
   * Resolves with the leader once `pred` holds for it (at once if it does);
   * on the time limit rejects with `onTimeout()`, on the signal with its reason.
   */
  until(
    pred: (leader: bigint) => boolean,
    options: WaitOptions,
    onTimeout: () => Error,
  ): Promise<bigint> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    if (pred(this.#leader)) return Promise.resolve(this.#leader);
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const w: Wait = { pred, resolve, reject, release: () => {} };
      const onAbort = () => this.#settle(w).reject(signal!.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      const ms = options.timeoutMs ?? Infinity;
      const timer = Number.isFinite(ms)
        ? setTimeout(() => this.#settle(w).reject(onTimeout()), ms)
        : undefined;
      w.release = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      this.#waits.add(w);
    });
  }

  /** Fails every wait with `error` and refuses new ones with it. */
  close(error: ReplicaStoppedError): void {
    this.#closed ??= error;
    for (const w of [...this.#waits]) this.#settle(w).reject(error);
  }

  #settle(w: Wait): Wait {
    w.release();
    this.#waits.delete(w);
    return w;
  }
}
