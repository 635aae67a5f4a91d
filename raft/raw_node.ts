/**
 * RawNode: the application's handle on a Raft member (etcd's
 * `raft.RawNode`). Drive it with tick(), feed it messages with step(),
 * and process its Ready batches.
 *
 * @module
 */

import { toBinary } from "npm:@bufbuild/protobuf@2.17.0";
import {
  type ConfChange,
  ConfChangeSchema,
  ConfChangeType,
  type ConfChangeV2,
  ConfChangeV2Schema,
  type ConfState,
  create,
  EntryType,
  type HardState,
  HardStateSchema,
  type Message,
  MessageSchema,
  MessageType,
  SnapshotStatus,
} from "../raftpb/mod.ts";
import { bootstrapEntries } from "./bootstrap.ts";
import type { RaftConfig } from "./config.ts";
import { applyConfChange, maybeAutoLeave } from "./confchange/conf_change.ts";
import { ConfigError, LocalMessageError, RaftError, UnknownPeerError } from "./errors.ts";
import { isLocalMsg, isResponseMsg } from "./messages.ts";
import type { ProgressState } from "./tracker/progress.ts";
import { RaftCore, type StateType } from "./raft_core.ts";
import { roleRules } from "./role_rules.ts";
import type { Ready, SoftState } from "./ready.ts";

/**
 * A snapshot of a member's state for monitoring and tests.
 *
 * @example
 * ```ts
 * import { MemoryStorage, RawNode, type Status } from "@rafthttp/rafthttp/raft";
 * const st: Status = new RawNode({ id: 1n, storage: new MemoryStorage() }).status();
 * console.log(st.state, st.term); // follower 0n
 * ```
 */
export interface Status {
  /** This member. */
  id: bigint;
  /** Current term. */
  term: bigint;
  /** Vote in the current term (0n: none). */
  vote: bigint;
  /** The known leader (0n: none). */
  lead: bigint;
  /** Role. */
  state: StateType;
  /** Commit index. */
  commit: bigint;
  /** Applied index. */
  applied: bigint;
  /**
   * The membership: voters, learners, and in a joint configuration
   * votersOutgoing, learnersNext and autoLeave. Shared and frozen.
   */
  config: ConfState;
  /** On the leader: each member's replication progress. */
  progress?: Map<bigint, { match: bigint; next: bigint; state: ProgressState }>;
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/**
 * One Raft member, as the application drives it.
 *
 * @example
 * ```ts
 * import { fromBinary } from "npm:@bufbuild/protobuf@2.17.0";
 * import { ConfChangeSchema, EntryType } from "@rafthttp/rafthttp";
 * import { MemoryStorage, RawNode } from "@rafthttp/rafthttp/raft";
 * const storage = new MemoryStorage();
 * const node = new RawNode({ id: 1n, storage });
 * node.bootstrap([1n]);
 * for (let i = 0; i < 30 && node.status().state !== "leader"; i++) {
 *   node.tick();
 *   while (node.hasReady()) {
 *     const rd = node.ready();
 *     if (rd.hardState) storage.setHardState(rd.hardState);
 *     storage.append(rd.entries);
 *     for (const e of rd.committedEntries) {
 *       if (e.type === EntryType.EntryConfChange) {
 *         node.applyConfChange(fromBinary(ConfChangeSchema, e.data));
 *       }
 *     }
 *     node.advance(rd);
 *   }
 * }
 * console.log(node.status().state); // leader
 * ```
 */
export class RawNode {
  readonly #r: RaftCore;
  #prevSoft: SoftState;
  #prevHard: HardState;

  /** Creates the member from its config and storage (restarting from what storage holds). */
  constructor(config: RaftConfig) {
    this.#r = new RaftCore(config, roleRules);
    this.#prevSoft = this.#softState();
    this.#prevHard = this.#r.hardState();
  }

