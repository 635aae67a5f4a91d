/**
 * A Raft core with etcd raft's message semantics (etcd 3.4's `raft`
 * package, rewritten): elections with PreVote and CheckQuorum, log
 * replication with probe/replicate flow control, snapshots, membership
 * changes (one member at a time, or several through joint consensus, with
 * learners), ReadIndex and leadership transfer. It is a pure
 * state machine: no clock, no I/O. The application calls `tick()` on its
 * own clock, steps received messages in, and processes each
 * {@link Ready}: persist `hardState` + `entries` (+ `snapshot`), send
 * `messages` (through the transport), apply `committedEntries`, then
 * `advance()`.
 *
 * Running a member, as etcd's raftexample does:
 *
 * - Start: a new cluster's members call {@link RawNode.bootstrap} (or
 *   {@link bootstrapPeers} on the storage) with every initial member's id;
 *   a joining member starts with empty storage and no bootstrap; a
 *   restarted member passes its storage and `applied` (the index its
 *   state machine holds), and replays what was committed after it. A
 *   member of the initial cluster that finds its storage empty bootstraps
 *   again: restarted empty without it, it would learn the membership one
 *   entry at a time and could believe it was alone.
 * - Loop: `tick()` on a timer; `step()` every message the transport
 *   delivers; on `hasReady()`, take `ready()`, persist, send (a MsgSnap
 *   through the transport's `sendSnapshot`, then `reportSnapshot`), apply
 *   (EntryConfChange and EntryConfChangeV2 through `applyConfChange`,
 *   adding or removing the peer on the transport; keep the ConfState it
 *   returns for snapshots), compact storage now and then, and `advance()`.
 * - Reads: `readIndex(ctx)`; when a ReadState with `ctx` arrives, read
 *   once the state machine applied its index.
 *
 * Membership changes, as etcd 3.4's raft makes them (Raft thesis §4.3):
 *
 * - A ConfChange (EntryConfChange) adds a voter, adds a learner, promotes
 *   a learner (AddNode) or removes a member: one at a time, in effect once
 *   applied.
 * - A ConfChangeV2 (EntryConfChangeV2) carries several changes. With
 *   transition Auto and one change it applies directly; with more (Auto,
 *   JointImplicit) the cluster enters a joint configuration, the old
 *   voters (`votersOutgoing`) beside the new ones (`voters`): every commit
 *   and every election needs a majority of both. The leader leaves it by
 *   itself (an empty ConfChangeV2) once it applied entering it. With
 *   JointExplicit it stays joint until the application proposes the empty
 *   ConfChangeV2. A voter made a learner while joint waits in
 *   `learnersNext` until the joint configuration is left. {@link Changer}
 *   computes configurations without a node; invalid changes throw
 *   {@link ConfChangeError}.
 * - Only one conf change is pending at a time, and in a joint
 *   configuration only the empty ConfChangeV2 is taken.
 * - Snapshots and restarts carry the whole ConfState (joint included);
 *   {@link Status}`.config` shows the current one.
 *
 * On the wire and in its decisions it behaves as etcd 3.4's raft, so that
 * members of both can share a cluster; {@link RawNode.bootstrap} writes the
 * same initial log as etcd's `StartNode` (byte for byte). Where it differs,
 * it is on purpose and invisible to an etcd peer:
 *
 * - A ReadIndex request that reaches a leader before it committed an entry
 *   of its term is held until it has, instead of being dropped.
 * - A leader that applies its own removal hands over with MsgTimeoutNow to
 *   its most up-to-date voter and steps down, instead of staying leader.
 * - A member that cannot campaign (a joining member not yet in its own
 *   configuration) answers a leader of a lower term with its term, as etcd
 *   does only under CheckQuorum or PreVote; otherwise a joining member whose
 *   term was raised could never be reached.
 * - With only one conf change allowed at a time, a second one proposed
 *   locally on the leader is refused with {@link ProposalDroppedError}
 *   (etcd silently turns it into an empty entry, as we do for one
 *   forwarded by a follower). So is, beyond etcd's checks, a ConfChangeV2
 *   that the configuration cannot take (etcd appends it, and every member
 *   panics applying it); applied anyway, it throws {@link ConfChangeError}
 *   and changes nothing.
 * - A leader removed by leaving a joint configuration keeps leading,
 *   taking no proposals, until a voter of the new configuration has its
 *   whole log, then hands over and steps down (etcd's stays leader): the
 *   new voters, joint until they learn that the leave committed, could
 *   otherwise be left without the outgoing majority they still need.
 * - A ConfChange (V1) keeps this core's rules from before joint consensus:
 *   AddLearnerNode never demotes a voter (etcd's raft demotes it; use a
 *   ConfChangeV2), and the last voter may be removed.
 * - The leader's automatic leave becomes the pending conf change, so it is
 *   appended once (etcd 3.4 can append it again when later entries are
 *   applied in another Ready; etcd 3.5 does as we do), and it is sent at
 *   once instead of with the next heartbeat.
 *
 * @example A three-member cluster exchanging messages in memory
 * ```ts
 * import { fromBinary } from "npm:@bufbuild/protobuf@2.17.0";
 * import { ConfChangeSchema, EntryType, type Message } from "@rafthttp/rafthttp";
 * import { MemoryStorage, RawNode } from "@rafthttp/rafthttp/raft";
 *
 * const ids = [1n, 2n, 3n];
 * const members = ids.map((id) => {
 *   const storage = new MemoryStorage();
 *   const node = new RawNode({ id, storage });
 *   node.bootstrap(ids);
 *   return { id, storage, node, applied: [] as string[] };
 * });
 * let inbox: Message[] = [];
 * const run = () => {
 *   for (let round = 0; round < 50; round++) {
 *     for (const m of members) {
 *       while (m.node.hasReady()) {
 *         const rd = m.node.ready();
 *         if (rd.hardState) m.storage.setHardState(rd.hardState); // persist first,
 *         m.storage.append(rd.entries);
 *         inbox.push(...rd.messages); // then send,
 *         for (const e of rd.committedEntries) { // then apply
 *           if (e.type === EntryType.EntryConfChange) {
 *             m.node.applyConfChange(fromBinary(ConfChangeSchema, e.data));
 *           } else if (e.data.length > 0) m.applied.push(new TextDecoder().decode(e.data));
 *         }
 *         m.node.advance(rd);
 *       }
 *     }
 *     const batch = inbox;
 *     inbox = [];
 *     for (const msg of batch) members.find((m) => m.id === msg.to)!.node.step(msg);
 *   }
 * };
 * run();
 * members[0].node.campaign();
 * run();
 * members[0].node.propose(new TextEncoder().encode("hello"));
 * run();
 * console.log(members.map((m) => m.applied.join())); // [ "hello", "hello", "hello" ]
 * ```
 *
 * @module
 */

