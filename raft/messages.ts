/**
 * Facts about message types: which are local-only, which are responses,
 * and which response answers a vote request.
 *
 * @module
 */

import { MessageType } from "../raftpb/mod.ts";

const LOCAL = new Set<MessageType>([
  MessageType.MsgHup,
  MessageType.MsgBeat,
  MessageType.MsgUnreachable,
  MessageType.MsgSnapStatus,
  MessageType.MsgCheckQuorum,
]);

const RESPONSES = new Set<MessageType>([
  MessageType.MsgAppResp,
  MessageType.MsgVoteResp,
  MessageType.MsgHeartbeatResp,
  MessageType.MsgUnreachable,
  MessageType.MsgPreVoteResp,
]);

/** True for types only the local node generates; the network must not deliver them. */
export function isLocalMsg(t: MessageType): boolean {
  return LOCAL.has(t);
}

/** True for responses, which are only meaningful from a tracked member. */
export function isResponseMsg(t: MessageType): boolean {
  return RESPONSES.has(t);
}

/** The response type of a vote request. */
export function voteRespMsgType(t: MessageType): MessageType {
  return t === MessageType.MsgPreVote ? MessageType.MsgPreVoteResp : MessageType.MsgVoteResp;
}

/** Context of a MsgVote sent after MsgTimeoutNow: it overrides the leader lease (etcd's value). */
export const CAMPAIGN_TRANSFER: Uint8Array = new TextEncoder().encode("CampaignTransfer");

/** True if `ctx` marks a leadership-transfer campaign. */
export function isCampaignTransfer(ctx: Uint8Array): boolean {
  if (ctx.length !== CAMPAIGN_TRANSFER.length) return false;
  return ctx.every((b, i) => b === CAMPAIGN_TRANSFER[i]);
}
