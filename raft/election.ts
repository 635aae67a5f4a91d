/**
 * Elections: the term rules every message passes first (including the
 * PreVote and leader-lease exceptions), vote requests, and campaigns.
 *
 * @module
 */

import { EntryType, type Message, MessageType } from "../raftpb/mod.ts";
import { NO_LIMIT } from "./entries.ts";
import { CAMPAIGN_TRANSFER, isCampaignTransfer, voteRespMsgType } from "./messages.ts";
import { type CampaignType, NONE, type RaftCore } from "./raft_core.ts";

/** Applies the term rules; returns false if the message is to be ignored. */
export function stepTerm(r: RaftCore, m: Message): boolean {
  if (m.term === 0n) return true; // local message or forwarded request
  if (m.term > r.term) return stepHigherTerm(r, m);
  if (m.term < r.term) {
    stepLowerTerm(r, m);
    return false;
  }
  return true;
}

function stepHigherTerm(r: RaftCore, m: Message): boolean {
  const isVoteReq = m.type === MessageType.MsgVote || m.type === MessageType.MsgPreVote;
  if (isVoteReq) {
    const force = isCampaignTransfer(m.context);
    const inLease = r.cfg.checkQuorum && r.lead !== NONE &&
      r.electionElapsed < r.cfg.electionTick;
    // Under a live leader's lease, a vote request is a disruption: ignore it.
    if (!force && inLease) return false;
  }
  if (m.type === MessageType.MsgPreVote) return true; // never change term for a pre-vote
  if (m.type === MessageType.MsgPreVoteResp && !m.reject) return true; // term moves on quorum
  const fromLeader = m.type === MessageType.MsgApp || m.type === MessageType.MsgHeartbeat ||
    m.type === MessageType.MsgSnap;
  r.becomeFollower(m.term, fromLeader ? m.from : NONE);
  return true;
}

function stepLowerTerm(r: RaftCore, m: Message): void {
  const fromOldLeader = m.type === MessageType.MsgHeartbeat || m.type === MessageType.MsgApp;
  // Tell a leader whose term lags ours about our term, so that it steps down and a new
  // election brings us back. etcd does this under CheckQuorum or PreVote; we also do it
  // when we cannot campaign ourselves (a joining member that is not yet in its own
  // configuration), since otherwise nothing would ever raise the leader's term.
  if ((r.cfg.checkQuorum || r.cfg.preVote || !r.promotable()) && fromOldLeader) {
    r.send({ to: m.from, type: MessageType.MsgAppResp });
  } else if (m.type === MessageType.MsgPreVote) {
    r.send({ to: m.from, term: r.term, type: MessageType.MsgPreVoteResp, reject: true });
  }
}

export function hup(r: RaftCore): void {
  if (r.state === "leader") return;
  if (!r.promotable()) {
    r.cfg.logger.warn("not a voter of the configuration; not campaigning", { id: r.id });
    return;
  }
  if (r.log.committed > r.log.applied && hasUnappliedConfChange(r)) {
    r.cfg.logger.warn("a committed conf change is not yet applied; not campaigning", {
      id: r.id,
    });
    return;
  }
  r.campaign(r.cfg.preVote ? "pre-election" : "election");
}

function hasUnappliedConfChange(r: RaftCore): boolean {
  const ents = r.log.slice(r.log.applied + 1n, r.log.committed + 1n, NO_LIMIT);
  return ents.some((e) => e.type !== EntryType.EntryNormal);
}

export function handleVoteRequest(r: RaftCore, m: Message): void {
  const canVote = r.vote === m.from || (r.vote === NONE && r.lead === NONE) ||
    (m.type === MessageType.MsgPreVote && m.term > r.term);
  if (canVote && r.log.isUpToDate(m.index, m.logTerm)) {
    // A granted vote answers with the request's term: a pre-vote's future term too.
    r.send({ to: m.from, term: m.term, type: voteRespMsgType(m.type) });
    if (m.type === MessageType.MsgVote) {
      r.electionElapsed = 0;
      r.vote = m.from;
    }
  } else {
    r.send({ to: m.from, term: r.term, type: voteRespMsgType(m.type), reject: true });
  }
}

/** Starts an election (or pre-election). */
export function campaign(r: RaftCore, t: CampaignType): void {
  let term: bigint;
  let voteMsg: MessageType;
  if (t === "pre-election") {
    r.becomePreCandidate();
    voteMsg = MessageType.MsgPreVote;
    term = r.term + 1n;
  } else {
    r.becomeCandidate();
    voteMsg = MessageType.MsgVote;
    term = r.term;
  }
  if (r.poll(r.id, true) === "won") {
    if (t === "pre-election") r.campaign("election");
    else r.becomeLeader();
    return;
  }
  const context = t === "transfer" ? CAMPAIGN_TRANSFER : new Uint8Array();
  for (const id of r.prs.voterIds()) {
    if (id === r.id) continue;
    r.send({
      to: id,
      term,
      type: voteMsg,
      index: r.log.lastIndex(),
      logTerm: r.log.lastTerm(),
      context,
    });
  }
}