  /**
   * Starts a brand-new cluster as etcd's StartNode does: one
   * EntryConfChange (AddNode) per peer at term 1, index 1..n, committed.
   * The entries come out in the next Ready to persist and apply. Storage
   * must be empty.
   */
  bootstrap(peers: bigint[]): void {
    if (peers.length === 0) throw new ConfigError("bootstrap needs at least one peer");
    const r = this.#r;
    if (r.log.lastIndex() !== 0n) {
      throw new RaftError("cannot bootstrap a non-empty storage; restart from it instead");
    }
    // Nothing is persisted yet: an empty previous HardState makes the next Ready carry one.
    this.#prevHard = create(HardStateSchema);
    r.becomeFollower(1n, 0n);
    r.log.append(bootstrapEntries(peers));
    r.log.committed = BigInt(peers.length);
    for (const nodeId of peers) {
      applyConfChange(
        r,
        create(ConfChangeSchema, { type: ConfChangeType.ConfChangeAddNode, nodeId }),
      );
    }
  }

  /** Advances the logical clock (elections, heartbeats). */
  tick(): void {
    this.#r.tick();
  }

  /** Campaigns now instead of waiting for the election timeout. */
  campaign(): void {
    this.#r.step(create(MessageSchema, { type: MessageType.MsgHup, from: this.#r.id }));
  }

