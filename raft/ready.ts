/**
 * Ready: what the application must do after raft changed state — persist,
 * send, apply — and the small state records it carries.
 *
 * @module
 */

import type { Entry, HardState, Message, Snapshot } from "../raftpb/mod.ts";
import type { ReadState, StateType } from "./raft_core.ts";

/**
 * Volatile state: the known leader and this member's role. Not persisted.
 *
 * @example
 * ```ts
 * import type { SoftState } from "@rafthttp/rafthttp/raft";
 * const s: SoftState = { lead: 1n, raftState: "leader" };
 * console.log(s.raftState); // leader
 * ```
 */
export interface SoftState {
  /** The known leader (0n: none). */
  lead: bigint;
  /** This member's role. */
  raftState: StateType;
}

/**
 * One batch of work for the application, in this order: persist
 * `hardState`, `entries` and `snapshot` (fsync if `mustSync`); send
 * `messages`; apply `snapshot` and `committedEntries`; then call
 * `RawNode.advance(ready)`.
 *
 * @example
 * ```ts
 * import { MemoryStorage, RawNode } from "@rafthttp/rafthttp/raft";
 * const node = new RawNode({ id: 1n, storage: new MemoryStorage() });
 * node.bootstrap([1n]);
 * const rd = node.ready();
 * console.log(rd.entries.length, rd.mustSync); // 1 true
 * ```
 */
export interface Ready {
  /** Set only when the leader or role changed. */
  softState?: SoftState;
  /** Set only when term, vote or commit changed: persist it. */
  hardState?: HardState;
  /** Confirmed ReadIndex requests. */
  readStates: ReadState[];
  /** Entries to persist before sending `messages`. */
  entries: Entry[];
  /** A snapshot from the leader to persist and apply. */
  snapshot?: Snapshot;
  /** Committed entries to apply to the state machine, in order. */
  committedEntries: Entry[];
  /** Messages to send after persisting (MsgSnap: stream the snapshot via sendSnapshot). */
  messages: Message[];
  /** True if hardState or entries must be synced to disk before sending. */
  mustSync: boolean;
}
