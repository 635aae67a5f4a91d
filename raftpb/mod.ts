/**
 * What every layer of rafthttp shares: etcd's raft messages (the types and
 * schemas generated from etcd 3.4's `raft.proto`, with `create` to build
 * them), the injectable {@link Logger}, and {@link SnapshotStatus}. The
 * Raft core, storage and the transport import it; it imports none of them.
 *
 * @example
 * ```ts
 * import { create, MessageSchema, MessageType } from "@rafthttp/rafthttp/raftpb";
 *
 * const m = create(MessageSchema, { type: MessageType.MsgHeartbeat, to: 2n, from: 1n });
 * console.log(MessageType[m.type]); // "MsgHeartbeat"
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
} from "./raft_pb.ts";
export { ConfChangeTransition, ConfChangeType, EntryType, MessageType } from "./raft_pb.ts";
export {
  ConfChangeSchema,
  ConfChangeSingleSchema,
  ConfChangeV2Schema,
  ConfStateSchema,
  create,
  EntrySchema,
  HardStateSchema,
  MessageSchema,
  SnapshotMetadataSchema,
  SnapshotSchema,
} from "./schemas.ts";
export {
  consoleLogger,
  type LogFields,
  type Logger,
  type LogLevel,
  silentLogger,
} from "./logger.ts";
export { SnapshotStatus } from "./snapshot_status.ts";
/** The base type of every generated message (re-exported from `@bufbuild/protobuf`). */
export type { Message as ProtoMessage, UnknownField } from "npm:@bufbuild/protobuf@2.17.0";
/** Wire types of protobuf fields (re-exported from `@bufbuild/protobuf`). */
export { WireType } from "npm:@bufbuild/protobuf@2.17.0/wire";
