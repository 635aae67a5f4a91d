/**
 * The outcome of sending a snapshot: the transport reports it, the core
 * consumes it.
 *
 * @module
 */

/**
 * The outcome of sending a snapshot, reported to the raft node
 * (etcd's `raft.SnapshotStatus`).
 *
 * @example
 * ```ts
 * import { SnapshotStatus } from "@rafthttp/rafthttp/raftpb";
 * console.log(SnapshotStatus.Finish, SnapshotStatus.Failure); // 1 2
 * ```
 */
export enum SnapshotStatus {
  /** The peer received and applied the snapshot. */
  Finish = 1,
  /** Sending the snapshot failed; raft should retry later. */
  Failure = 2,
}