export type {
  ConfChange,
  ConfChangeSingle,
  ConfChangeV2,
  ConfState,
  Entry,
  HardState,
  Message,
  Snapshot,
  SnapshotMetadata,
} from "../raftpb/mod.ts";
/** The raftpb enums the core's types use (re-exported from raftpb). */
export {
  ConfChangeTransition,
  ConfChangeType,
  EntryType,
  MessageType,
  SnapshotStatus,
} from "../raftpb/mod.ts";
/** The base type of every generated message (re-exported from `@bufbuild/protobuf`). */
export type { ProtoMessage, UnknownField } from "../raftpb/mod.ts";
/** Wire types of protobuf fields (re-exported from `@bufbuild/protobuf`). */
export { WireType } from "../raftpb/mod.ts";
export type { LogFields, Logger } from "../raftpb/mod.ts";
export type { InitialState, Storage } from "./storage.ts";
export { MemoryStorage } from "./memory_storage.ts";
export type { RaftConfig } from "./config.ts";
export { RawNode, type Status } from "./raw_node.ts";
export type { Ready, SoftState } from "./ready.ts";
export type { ReadState, StateType } from "./raft_core.ts";
export type { ProgressState } from "./tracker/progress.ts";
export { bootstrapEntries, bootstrapPeers } from "./bootstrap.ts";
export { Changer } from "./confchange/changer.ts";
export {
  CompactedError,
  ConfChangeError,
  ConfigError,
  LocalMessageError,
  ProposalDroppedError,
  RaftError,
  SnapshotOutOfDateError,
  SnapshotTemporarilyUnavailableError,
  UnavailableError,
  UnknownPeerError,
} from "./errors.ts";
