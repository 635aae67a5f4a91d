/**
 * A Raft core with etcd raft's message semantics, to run behind the
 * transport's `Raft` interface. Work in progress: storage first.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "@rafthttp/rafthttp/raft";
 * console.log(new MemoryStorage().lastIndex()); // 0n
 * ```
 *
 * @module
 */

export type {
  ConfChange,
  ConfState,
  Entry,
  HardState,
  Message,
  Snapshot,
  SnapshotMetadata,
} from "../mod.ts";
/** The raftpb enums the core's types use (re-exported from the transport's module). */
export { ConfChangeType, EntryType, MessageType } from "../mod.ts";
/** The base type of every generated message (re-exported from `@bufbuild/protobuf`). */
export type { ProtoMessage, UnknownField } from "../mod.ts";
/** Wire types of protobuf fields (re-exported from `@bufbuild/protobuf`). */
export { WireType } from "../mod.ts";
export type { InitialState, Storage } from "./storage.ts";
export { MemoryStorage } from "./memory_storage.ts";
export {
  CompactedError,
  ConfigError,
  LocalMessageError,
  ProposalDroppedError,
  RaftError,
  SnapshotOutOfDateError,
  SnapshotTemporarilyUnavailableError,
  UnavailableError,
  UnknownPeerError,
} from "./errors.ts";
