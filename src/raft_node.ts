/**
 * What the user's raft node implements, and the transport calls.
 *
 * @module
 */

import type { Message } from "../raftpb/raft_pb.ts";

/**
 * The outcome of sending a snapshot, reported to {@link Raft.reportSnapshot}
 * (etcd's `raft.SnapshotStatus`).
 *
 * @example
 * ```ts
 * import { SnapshotStatus } from "@rafthttp/rafthttp";
 * console.log(SnapshotStatus.Finish, SnapshotStatus.Failure); // 1 2
 * ```
 */
export enum SnapshotStatus {
  /** The peer received and applied the snapshot. */
  Finish = 1,
  /** Sending the snapshot failed; raft should retry later. */
  Failure = 2,
}

/**
 * The raft node, as the transport sees it.
 *
 * @example
 * ```ts
 * import type { Message, Raft } from "@rafthttp/rafthttp";
 * import { SnapshotStatus } from "@rafthttp/rafthttp";
 * const inbox: Message[] = [];
 * const raft: Raft = {
 *   process(m) { inbox.push(m); },
 *   isIDRemoved: () => false,
 *   reportUnreachable(id) { console.log(`peer ${id} unreachable`); },
 *   reportSnapshot(id, status) { console.log(`snapshot to ${id}: ${SnapshotStatus[status]}`); },
 * };
 * raft.reportSnapshot(2n, SnapshotStatus.Finish);
 * ```
 */
export interface Raft {
  /**
   * Steps a message received from a peer into raft. The transport calls it
   * for one peer's messages in order, one at a time (proposals have their
   * own queue, so a blocked proposal never stalls raft traffic). `signal`
   * aborts when the peer or the transport stops. Returning nothing (a
   * synchronous implementation) is allowed and saves a promise per message.
   * A thrown error or rejection is logged; on `POST /raft` and
   * `/raft/snapshot` it becomes the HTTP error etcd sends.
   *
   * Local-only message types never reach it from the network: MsgHup,
   * MsgBeat, MsgUnreachable, MsgSnapStatus, MsgCheckQuorum (etcd's
   * `IsLocalMsg`) and etcd 3.6's storage messages (types 19 to 22) are
   * refused by the transport, counted in the peer's `stats.refusedLocal`
   * and logged (rate-limited). On the message and msgappv2 streams they are
   * dropped and the stream goes on; `POST /raft` answers 204, as etcd does
   * (its `node.Step` drops them silently); `POST /raft/snapshot` answers
   * 400 "wrong raft message type", as etcd does for any type but MsgSnap.
   * Messages raft makes for itself are not affected: the transport only
   * carries messages between members.
   */
  process(m: Message, signal: AbortSignal): Promise<void> | void;
  /** True if `id` was removed from the cluster: its requests are refused. */
  isIDRemoved(id: bigint): boolean;
  /** A message to `id` could not be delivered (dropped or failed). */
  reportUnreachable(id: bigint): void;
  /** A snapshot to `id` finished or failed. */
  reportSnapshot(id: bigint, status: SnapshotStatus): void;
}
