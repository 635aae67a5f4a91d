/**
 * Membership change requests waiting to be applied on this replica. A
 * request is proposed until raft takes it (none is taken while there is no
 * leader, or while another change is pending), and proposed again while it
 * has not shown up in this replica's log (a forwarded change can be lost
 * with a leader, or turned into an empty entry by a leader with one
 * pending). A repeat that lands is harmless: adding a member twice, or
 * removing it twice, changes nothing the second time.
 *
 * @module
 */

import {
  type ConfChange,
  ConfChangeSchema,
  type ConfChangeType,
  create,
  type Entry,
} from "../mod.ts";
import { ProposalDroppedError, type RawNode } from "../raft/mod.ts";
import { decodeMembershipChange, isConfEntry } from "./conf_change.ts";
import { NoLeaderError, OutcomeUnknownError, type ReplicaStoppedError } from "./errors.ts";
import type { WaitOptions } from "./proposals.ts";

/**
 * What the requests need from their replica.
 *
 * @example
 * ```ts ignore
 * const requests = new ConfRequests({ run: (a) => loop.run(a), retryMs: 200, reproposeMs: 1000 });
 * ```
 */
export interface ConfRequestsDeps {
  /** Queues an action on the core (the replica's RaftLoop). */
  run(action: (raft: RawNode) => void): boolean;
  /** Delay before proposing again after raft refused, ms. */
  retryMs: number;
  /** Delay before proposing again a change not yet in this log, ms. */
  reproposeMs: number;
}

interface Request {
  cc: ConfChange;
  taken: boolean;
  inLog: boolean;
  dropReason: string;
  timer: ReturnType<typeof setTimeout> | undefined;
  resolve(): void;
  reject(error: unknown): void;
  release(): void;
}

/**
 * The membership requests of one replica.
 *
 * @example
 * ```ts ignore
 * const done = requests.request(ConfChangeType.ConfChangeAddNode, 4n, context, { timeoutMs: 5000 });
 * // as the replica appends and applies entries:
 * requests.appended(rd.entries);
 * requests.applied(change.id); // done resolves
 * ```
 */
export class ConfRequests {
  readonly #d: ConfRequestsDeps;
  readonly #pending = new Map<bigint, Request>();
  #closed: Error | undefined;

  /** Creates the table; nothing runs until a request comes. */
  constructor(deps: ConfRequestsDeps) {
    this.#d = deps;
  }

  /** Requests in flight. */
  get size(): number {
    return this.#pending.size;
  }

  /** Proposes the change; resolves once it is applied on this replica. */
  request(
    type: ConfChangeType,
    nodeId: bigint,
    context: Uint8Array,
    options: WaitOptions,
  ): Promise<void> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const id = crypto.getRandomValues(new BigUint64Array(1))[0] | 1n;
    const cc = create(ConfChangeSchema, { id, type, nodeId, context });
    return new Promise<void>((resolve, reject) => {
      const r: Request = {
        cc,
        taken: false,
        inLog: false,
        dropReason: "no leader is known",
        timer: undefined,
        resolve,
        reject,
        release: () => {},
      };
      const onAbort = () => this.#abandon(r, signal!.reason, "the signal aborted");
      signal?.addEventListener("abort", onAbort, { once: true });
      const ms = options.timeoutMs ?? Infinity;
      const deadline = Number.isFinite(ms)
        ? setTimeout(() => this.#abandon(r, undefined, `not applied within ${ms} ms`), ms)
        : undefined;
      r.release = () => {
        clearTimeout(deadline);
        clearTimeout(r.timer);
        signal?.removeEventListener("abort", onAbort);
      };
      this.#pending.set(id, r);
      this.#propose(r);
    });
  }

  /** Entries appended to this replica's log: requests among them are in the log. */
  appended(entries: readonly Entry[]): void {
    if (this.#pending.size === 0) return;
    for (const e of entries) {
      if (!isConfEntry(e)) continue;
      const r = this.#pending.get(decodeMembershipChange(e).id);
      if (r !== undefined) r.inLog = true;
    }
  }

  /** The change with request id `id` was applied here. */
  applied(id: bigint): void {
    const r = this.#pending.get(id);
    if (r !== undefined) this.#settle(r).resolve();
  }

  /** Fails every request with `error` and refuses new ones with it. */
  close(error: ReplicaStoppedError): void {
    this.#closed ??= error;
    for (const r of [...this.#pending.values()]) this.#settle(r).reject(error);
  }

  #propose(r: Request): void {
    this.#d.run((raft) => {
      if (!this.#pending.has(r.cc.id) || r.inLog) return;
      try {
        raft.proposeConfChange(r.cc);
        r.taken = true;
        this.#later(r, this.#d.reproposeMs);
      } catch (e) {
        if (!(e instanceof ProposalDroppedError)) throw e;
        r.dropReason = e.reason;
        this.#later(r, this.#d.retryMs);
      }
    });
  }

  #later(r: Request, ms: number): void {
    clearTimeout(r.timer);
    r.timer = setTimeout(() => {
      if (this.#pending.has(r.cc.id) && !r.inLog) this.#propose(r);
    }, ms);
  }

  /** Ends a wait: never taken, nothing was sent (the signal's reason, or no leader); else unknown. */
  #abandon(r: Request, reason: unknown, why: string): void {
    if (!this.#pending.has(r.cc.id)) return;
    this.#settle(r);
    if (r.taken) r.reject(new OutcomeUnknownError(why, { cause: reason }));
    else r.reject(reason ?? new NoLeaderError(r.dropReason));
  }

  #settle(r: Request): Request {
    r.release();
    this.#pending.delete(r.cc.id);
    return r;
  }
}
