/**
 * Proposals waiting for their entry: queued (not yet given to raft), sent
 * (raft took it; not yet in this replica's log) and seen (in the log at a
 * known index). An applied entry answers the proposal seen at its index and,
 * where keys are content (raw entries), every other proposal of the same key
 * that was sent before the entry reached this log: the entry does what each
 * of them asked, and it was committed after each of them began. Nothing else
 * ever resolves one. A proposal leaves the table when
 * it is answered, when its signal aborts or its time is up, when a new term
 * began since it was sent and its entry never showed up in this log, when
 * its entry was replaced in the log, and when a snapshot replaced the log.
 *
 * @module
 */

import type { Entry } from "../raftpb/mod.ts";
import { Deadlines, type Timed } from "./deadlines.ts";
import { OutcomeUnknownError, type ReplicaStoppedError } from "./errors.ts";

/**
 * Options of one request: an abort signal and a time limit, ms.
 *
 * @example
 * ```ts
 * import type { WaitOptions } from "@rafthttp/rafthttp/replica";
 * const o: WaitOptions = { signal: AbortSignal.timeout(5000), timeoutMs: 2000 };
 * console.log(o.timeoutMs); // 2000
 * ```
 */
export interface WaitOptions {
  /** Aborting it ends the wait (within 10 ms; the request may still take effect once sent). */
  signal?: AbortSignal;
  /** Time limit, ms; the replica's `requestTimeoutMs` when omitted. */
  timeoutMs?: number;
}

/**
 * One proposal in the table.
 *
 * @example
 * ```ts
 * import type { PendingProposal } from "./proposals.ts";
 * const p: PendingProposal = { key: "7", data: new Uint8Array([1]) };
 * console.log(p.key); // 7
 * ```
 */
export interface PendingProposal {
  /** What identifies its entry: the envelope's seq, or the user's `match` key. */
  readonly key: string;
  /** The entry's bytes. */
  readonly data: Uint8Array;
}

/** What a proposal's time limit and signal end: its table's abandon. */
interface Owner<R> {
  abandon(p: Pending<R>, reason: unknown, why: string): void;
}

/**
 * One proposal: its own item in the table's sweep of time limits and
 * signals (one object per proposal and no closures: allocation on this
 * path showed as garbage collection time at thousands of writes a second).
 */
class Pending<R> implements PendingProposal, Timed {
  state: "queued" | "sent" | "seen" = "queued";
  term = 0n;
  index = 0n;
  /** Still in the table (not answered, failed or abandoned). */
  live = true;

  constructor(
    readonly key: string,
    readonly data: Uint8Array,
    readonly resolve: (value: R) => void,
    readonly reject: (error: unknown) => void,
    readonly ms: number,
    readonly at: number,
    readonly signal: AbortSignal | undefined,
    readonly owner: Owner<R>,
  ) {}

  expire(): void {
    this.owner.abandon(this, timeoutError(this.ms), `no answer within ${this.ms} ms`);
  }

  abort(): void {
    this.owner.abandon(this, this.signal!.reason, "the signal aborted");
  }
}

/**
 * Names the entry bytes a proposal of this replica may own (undefined: none of ours).
 *
 * @example
 * ```ts
 * import type { KeyOf } from "./proposals.ts";
 * const keyOf: KeyOf = (data) => data.length > 0 ? `${data[0]}` : undefined;
 * console.log(keyOf(new Uint8Array([7]))); // 7
 * ```
 */
export type KeyOf = (data: Uint8Array) => string | undefined;

/**
 * The proposals of one replica.
 *
 * @example
 * ```ts
 * import { Proposals } from "./proposals.ts";
 * const t = new Proposals<number>();
 * const p = t.add("7", new Uint8Array([7]), { timeoutMs: 1000 });
 * const batch = t.takeQueued();
 * t.sent(batch, 1n);
 * t.appended([{ index: 5n, data: new Uint8Array([7]) } as never], () => "7");
 * t.applied(5n, 42);
 * console.log(await p); // 42
 * ```
 */
export class Proposals<R = unknown> {
  #queued: Pending<R>[] = [];
  readonly #unseen = new Map<string, Pending<R>[]>();
  readonly #seen = new Map<bigint, Pending<R>>();
  /** Per index: the other proposals of its entry's key that were sent when it was appended. */
  readonly #alsoAnswered = new Map<bigint, Pending<R>[]>();
  #count = 0;
  /** The highest index a proposal was seen at (the bound of #seen and #alsoAnswered). */
  #lastSeen = 0n;
  #closed: Error | undefined;
  readonly #deadlines = new Deadlines();
  readonly #owner: Owner<R> = { abandon: (p, reason, why) => this.#abandon(p, reason, why) };

  /** Proposals in the table. */
  get size(): number {
    return this.#count;
  }

  /** Queues a proposal; the promise settles as the module says. */
  add(key: string, data: Uint8Array, options: WaitOptions): Promise<R> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const ms = options.timeoutMs ?? Infinity;
    return new Promise<R>((resolve, reject) => {
      const at = performance.now() + ms;
      const p = new Pending<R>(key, data, resolve, reject, ms, at, signal, this.#owner);
      if (ms !== Infinity || signal !== undefined) this.#deadlines.track(p);
      this.#queued.push(p);
      this.#count++;
    });
  }

  /** Takes what is queued, to be proposed as one batch. */
  takeQueued(): PendingProposal[] {
    const batch = this.#queued;
    this.#queued = [];
    return batch;
  }

  /** Raft took the batch in `term` (it is appended, or forwarded to the leader). */
  sent(batch: PendingProposal[], term: bigint): void {
    for (const x of batch) {
      const p = x as Pending<R>;
      if (p.state !== "queued" || !p.live) continue;
      p.state = "sent";
      p.term = term;
      const list = this.#unseen.get(p.key);
      if (list === undefined) this.#unseen.set(p.key, [p]);
      else list.push(p);
    }
  }

