/**
 * Linearizable reads (ReadIndex), batched: reads that arrive before their
 * batch is asked for share one ReadIndex round. The batch's index is fixed
 * after each of its reads began, which is all linearizability needs; a read
 * returns once this replica has applied up to that index. A lost request
 * (a leader change) is asked again, which is harmless.
 *
 * @module
 */

import type { RawNode, ReadState } from "../raft/mod.ts";
import { Deadlines } from "./deadlines.ts";
import { NoLeaderError, type ReplicaStoppedError } from "./errors.ts";
import type { WaitOptions } from "./proposals.ts";

/**
 * What the reads need from their replica.
 *
 * @example
 * ```ts ignore
 * const reads = new Reads({ run: (a) => loop.run(a), retryMs: 300 });
 * ```
 */
export interface ReadsDeps {
  /** Queues an action on the core (the replica's RaftLoop). */
  run(action: (raft: RawNode) => void): boolean;
  /** How long an unanswered ReadIndex waits before it is asked again, ms. */
  retryMs: number;
}

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
  release(): void;
  batch: Batch | undefined;
  index: bigint;
}

interface Batch {
  ctx: Uint8Array;
  key: string;
  waiters: Set<Waiter>;
  timer: ReturnType<typeof setTimeout> | undefined;
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/**
 * The reads of one replica.
 *
 * @example
 * ```ts
 * import { Reads } from "./reads.ts";
 * let asked: Uint8Array | undefined;
 * const raft = { status: () => ({ lead: 1n }), readIndex: (ctx: Uint8Array) => asked = ctx };
 * // as the replica's loop: actions run after the caller's synchronous burst
 * const reads = new Reads({ run: (a) => (queueMicrotask(() => a(raft as never)), true), retryMs: 300 });
 * const done = reads.read({ timeoutMs: 1000 });
 * await Promise.resolve();
 * reads.readStates([{ index: 3n, requestCtx: asked! }]);
 * reads.appliedTo(3n);
 * await done; // this replica has applied everything committed before the read began
 * ```
 */
export class Reads {
  readonly #d: ReadsDeps;
  #open: Batch | undefined;
  readonly #asked = new Map<string, Batch>();
  #waitingApply: Waiter[] = [];
  #applied = 0n;
  #closed: Error | undefined;
  readonly #deadlines = new Deadlines();

  /** Creates the table; nothing runs until a read comes. */
  constructor(deps: ReadsDeps) {
    this.#d = deps;
  }

  /** Reads in flight. */
  get size(): number {
    let n = this.#waitingApply.length + (this.#open?.waiters.size ?? 0);
    for (const b of this.#asked.values()) n += b.waiters.size;
    return n;
  }

  /** Resolves once everything committed before the call is applied here. */
  read(options: WaitOptions): Promise<void> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = { resolve, reject, release: () => {}, batch: undefined, index: 0n };
      const ms = options.timeoutMs ?? Infinity;
      w.release = this.#deadlines.add(
        ms,
        () => this.#abandon(w, readTimeout(ms)),
        signal,
        () => this.#abandon(w, signal!.reason),
      );
      w.batch = this.#open ?? this.#newBatch();
      w.batch.waiters.add(w);
    });
  }

  /** Confirmed read indexes from a Ready. */
  readStates(states: readonly ReadState[]): void {
    for (const rs of states) {
      const batch = this.#asked.get(hex(rs.requestCtx));
      if (batch === undefined) continue;
      this.#forget(batch);
      for (const w of batch.waiters) {
        w.batch = undefined;
        w.index = rs.index;
        if (rs.index <= this.#applied) this.#settle(w).resolve();
        else this.#waitingApply.push(w);
      }
    }
  }

  /** Everything up to `index` is applied here. */
  appliedTo(index: bigint): void {
    if (index <= this.#applied) return;
    this.#applied = index;
    if (this.#waitingApply.length === 0) return;
    const done = this.#waitingApply.filter((w) => w.index <= index);
    this.#waitingApply = this.#waitingApply.filter((w) => w.index > index);
    for (const w of done) this.#settle(w).resolve();
  }

  /** Fails every read with `error` and refuses new ones with it. */
  close(error: ReplicaStoppedError): void {
    this.#closed ??= error;
    const all = [...this.#waitingApply, ...this.#open?.waiters ?? []];
    for (const b of this.#asked.values()) all.push(...b.waiters);
    for (const b of this.#asked.values()) clearTimeout(b.timer);
    this.#asked.clear();
    this.#open = undefined;
    this.#waitingApply = [];
    for (const w of all) {
      w.batch = undefined;
      this.#settle(w).reject(error);
    }
  }

  /** Opens a batch; its ReadIndex is asked once the reads queued so far are in. */
  #newBatch(): Batch {
    const ctx = crypto.getRandomValues(new Uint8Array(16));
    const batch: Batch = { ctx, key: hex(ctx), waiters: new Set(), timer: undefined };
    this.#open = batch; // before run(): the action may run at once and close it
    this.#d.run((r) => {
      if (this.#open === batch) this.#open = undefined;
      if (batch.waiters.size === 0 || this.#closed !== undefined) return;
      if (r.lead === 0n) {
        const error = new NoLeaderError("no leader is known to confirm the read");
        for (const w of batch.waiters) this.#settle(w).reject(error);
        return;
      }
      this.#asked.set(batch.key, batch);
      r.readIndex(ctx);
      this.#askAgainLater(batch);
    });
    return batch;
  }

  #askAgainLater(batch: Batch): void {
    batch.timer = setTimeout(() => {
      if (!this.#asked.has(batch.key)) return;
      this.#d.run((r) => r.readIndex(batch.ctx));
      this.#askAgainLater(batch);
    }, this.#d.retryMs);
  }

  #forget(batch: Batch): void {
    clearTimeout(batch.timer);
    this.#asked.delete(batch.key);
  }

  #abandon(w: Waiter, reason: unknown): void {
    const batch = w.batch;
    if (batch !== undefined) {
      batch.waiters.delete(w);
      if (batch.waiters.size === 0 && this.#asked.has(batch.key)) this.#forget(batch);
    } else {
      const i = this.#waitingApply.indexOf(w);
      if (i < 0) return; // already settled
      this.#waitingApply.splice(i, 1);
    }
    this.#settle(w).reject(reason);
  }

  #settle(w: Waiter): Waiter {
    w.release();
    w.release = () => {};
    if (w.batch !== undefined) w.batch.waiters.delete(w);
    w.batch = undefined;
    return w;
  }
}

function readTimeout(ms: number): DOMException {
  return new DOMException(`the read was not confirmed within ${ms} ms`, "TimeoutError");
}
