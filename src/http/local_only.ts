/**
 * Message types that raft generates for itself and that must never come
 * from the network. etcd's raft drops them in `node.Step` (`IsLocalMsg`);
 * a raft behind this transport may not, so the transport refuses them at
 * the network boundary, on every channel: a forged `MsgHup` would otherwise
 * force an election, a forged `MsgUnreachable` or `MsgSnapStatus` would
 * move a follower into probe state.
 *
 * @module
 */

import type { Message } from "../../raftpb/raft_pb.ts";
import { MessageType } from "../../raftpb/raft_pb.ts";
import type { ReceiverContext } from "./receiver.ts";
import { formatId, H, parseId } from "./headers.ts";
import { F } from "../logger.ts";
import { CH, DR } from "../metrics/peer_metrics.ts";

/**
 * etcd 3.6's local message types, by number: the schema here is etcd 3.4's
 * and does not name them (MsgStorageAppend, MsgStorageAppendResp,
 * MsgStorageApply, MsgStorageApplyResp).
 */
const ETCD36_LOCAL = [19, 20, 21, 22];

/** The local-only types: etcd 3.4's `IsLocalMsg`, and etcd 3.6's storage messages. */
export const LOCAL_ONLY_TYPES: readonly number[] = [
  MessageType.MsgHup,
  MessageType.MsgBeat,
  MessageType.MsgUnreachable,
  MessageType.MsgSnapStatus,
  MessageType.MsgCheckQuorum,
  ...ETCD36_LOCAL,
];

const TABLE = new Uint8Array(256);
for (const t of LOCAL_ONLY_TYPES) TABLE[t] = 1;

/** True for a type raft makes for itself: one that must not come from a peer. One load, no allocation. */
export function isLocalOnly(type: number): boolean {
  return TABLE[type] === 1;
}

/** A name for a type in logs (the etcd 3.6 types are not in the schema). */
export function typeName(type: number): string {
  return MessageType[type] ?? `type ${type}`;
}

/** Counts (on the sending peer, if known) and logs a refused local-only message. */
export function refuseLocalOnly(
  ctx: ReceiverContext,
  req: Request,
  m: Message,
  where: string,
): void {
  const from = parseId(req.headers.get(H.from)) ?? m.from;
  const p = ctx.peer(from);
  if (p !== undefined) {
    p.stats.refusedLocal++;
    p.metrics.receiveDrop(CH.pipeline, DR.local_only);
  }
  ctx.log.event(
    `refused:local-only:${from}`,
    "warn",
    `refused a local-only message type from the network on ${where}`,
    { [F.remote]: formatId(from), type: typeName(m.type) },
  );
}
