/**
 * The replica layer: a replicated state machine on the Raft core, durable
 * storage and the transport. {@link startReplica} starts a member of a
 * cluster that applies the same commands in the same order everywhere
 * (`propose` on any member, `read` as a linearizable barrier, membership
 * changes, leadership transfer); see docs/replicated-service.md.
 *
 * Beneath it, the parts it is made of, for a member of one's own:
 * {@link RaftLoop} runs the RawNode's actions and Ready handling in order;
 * {@link bootstrapIfNew} writes a new cluster's first log as etcd does;
 * {@link compactIndexFor} says where to cut the log after a snapshot;
 * {@link SnapshotFiles} keeps the state machine's snapshot data, and
 * {@link MemberTable} the peer URLs a raft snapshot records.
 *
 * @example
 * ```ts
 * import { compactIndexFor, initialLog, toId } from "@rafthttp/rafthttp/replica";
 *
 * console.log(initialLog([3n, 1n, 2n]).map((e) => e.index)); // [ 1n, 2n, 3n ]
 * console.log(compactIndexFor(10_000n, 5_000, 1n)); // 5000n
 * console.log(toId("7")); // 7n
 * ```
 *
 * @module
 */

export { type Replica, type ReplicaStatus, startReplica, type StopOptions } from "./replica.ts";
export {
  type RawEntries,
  type ReplicaOptions,
  type ReplicaServeOptions,
  type ReplicaTransportOptions,
  type StateMachine,
} from "./options.ts";
export type { WaitOptions } from "./proposals.ts";
export type { MemberStatus, ReplicaEvent, ReplicaStopEvent } from "./events.ts";
export {
  NoLeaderError,
  OutcomeUnknownError,
  ProposalTooLargeError,
  ReplicaError,
  ReplicaStoppedError,
  StateMachineError,
} from "./errors.ts";
export { type IdLike, toId } from "./ids.ts";
export {
  decodeEnvelope,
  encodeEnvelope,
  type Envelope,
  ENVELOPE_VERSION,
  EnvelopeError,
} from "./envelope.ts";
export {
  applyMembershipChange,
  decodeMembershipChange,
  type MembershipChange,
  type MembershipStep,
} from "./conf_change.ts";
export { decodeUrlsContext, encodeUrlsContext, MemberTable } from "./member_table.ts";
export { decodeMembersContext, encodeMembersContext, type MembersContext } from "./conf_context.ts";
export type { MembershipUpdate } from "./membership_update.ts";
export { type FileStream, SnapshotFiles, type SnapshotSource } from "./snapshot_files.ts";
export { bootstrapIfNew, initialLog, isEmpty } from "./bootstrap.ts";
export { type LoopAction, RaftLoop, type ReadyHandler } from "./loop.ts";
export { compactIndexFor } from "./snapshot_policy.ts";
export type { Tracer, TraceStep } from "./trace.ts";
