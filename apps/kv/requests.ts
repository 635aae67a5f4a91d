/**
 * Client requests waiting for raft: a PUT until its entry is applied on
 * this member, a GET until its ReadIndex is confirmed and applied, a
 * membership change until applied. Raft may drop a proposal (no leader
 * yet) or lose a forwarded one; what is safe to repeat is repeated, and
 * every request has a deadline (then 503: it may still take effect).
 *
 * @module
 */

import { fromBinary } from "npm:@bufbuild/protobuf@2.17.0";
import {
  type ConfChange,
  ConfChangeSchema,
  ConfChangeType,
  create,
  type Entry,
  EntryType,
  MessageSchema,
  MessageType,
} from "../../mod.ts";
import { ProposalDroppedError, type RawNode, type ReadState } from "../../raft/mod.ts";
import type { Proposal, ProposalCodec } from "./codec.ts";
import { type NodeStoppedError, RequestTimeoutError } from "./errors.ts";
import { AppliedIndexWaiters, Waiters } from "./waiters.ts";

/** What the requests need from their member. */
export interface RequestsDeps {
  /** Queues an action on the core (the member's RaftLoop). */
  run(action: (raft: RawNode) => void): boolean;
  /** The applied value of a key. */
  read(key: string): string | undefined;
  /** Proposal encoding. */
  codec: ProposalCodec;
  /** Deadline of every request, ms. */
  timeoutMs: number;
  /** This member's id (the sender of its proposals). */
  id: bigint;
}

interface PendingWrite {
  data: Uint8Array;
  wanted: () => boolean;
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/**
 * The requests in flight on one member.
 *
 * @example
 * ```ts ignore
 * const requests = new Requests({ run: (a) => loop.run(a), read: (k) => store.get(k), codec, timeoutMs: 5000 });
 * await requests.put("/a", "1"); // resolves once the member calls writeApplied for it
 * ```
 */
export class Requests {
  readonly #d: RequestsDeps;
  readonly #hasIds: boolean;
  readonly #writes = new Waiters<void>();
  readonly #confChanges = new Waiters<void>();
  readonly #reads = new Waiters<bigint>();
  readonly #inLog = new Set<string>();
  readonly #applied = new AppliedIndexWaiters();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #closed: NodeStoppedError | undefined;
  #writeQueue: PendingWrite[] = [];
  #flushQueued = false;
  #readBatch: string | undefined;
  #nextCcId = BigInt(Math.floor(Math.random() * 2 ** 40)) << 12n;

  /** Creates the table; nothing runs until a request comes. */
  constructor(deps: RequestsDeps) {
    this.#d = deps;
    const probe = deps.codec.decode(deps.codec.encode({ key: "", value: "", id: "x" }));
    this.#hasIds = probe.id === "x";
  }

  /** Writes `key`; resolves once the entry is applied on this member. */
  async put(key: string, value: string): Promise<void> {
    this.#open();
    const id = crypto.randomUUID();
    const waitKey = this.#hasIds ? id : `${key}\u0000${value}`;
    const data = this.#d.codec.encode({ key, value, id: this.#hasIds ? id : undefined });
    const done = this.#writes.wait(waitKey, this.#d.timeoutMs, `PUT ${key}`);
    this.#queueWrite({ data, wanted: () => this.#writes.has(waitKey) });
    await done;
  }

  /** Reads `key`: through ReadIndex (linearizable), or the applied value if `stale`. */
  async get(key: string, stale: boolean): Promise<string | undefined> {
    this.#open();
    if (stale) return this.#d.read(key);
    const started = Date.now();
    // Reads that arrive before the batch's ReadIndex is asked for share it: the index is
    // fixed after each of them began, which is all linearizability needs.
    const ctxKey = this.#readBatch ?? this.#newReadBatch();
    const index = await this.#reads.wait(ctxKey, this.#d.timeoutMs, `GET ${key}`);
    if (!this.#applied.reached(index)) {
      const left = this.#d.timeoutMs - (Date.now() - started);
      await this.#deadline(this.#applied.wait(index), left, `GET ${key}`);
    }
    return this.#d.read(key);
  }

  /** Proposes a membership change; resolves once it is applied on this member. */
  async confChange(type: ConfChangeType, nodeId: bigint, context: Uint8Array): Promise<void> {
    this.#open();
    const id = ++this.#nextCcId;
    const cc = create(ConfChangeSchema, { id, type, nodeId, context });
    const key = `${id}`;
    const what = `${
      type === ConfChangeType.ConfChangeAddNode ? "adding" : "removing"
    } member ${nodeId}`;
    const done = this.#confChanges.wait(key, this.#d.timeoutMs, what);
    this.#proposeConfChange(cc, key);
    try {
      await done;
    } finally {
      this.#inLog.delete(key);
    }
  }

  // ---- what the member reports as it handles Readys ----

