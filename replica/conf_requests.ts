/**
 * Membership change requests waiting to be applied on this replica. A
 * request is proposed until raft takes it (none is taken while there is no
 * leader, or while another change is pending), and proposed again while it
 * has not shown up in this replica's log (a forwarded change can be lost
 * with a leader, or turned into an empty entry by a leader with one
 * pending). A repeat that lands is harmless: adding a member twice, or
 * removing it twice, changes nothing the second time. A request that
 * enters a joint configuration is answered once it is left (the leader
 * proposes the leave by itself), when the final configuration is in force.
 *
 * @module
 */

import {
  type ConfChange,
  ConfChangeSchema,
  ConfChangeTransition,
  type ConfChangeType,
  type ConfChangeV2,
  ConfChangeV2Schema,
  type ConfState,
  create,
  type Entry,
} from "../mod.ts";
import { ProposalDroppedError, type RawNode } from "../raft/mod.ts";
import { decodeMembershipChange, isConfEntry, type MembershipStep } from "./conf_change.ts";
import { encodeMembersContext } from "./conf_context.ts";
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
  id: bigint;
  cc: ConfChange | ConfChangeV2;
  taken: boolean;
  inLog: boolean;
  /** Applied, and it entered a joint configuration: answered when that is left. */
  joint: boolean;
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
 * requests.applied(change.id, confState); // done resolves
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

  /** Proposes a single-step change (a ConfChange); resolves once it is applied on this replica. */
  request(
    type: ConfChangeType,
    nodeId: bigint,
    context: Uint8Array,
    options: WaitOptions,
  ): Promise<void> {
    const id = newRequestId();
    return this.#request(id, create(ConfChangeSchema, { id, type, nodeId, context }), options);
  }

  /**
   * Proposes `steps` as one ConfChangeV2 (transition auto: joint when there
   * is more than one), the request id and the added members' `urls` in its
   * context; resolves once the final configuration is applied here.
   */
  requestSteps(
    steps: readonly MembershipStep[],
    urls: ReadonlyMap<bigint, readonly string[]>,
    options: WaitOptions,
  ): Promise<void> {
    const id = newRequestId();
    const cc = create(ConfChangeV2Schema, {
      transition: ConfChangeTransition.ConfChangeTransitionAuto,
      changes: steps.map((s) => ({ type: s.type, nodeId: s.nodeId })),
      context: encodeMembersContext({ requestId: id, urls }),
    });
    return this.#request(id, cc, options);
  }

  #request(id: bigint, cc: ConfChange | ConfChangeV2, options: WaitOptions): Promise<void> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const r: Request = {
        id,
        cc,
        taken: false,
        inLog: false,
        joint: false,
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

  /**
   * The change with request id `id` was applied here, making `conf`: its
   * request is answered, unless `conf` is joint (then once a later change
   * leaves it, as the leave entry, whose id is 0n, does).
   */
  applied(id: bigint, conf: ConfState): void {
    const joint = conf.votersOutgoing.length > 0;
    const r = this.#pending.get(id);
    if (r !== undefined && joint) {
      r.joint = true;
      r.inLog = true; // applied: never proposed again
      clearTimeout(r.timer);
    } else if (r !== undefined) {
      this.#settle(r).resolve();
    }
    if (joint) return;
    for (const w of [...this.#pending.values()]) if (w.joint) this.#settle(w).resolve();
  }

  /** Fails every request with `error` and refuses new ones with it. */
  close(error: ReplicaStoppedError): void {
    this.#closed ??= error;
    for (const r of [...this.#pending.values()]) this.#settle(r).reject(error);
  }

  #propose(r: Request): void {
    this.#d.run((raft) => {
      if (!this.#pending.has(r.id) || r.inLog) return;
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
      if (this.#pending.has(r.id) && !r.inLog) this.#propose(r);
    }, ms);
  }

  /** Ends a wait: never taken, nothing was sent (the signal's reason, or no leader); else unknown. */
  #abandon(r: Request, reason: unknown, why: string): void {
    if (!this.#pending.has(r.id)) return;
    this.#settle(r);
    if (r.taken) r.reject(new OutcomeUnknownError(why, { cause: reason }));
    else r.reject(reason ?? new NoLeaderError(r.dropReason));
  }

  #settle(r: Request): Request {
    r.release();
    this.#pending.delete(r.id);
    return r;
  }
}

/** A random request id, never 0 (the id of changes that answer no request). */
function newRequestId(): bigint {
  return crypto.getRandomValues(new BigUint64Array(1))[0] | 1n;
}
