/**
 * Applies committed entries in order: commands to the state machine (whose
 * result answers the proposal seen at that index), membership changes to
 * the core and the membership. Each entry once: those at or below the
 * applied index (a snapshot covers them) are passed over, and commands at
 * or below what a self-persisting state machine reported from `open()` are
 * not applied again, while membership changes always are (raft's
 * membership is rebuilt from the log on every start).
 *
 * @module
 */

import { type Entry, EntryType } from "../mod.ts";
import type { RawNode } from "../raft/mod.ts";
import { applyMembershipChange, decodeMembershipChange, isConfEntry } from "./conf_change.ts";
import type { ConfRequests } from "./conf_requests.ts";
import { StateMachineError } from "./errors.ts";
import type { Membership } from "./membership.ts";
import type { StateMachine } from "./options.ts";
import type { Proposer } from "./proposer.ts";
import type { Tracer } from "./trace.ts";

/**
 * What the applier needs from its replica.
 *
 * @example
 * ```ts ignore
 * const applier = new Applier({ raft, stateMachine, proposer, confRequests, membership }, 0n, 0n);
 * ```
 */
export interface ApplierDeps<R> {
  /** The core (conf changes are applied to it). */
  raft: RawNode;
  /** The state machine. */
  stateMachine: StateMachine<R>;
  /** The proposals to answer. */
  proposer: Proposer<R>;
  /** The membership requests to answer. */
  confRequests: ConfRequests;
  /** The membership to update. */
  membership: Membership;
  /** Gets an `apply` step per command entry applied. */
  tracer?: Tracer;
}

/**
 * The apply step of one replica.
 *
 * @example
 * ```ts ignore
 * const applier = new Applier(deps, snapshotIndex, openedIndex);
 * await applier.apply(rd.committedEntries);
 * console.log(applier.applied);
 * ```
 */
export class Applier<R> {
  readonly #d: ApplierDeps<R>;
  #applied: bigint;
  #smApplied: bigint;

  /** Starts after `applied` (the snapshot's index); commands up to `smApplied` are in the state machine. */
  constructor(deps: ApplierDeps<R>, applied: bigint, smApplied: bigint) {
    this.#d = deps;
    this.#applied = applied;
    this.#smApplied = smApplied > applied ? smApplied : applied;
  }

  /** The index of the last entry applied. */
  get applied(): bigint {
    return this.#applied;
  }

  /** A snapshot at `index` was restored into the state machine. */
  restored(index: bigint): void {
    this.#applied = index;
    this.#smApplied = index;
  }

  /** Applies `entries` (committed, in order); throws {@link StateMachineError} on a failure. */
  async apply(entries: readonly Entry[]): Promise<void> {
    for (const e of entries) {
      if (e.index <= this.#applied) continue;
      if (e.type === EntryType.EntryNormal) {
        if (e.data.length > 0 && e.index > this.#smApplied) await this.#command(e);
      } else if (isConfEntry(e)) {
        this.#membership(e);
      }
      this.#applied = e.index;
    }
  }

  async #command(e: Entry): Promise<void> {
    const d = this.#d;
    let result: R;
    try {
      const out = d.stateMachine.apply(d.proposer.command(e), e.index);
      result = isThenable(out) ? await out : out as R;
    } catch (err) {
      throw new StateMachineError(e.index, err);
    }
    this.#smApplied = e.index;
    if (d.tracer !== undefined) d.tracer("apply", e.index, d.proposer.table.keyAt(e.index));
    d.proposer.table.applied(e.index, result);
  }

  /** The core first; then the request is answered, before a removal can stop this member. */
  #membership(e: Entry): void {
    const change = decodeMembershipChange(e);
    const conf = applyMembershipChange(this.#d.raft, change);
    this.#d.confRequests.applied(change.id, conf);
    this.#d.membership.applied(change, conf, e.index);
  }
}

function isThenable<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | null)?.then === "function";
}