  /** Raft refused the batch at once: nothing was sent. */
  dropped(batch: PendingProposal[], error: Error): void {
    for (const x of batch) {
      const p = x as Pending<R>;
      if (p.state === "queued" && p.live) this.#settle(p).reject(error);
    }
  }

  /**
   * Entries appended to this replica's log (a contiguous run): proposals
   * seen where these entries now stand, or beyond them, were replaced and
   * can no longer commit; sent proposals whose entry is among them are seen.
   */
  appended(entries: readonly Entry[], keyOf: KeyOf): void {
    if (entries.length === 0 || this.#count === 0) return;
    const first = entries[0].index;
    // Mostly the log only grows: then nothing seen or answered stands at `first` or after it.
    if (first <= this.#lastSeen) this.#replaced(entries, keyOf);
    if (this.#unseen.size === 0) return;
    for (const e of entries) {
      if (e.data.length === 0) continue;
      const key = keyOf(e.data);
      const list = key === undefined ? undefined : this.#unseen.get(key);
      if (list === undefined) continue;
      const p = list.shift()!;
      if (list.length === 0) this.#unseen.delete(key!);
      else this.#alsoAnswered.set(e.index, [...list]);
      p.state = "seen";
      p.index = e.index;
      this.#seen.set(e.index, p);
      this.#lastSeen = e.index;
    }
  }

  /** Entries from `entries[0].index` on were written over: what was seen there can no longer commit. */
  #replaced(entries: readonly Entry[], keyOf: KeyOf): void {
    const first = entries[0].index;
    const last = entries[entries.length - 1].index;
    for (const [index, p] of this.#seen) {
      if (index < first) continue;
      const now = index <= last ? entries[Number(index - first)] : undefined;
      if (now === undefined || keyOf(now.data) !== p.key) {
        this.#settle(p).reject(
          new OutcomeUnknownError(`its entry at ${index} was replaced by a new leader's log`),
        );
      }
    }
    for (const index of this.#alsoAnswered.keys()) {
      if (index >= first) this.#alsoAnswered.delete(index);
    }
  }

  /** The key of the proposal seen at `index`, if one is. */
  keyAt(index: bigint): string | undefined {
    return this.#seen.get(index)?.key;
  }

  /**
   * The entry at `index` was applied with `result`: it answers the proposal
   * seen at `index` and the others of its key sent before it was appended
   * (see the module); true if it answered any. The entry is the one they
   * were matched with at append: one appended over it since then took
   * them out of the table ({@link appended}), and so did a snapshot.
   */
  applied(index: bigint, result: R): boolean {
    let answered = false;
    const p = this.#seen.get(index);
    if (p !== undefined) {
      this.#settle(p).resolve(result);
      answered = true;
    }
    const others = this.#alsoAnswered.get(index);
    if (others === undefined) return answered;
    this.#alsoAnswered.delete(index);
    for (const q of others) {
      if (!q.live) continue;
      this.#settle(q).resolve(result);
      answered = true;
    }
    return answered;
  }

  /**
   * A new term began: proposals sent in an earlier term whose entry never
   * reached this log were lost with the old leader, or may commit later
   * without this replica knowing which: their outcome is unknown.
   */
  termChanged(term: bigint): void {
    for (const list of [...this.#unseen.values()]) {
      for (const p of [...list]) {
        if (p.term >= term) continue;
        this.#settle(p).reject(
          new OutcomeUnknownError(`the leader changed (term ${term}) before it reached this log`),
        );
      }
    }
  }

  /** A snapshot replaced this log: what was sent may be in it or lost. */
  snapshotInstalled(index: bigint): void {
    const why = `a snapshot at ${index} replaced this replica's log`;
    for (const list of [...this.#unseen.values()]) {
      for (const p of [...list]) this.#settle(p).reject(new OutcomeUnknownError(why));
    }
    for (const p of [...this.#seen.values()]) this.#settle(p).reject(new OutcomeUnknownError(why));
    this.#alsoAnswered.clear();
  }

  /** Fails every proposal with `error` and refuses new ones with it. */
  close(error: ReplicaStoppedError): void {
    this.#closed ??= error;
    const all = [...this.#queued, ...[...this.#unseen.values()].flat(), ...this.#seen.values()];
    this.#queued = [];
    this.#unseen.clear();
    this.#seen.clear();
    this.#alsoAnswered.clear();
    this.#count = 0;
    for (const p of all) {
      p.live = false;
      this.#deadlines.untrack(p);
      p.reject(error);
    }
  }

  /** Ends a wait on a signal or time limit: not sent, the signal's reason; else unknown. */
  #abandon(p: Pending<R>, reason: unknown, why: string): void {
    if (!p.live) return;
    const sent = p.state !== "queued";
    this.#settle(p).reject(sent ? new OutcomeUnknownError(why, { cause: reason }) : reason);
  }

  /** Takes `p` out of the table (once); returns it to be resolved or rejected. */
  #settle(p: Pending<R>): Pending<R> {
    p.live = false;
    this.#deadlines.untrack(p);
    this.#count--;
    if (p.state === "queued") this.#queued = this.#queued.filter((q) => q !== p);
    else if (p.state === "seen") this.#seen.delete(p.index);
    else {
      // In place (callers that iterate a list while settling iterate a copy).
      const list = this.#unseen.get(p.key) ?? [];
      const i = list.indexOf(p);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.#unseen.delete(p.key);
    }
    return p;
  }
}

function timeoutError(ms: number): DOMException {
  return new DOMException(`no answer within ${ms} ms`, "TimeoutError");
}