  /** Proposes `data` to be appended; throws ProposalDroppedError if no leader can take it. */
  propose(data: Uint8Array): void {
    this.#r.step(create(MessageSchema, {
      type: MessageType.MsgProp,
      from: this.#r.id,
      entries: [{ data }],
    }));
  }

  /**
   * Proposes a membership change: a ConfChange (one member, an
   * EntryConfChange) or a ConfChangeV2 (several, an EntryConfChangeV2; see
   * {@link RawNode.applyConfChange} for when it goes through a joint
   * configuration). One at a time: while one is pending, and in a joint
   * configuration for anything but the empty ConfChangeV2 that leaves it,
   * the leader refuses with ProposalDroppedError.
   */
  proposeConfChange(cc: ConfChange | ConfChangeV2): void {
    const v2 = cc.$typeName === "raftpb.ConfChangeV2";
    const data = v2 ? toBinary(ConfChangeV2Schema, cc) : toBinary(ConfChangeSchema, cc);
    this.#r.step(create(MessageSchema, {
      type: MessageType.MsgProp,
      from: this.#r.id,
      entries: [{ type: v2 ? EntryType.EntryConfChangeV2 : EntryType.EntryConfChange, data }],
    }));
  }

  /**
   * Steps a message from the network. Throws LocalMessageError for
   * local-only types and UnknownPeerError for a response from a non-member.
   */
  step(m: Message): void {
    if (isLocalMsg(m.type)) throw new LocalMessageError(m.type);
    if (isResponseMsg(m.type) && !this.#r.prs.progress.has(m.from)) {
      throw new UnknownPeerError(m.from);
    }
    this.#r.step(m);
  }

  /** Asks for a linearizable read point; the answer arrives as a ReadState with `ctx`. */
  readIndex(ctx: Uint8Array): void {
    this.#r.step(create(MessageSchema, {
      type: MessageType.MsgReadIndex,
      entries: [{ data: ctx }],
    }));
  }

  /** Asks the leader to hand leadership to `to`. */
  transferLeader(to: bigint): void {
    this.#r.step(create(MessageSchema, { type: MessageType.MsgTransferLeader, from: to }));
  }

  /** True if ready() would return work. */
  hasReady(): boolean {
    const r = this.#r;
    const soft = this.#softState();
    if (soft.lead !== this.#prevSoft.lead || soft.raftState !== this.#prevSoft.raftState) {
      return true;
    }
    const prev = this.#prevHard;
    if (r.term !== prev.term || r.vote !== prev.vote || r.log.committed !== prev.commit) {
      return true;
    }
    if (r.log.unstable.snapshot) return true;
    if (r.msgs.length > 0 || r.readStates.length > 0) return true;
    return r.log.unstable.entries.length > 0 || r.log.hasNextEnts();
  }

  /** The pending work. Process it, then call advance(rd) before the next ready(). */
  ready(): Ready {
    const r = this.#r;
    const soft = this.#softState();
    const hs = r.hardState();
    const entries = r.log.unstable.entries.slice();
    const rd: Ready = {
      readStates: r.readStates,
      entries,
      committedEntries: r.log.nextEnts(),
      messages: r.msgs,
      mustSync: entries.length > 0 || hs.vote !== this.#prevHard.vote ||
        hs.term !== this.#prevHard.term,
    };
    if (soft.lead !== this.#prevSoft.lead || soft.raftState !== this.#prevSoft.raftState) {
      rd.softState = soft;
    }
    if (!sameHardState(hs, this.#prevHard)) rd.hardState = hs;
    if (r.log.unstable.snapshot) rd.snapshot = r.log.unstable.snapshot;
    r.msgs = [];
    r.readStates = [];
    return rd;
  }

  /** Marks `rd` as persisted and applied. */
  advance(rd: Ready): void {
    const r = this.#r;
    if (rd.softState) this.#prevSoft = rd.softState;
    if (rd.hardState) this.#prevHard = rd.hardState;
    const n = rd.committedEntries.length;
    const applied = n > 0 ? rd.committedEntries[n - 1].index : rd.snapshot?.metadata?.index ?? 0n;
    if (applied > 0n) {
      r.log.appliedTo(applied);
      maybeAutoLeave(r, applied);
    }
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1];
      r.log.unstable.stableTo(last.index, last.term);
    }
    if (rd.snapshot?.metadata) r.log.unstable.stableSnapTo(rd.snapshot.metadata.index);
  }

  /**
   * Applies a committed membership change; returns the new ConfState
   * (voters, learners, and in a joint configuration votersOutgoing,
   * learnersNext and autoLeave). Keep it for snapshots.
   *
   * A ConfChange (EntryConfChange) changes one member as it always did. A
   * ConfChangeV2 (EntryConfChangeV2) follows etcd's rules: the empty one
   * leaves the joint configuration; with transition Auto and one change it
   * applies directly; with several changes (Auto or JointImplicit) it
   * enters a joint configuration that the leader leaves by itself once it
   * applied it; with JointExplicit it enters one that stays until the
   * empty ConfChangeV2 is proposed. Throws ConfChangeError for a change the
   * configuration does not allow (the membership stays as it was).
   */
  applyConfChange(cc: ConfChange | ConfChangeV2): ConfState {
    return applyConfChange(this.#r, cc);
  }

  /** A message to `id` could not be delivered: stop streaming to it, probe instead. */
  reportUnreachable(id: bigint): void {
    this.#r.step(create(MessageSchema, { type: MessageType.MsgUnreachable, from: id }));
  }

  /** Reports how sending a snapshot to `id` ended. */
  reportSnapshot(id: bigint, status: SnapshotStatus): void {
    this.#r.step(create(MessageSchema, {
      type: MessageType.MsgSnapStatus,
      from: id,
      reject: status === SnapshotStatus.Failure,
    }));
  }

  /**
   * The current term, without building the rest of {@link status} (the
   * replica reads it after every batch of proposals).
   *
   * @example
   * ```ts
   * import { MemoryStorage, RawNode } from "@rafthttp/rafthttp/raft";
   * console.log(new RawNode({ id: 1n, storage: new MemoryStorage() }).term); // 0n
   * ```
   */
  get term(): bigint {
    return this.#r.term;
  }

  /**
   * The leader this member knows (0n: none), without building a status.
   *
   * @example
   * ```ts
   * import { MemoryStorage, RawNode } from "@rafthttp/rafthttp/raft";
   * console.log(new RawNode({ id: 1n, storage: new MemoryStorage() }).lead); // 0n
   * ```
   */
  get lead(): bigint {
    return this.#r.lead;
  }

  /** The member's current state. */
  status(): Status {
    const r = this.#r;
    const st: Status = {
      id: r.id,
      term: r.term,
      vote: r.vote,
      lead: r.lead,
      state: r.state,
      commit: r.log.committed,
      applied: r.log.applied,
      config: r.prs.frozenConfState(),
    };
    if (r.state === "leader") {
      st.progress = new Map();
      for (const [id, pr] of r.prs.progress) {
        st.progress.set(id, { match: pr.match, next: pr.next, state: pr.state });
      }
    }
    return st;
  }

  #softState(): SoftState {
    return { lead: this.#r.lead, raftState: this.#r.state };
  }
}
