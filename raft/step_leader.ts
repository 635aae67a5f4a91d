/**
 * The leader's message handling: heartbeats, quorum checks, proposals,
 * reads, and the followers' responses.
 *
 * @module
 */

import { create, EntrySchema, EntryType, type Message, MessageType } from "../raftpb/mod.ts";
import { ProposalDroppedError } from "./errors.ts";
import type { Progress } from "./tracker/progress.ts";
import { confChangeRefusal, handOverRemovedLeader } from "./confchange/conf_change.ts";
import { NONE, type RaftCore } from "./raft_core.ts";

/** Steps `m` on a leader. */
export function stepLeader(r: RaftCore, m: Message): void {
  switch (m.type) {
    case MessageType.MsgBeat:
      r.bcastHeartbeat();
      // A removed leader whose transfer was abandoned tries again.
      if (r.leadTransferee === NONE && !r.promotable()) handOverRemovedLeader(r);
      return;
    case MessageType.MsgCheckQuorum:
      checkQuorum(r);
      return;
    case MessageType.MsgProp:
      propose(r, m);
      return;
    case MessageType.MsgReadIndex:
      readIndex(r, m);
      return;
  }
  const pr = r.prs.progress.get(m.from);
  if (!pr) return; // not a member (any more)
  switch (m.type) {
    case MessageType.MsgAppResp:
      appResp(r, m, pr);
      return;
    case MessageType.MsgHeartbeatResp:
      heartbeatResp(r, m, pr);
      return;
    case MessageType.MsgSnapStatus:
      if (pr.state !== "snapshot") return;
      if (m.reject) pr.pendingSnapshot = 0n;
      pr.becomeProbe();
      // Wait for an answer (MsgAppResp or heartbeat) before probing again.
      pr.probeSent = true;
      return;
    case MessageType.MsgUnreachable:
      if (pr.state === "replicate") pr.becomeProbe();
      return;
    case MessageType.MsgTransferLeader:
      transferLeader(r, m, pr);
      return;
  }
}

function checkQuorum(r: RaftCore): void {
  const self = r.prs.progress.get(r.id);
  if (self) self.recentActive = true;
  if (!r.prs.quorumActive()) {
    r.cfg.logger.warn("stepped down: no contact from a quorum within an election timeout", {
      id: r.id,
      term: r.term,
    });
    r.becomeFollower(r.term, NONE);
  }
  for (const [id, p] of r.prs.progress) if (id !== r.id) p.recentActive = false;
}

function propose(r: RaftCore, m: Message): void {
  if (m.entries.length === 0) throw new ProposalDroppedError("empty proposal");
  if (!r.prs.progress.has(r.id)) throw new ProposalDroppedError("this leader was removed");
  if (r.leadTransferee !== NONE) {
    throw new ProposalDroppedError("leadership is being transferred");
  }
  for (let i = 0; i < m.entries.length; i++) {
    const e = m.entries[i];
    if (e.type !== EntryType.EntryConfChange && e.type !== EntryType.EntryConfChangeV2) continue;
    const refused = confChangeRefusal(r, e);
    if (refused !== undefined) {
      // A local proposer hears why; a forwarded one becomes a no-op, as etcd does.
      if (m.from === r.id) throw new ProposalDroppedError(refused);
      r.cfg.logger.info("conf change refused", { id: r.id, reason: refused });
      m.entries[i] = create(EntrySchema, { type: EntryType.EntryNormal });
    } else {
      r.pendingConfIndex = r.log.lastIndex() + BigInt(i) + 1n;
    }
  }
  r.appendEntry(m.entries);
  r.bcastAppend();
}

function readIndex(r: RaftCore, m: Message): void {
  if (r.prs.isSingleton()) {
    respondToRead(r, m, r.log.committed);
    return;
  }
  // Until this term committed an entry, our commit index may lag the true one: hold the read.
  if (!r.committedEntryInCurrentTerm()) {
    r.pendingReadIndex.push(m);
    return;
  }
  if (r.cfg.readOnlyOption === "lease-based") {
    // The lease (checkQuorum) stands in for the heartbeat round.
    respondToRead(r, m, r.log.committed);
    return;
  }
  r.readOnly.addRequest(r.log.committed, m);
  r.readOnly.recvAck(r.id, m.entries[0].data);
  r.bcastHeartbeat(m.entries[0].data);
}

function respondToRead(r: RaftCore, req: Message, index: bigint): void {
  if (req.from === NONE || req.from === r.id) {
    r.readStates.push({ index, requestCtx: req.entries[0].data });
  } else {
    r.send({ to: req.from, type: MessageType.MsgReadIndexResp, index, entries: req.entries });
  }
}

function appResp(r: RaftCore, m: Message, pr: Progress): void {
  pr.recentActive = true;
  if (m.reject) {
    // logTerm set: the follower found its conflict by term; skip what cannot match.
    const hint = m.logTerm > 0n ? r.log.findConflictByTerm(m.rejectHint, m.logTerm) : m.rejectHint;
    if (pr.maybeDecrTo(m.index, hint)) {
      if (pr.state === "replicate") pr.becomeProbe();
      r.sendAppend(m.from);
    }
    return;
  }
  const oldPaused = pr.isPaused();
  if (!pr.maybeUpdate(m.index)) return;
  if (pr.state === "probe") {
    pr.becomeReplicate();
  } else if (pr.state === "snapshot" && pr.match >= pr.pendingSnapshot) {
    pr.becomeProbe();
    pr.becomeReplicate();
  } else if (pr.state === "replicate") {
    pr.inflights.freeLE(m.index);
  }
  if (r.maybeCommit()) r.bcastAppend();
  else if (oldPaused) r.sendAppend(m.from);
  // The window may have room for several size-limited messages now.
  while (r.prs.progress.get(m.from) && r.maybeSendAppend(m.from, false)) {
    // keep sending
  }
  if (m.from === r.leadTransferee && pr.match === r.log.lastIndex()) {
    // A leader removed by leaving a joint configuration also steps down now.
    if (r.promotable()) r.sendTimeoutNow(m.from);
    else handOverRemovedLeader(r);
  }
}

function heartbeatResp(r: RaftCore, m: Message, pr: Progress): void {
  pr.recentActive = true;
  pr.probeSent = false;
  if (pr.state === "replicate" && pr.inflights.full()) pr.inflights.freeFirstOne();
  if (pr.match < r.log.lastIndex()) r.sendAppend(m.from);
  if (m.context.length === 0) return;
  const acks = r.readOnly.recvAck(m.from, m.context);
  if (!acks || r.prs.voteResult(acks) !== "won") return;
  for (const rs of r.readOnly.advance(m.context)) respondToRead(r, rs.req, rs.index);
}

function transferLeader(r: RaftCore, m: Message, pr: Progress): void {
  if (pr.isLearner) return;
  const transferee = m.from;
  if (r.leadTransferee !== NONE) {
    if (r.leadTransferee === transferee) return; // already in progress
    r.leadTransferee = NONE;
  }
  if (transferee === r.id) return; // already the leader
  r.electionElapsed = 0; // the transfer must finish within an election timeout
  r.leadTransferee = transferee;
  if (pr.match === r.log.lastIndex()) r.sendTimeoutNow(transferee);
  else r.sendAppend(transferee);
}
