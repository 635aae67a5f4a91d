/**
 * Message handling of followers and (pre-)candidates.
 *
 * @module
 */

import { type Message, MessageType } from "../raftpb/mod.ts";
import { ProposalDroppedError } from "./errors.ts";
import { handleAppendEntries, handleHeartbeat, handleSnapshot } from "./follower_replication.ts";
import { NONE, type RaftCore } from "./raft_core.ts";

/** Steps `m` on a follower. */
export function stepFollower(r: RaftCore, m: Message): void {
  switch (m.type) {
    case MessageType.MsgProp:
      if (r.lead === NONE) throw new ProposalDroppedError("no leader is known");
      r.forward(m, r.lead);
      return;
    case MessageType.MsgApp:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleAppendEntries(r, m);
      return;
    case MessageType.MsgHeartbeat:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleHeartbeat(r, m);
      return;
    case MessageType.MsgSnap:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleSnapshot(r, m);
      return;
    case MessageType.MsgTransferLeader:
    case MessageType.MsgReadIndex:
      if (r.lead === NONE) {
        r.cfg.logger.debug("no leader to forward to; dropped", { type: MessageType[m.type] });
        return;
      }
      r.forward(m, r.lead);
      return;
    case MessageType.MsgTimeoutNow:
      // A transfer campaigns at once, without pre-vote, overriding leases.
      if (r.promotable()) r.campaign("transfer");
      return;
    case MessageType.MsgReadIndexResp:
      if (m.entries.length !== 1) return;
      r.readStates.push({ index: m.index, requestCtx: m.entries[0].data });
      return;
  }
}

/** Steps `m` on a candidate or pre-candidate. */
export function stepCandidate(r: RaftCore, m: Message): void {
  const myVoteResp = r.state === "pre-candidate"
    ? MessageType.MsgPreVoteResp
    : MessageType.MsgVoteResp;
  switch (m.type) {
    case MessageType.MsgProp:
      throw new ProposalDroppedError("an election is running; no leader is known");
    case MessageType.MsgApp:
      r.becomeFollower(m.term, m.from);
      handleAppendEntries(r, m);
      return;
    case MessageType.MsgHeartbeat:
      r.becomeFollower(m.term, m.from);
      handleHeartbeat(r, m);
      return;
    case MessageType.MsgSnap:
      r.becomeFollower(m.term, m.from);
      handleSnapshot(r, m);
      return;
    case myVoteResp: {
      const res = r.poll(m.from, !m.reject);
      if (res === "won") {
        if (r.state === "pre-candidate") {
          r.campaign("election");
        } else {
          r.becomeLeader();
          r.bcastAppend();
        }
      } else if (res === "lost") {
        // A pre-vote's term is ours + 1: stay in our own term.
        r.becomeFollower(r.term, NONE);
      }
      return;
    }
  }
}
