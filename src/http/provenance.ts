/**
 * Which messages may name another member than their sender in `from`. A
 * peer's streams and POSTs carry only its own messages, with one exception
 * etcd's raft makes: a follower asked to hand leadership to a member
 * forwards the MsgTransferLeader to the leader with `from` = that member,
 * the transferee.
 *
 * @module
 */

import { MessageType } from "../../raftpb/raft_pb.ts";

/** True for the types etcd's raft forwards with another member's `from`. */
export function forwardedWithOthersFrom(type: MessageType): boolean {
  return type === MessageType.MsgTransferLeader;
}
