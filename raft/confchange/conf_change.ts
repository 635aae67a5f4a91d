/**
 * Applying a single-step membership change (ConfChange) once its entry
 * is committed, and what the leader does after it.
 *
 * @module
 */

import { type ConfChange, ConfChangeType, type ConfState } from "../../raftpb/mod.ts";
import { NONE, type RaftCore } from "../raft_core.ts";

/** Adds or removes one member; returns the new membership. */
export function applyConfChange(r: RaftCore, cc: ConfChange): ConfState {
  if (cc.nodeId === NONE) return r.prs.confState();
  const next = r.log.lastIndex() + 1n;
  switch (cc.type) {
    case ConfChangeType.ConfChangeAddNode:
      r.prs.addVoter(cc.nodeId, next);
      break;
    case ConfChangeType.ConfChangeAddLearnerNode:
      r.prs.addLearner(cc.nodeId, next);
      break;
    case ConfChangeType.ConfChangeRemoveNode:
      r.prs.remove(cc.nodeId);
      break;
    case ConfChangeType.ConfChangeUpdateNode:
      break; // only the application's address book changes
  }
  afterConfChange(r);
  return r.prs.confState();
}

function afterConfChange(r: RaftCore): void {
  const self = r.prs.progress.get(r.id);
  r.isLearner = self?.isLearner ?? false;
  if ((!self || r.isLearner) && r.state === "leader") {
    stepDownRemovedLeader(r);
    return;
  }
  if (r.state !== "leader" || r.prs.voters.size === 0) return;
  // A removal shrinks the quorum: entries may commit now.
  if (r.maybeCommit()) {
    r.bcastAppend();
  } else {
    for (const id of r.prs.memberIds()) if (id !== r.id) r.maybeSendAppend(id, false);
  }
  if (r.leadTransferee !== NONE && !r.prs.voters.has(r.leadTransferee)) r.leadTransferee = NONE;
}

/**
 * A leader that removed itself hands over to the most up-to-date voter
 * (MsgTimeoutNow, so the cluster does not wait an election timeout) and
 * steps down.
 */
function stepDownRemovedLeader(r: RaftCore): void {
  let best = NONE;
  let bestMatch = -1n;
  for (const id of r.prs.voterIds()) {
    const match = r.prs.progress.get(id)?.match ?? 0n;
    if (match > bestMatch) {
      best = id;
      bestMatch = match;
    }
  }
  if (best !== NONE && bestMatch === r.log.lastIndex()) r.sendTimeoutNow(best);
  r.cfg.logger.info("removed from the cluster; stepping down", { id: r.id, term: r.term });
  r.becomeFollower(r.term, NONE);
}