  /** Entries appended to this member's log (before they commit). */
  appended(entries: Entry[]): void {
    if (this.#confChanges.size === 0) return;
    for (const e of entries) {
      if (e.type !== EntryType.EntryConfChange) continue;
      const key = `${fromBinary(ConfChangeSchema, e.data).id}`;
      if (this.#confChanges.has(key)) this.#inLog.add(key);
    }
  }

  /** Confirmed read indexes. */
  readStates(states: ReadState[]): void {
    for (const rs of states) this.#reads.resolveAll(hex(rs.requestCtx), rs.index);
  }

  /** A write was applied. */
  writeApplied(p: Proposal): void {
    this.#writes.resolve(this.#hasIds ? p.id ?? "" : `${p.key}\u0000${p.value}`, undefined);
  }

  /** A conf change was applied. */
  confChangeApplied(cc: ConfChange): void {
    this.#confChanges.resolve(`${cc.id}`, undefined);
  }

  /** Everything up to `index` is applied. */
  appliedTo(index: bigint): void {
    this.#applied.advance(index);
  }

  /** Fails every request in flight and refuses new ones with `reason`. */
  close(reason: NodeStoppedError): void {
    if (this.#closed !== undefined) return;
    this.#closed = reason;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#writeQueue = [];
    this.#readBatch = undefined;
    this.#writes.rejectAll(reason);
    this.#confChanges.rejectAll(reason);
    this.#reads.rejectAll(reason);
    this.#applied.rejectAll(reason);
  }

  // ---- internals ----

  #open(): void {
    if (this.#closed !== undefined) throw this.#closed;
  }

  #later(fn: () => void, ms: number): void {
    if (this.#closed !== undefined) return;
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    this.#timers.add(t);
  }

  /** Proposes; while raft drops it at once (no leader yet), again every 100 ms while `wanted`. */
  #proposeUntilTaken(propose: (r: RawNode) => void, wanted: () => boolean): void {
    if (this.#closed !== undefined) return;
    this.#d.run((r) => {
      if (!wanted()) return;
      try {
        propose(r);
      } catch (e) {
        if (!(e instanceof ProposalDroppedError)) throw e;
        this.#later(() => this.#proposeUntilTaken(propose, wanted), 100);
      }
    });
  }

  /** Opens a batch of reads; its ReadIndex is asked for once the reads queued so far are in. */
  #newReadBatch(): string {
    const ctx = crypto.getRandomValues(new Uint8Array(16));
    const ctxKey = hex(ctx);
    this.#readBatch = ctxKey; // before run(): the action may run at once and close it
    this.#d.run((r) => {
      if (this.#readBatch === ctxKey) this.#readBatch = undefined;
      r.readIndex(ctx);
    });
    this.#later(() => this.#askAgain(ctx, ctxKey), 300);
    return ctxKey;
  }

  /** Asks again every 300 ms until answered (a lost request is harmless to repeat). */
  #askAgain(ctx: Uint8Array, ctxKey: string): void {
    if (!this.#reads.has(ctxKey)) return;
    this.#d.run((r) => r.readIndex(ctx));
    this.#later(() => this.#askAgain(ctx, ctxKey), 300);
  }

  /**
   * Queues a write; the writes queued until the member's loop runs go to
   * raft as one MsgProp (one append and one MsgApp per follower for all of
   * them, not one per write).
   */
  #queueWrite(w: PendingWrite): void {
    this.#writeQueue.push(w);
    if (this.#flushQueued) return;
    this.#flushQueued = this.#d.run((r) => {
      this.#flushQueued = false;
      const batch = this.#writeQueue.filter((x) => x.wanted());
      this.#writeQueue = [];
      this.#proposeWrites(r, batch);
    });
  }

  /** Proposes a batch; if raft drops it at once (no leader yet), again in 100 ms (while wanted). */
  #proposeWrites(r: RawNode, batch: PendingWrite[]): void {
    if (batch.length === 0) return;
    try {
      r.step(create(MessageSchema, {
        type: MessageType.MsgProp,
        from: this.#d.id,
        entries: batch.map((w) => ({ data: w.data })),
      }));
    } catch (e) {
      if (!(e instanceof ProposalDroppedError)) throw e;
      // Not repeated once raft took it: a repeat could land after a later write to the key.
      this.#later(() => {
        for (const w of batch) if (w.wanted()) this.#queueWrite(w);
      }, 100);
    }
  }

  /**
   * A leader turns a forwarded conf change into a no-op while another is
   * pending (a new leader: until its first entry is applied), and a
   * forwarded proposal can be lost. So, until it shows up in this member's
   * log, the change is proposed again every second. A repeat that does land
   * is harmless: adding a member twice or removing it twice is a no-op.
   */
  #proposeConfChange(cc: ConfChange, key: string): void {
    const wanted = () => this.#confChanges.has(key) && !this.#inLog.has(key);
    this.#proposeUntilTaken((r) => r.proposeConfChange(cc), wanted);
    this.#later(() => {
      if (wanted()) this.#proposeConfChange(cc, key);
    }, 1000);
  }

  #deadline(p: Promise<void>, ms: number, what: string): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RequestTimeoutError(what, this.#d.timeoutMs)), ms);
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }
}
