/**
 * Applying a membership change once its entry is committed (ConfChange,
 * or ConfChangeV2 with joint consensus), what the leader does after it,
 * which proposals of conf changes it refuses, and its automatic leaving of
 * a joint configuration.
 *
 * @module
 */

import { fromBinary, toBinary } from "npm:@bufbuild/protobuf@2.17.0";
import {
  type ConfChange,
  ConfChangeTransition,
  type ConfChangeV2,
  ConfChangeV2Schema,
  type ConfState,
  create,
  type Entry,
  EntrySchema,
  EntryType,
} from "../../raftpb/mod.ts";
import { ConfChangeError } from "../errors.ts";
import { NONE, type RaftCore } from "../raft_core.ts";
import { describeConfig } from "../tracker/config.ts";
import { applyV1, Changer } from "./changer.ts";

/** True for the empty ConfChangeV2 (its context aside) that leaves a joint configuration. */
export function isLeaveJoint(cc: ConfChangeV2): boolean {
  return cc.transition === ConfChangeTransition.ConfChangeTransitionAuto &&
    cc.changes.length === 0;
}

/**
 * Whether `cc` enters a joint configuration (etcd's rules): with an
 * explicit transition, or with more than one change under Auto. Returns
 * its autoLeave then (Auto and Implicit leave by themselves, Explicit
 * waits for an empty ConfChangeV2), undefined for a simple change.
 */
export function jointAutoLeave(cc: ConfChangeV2): boolean | undefined {
  switch (cc.transition) {
    case ConfChangeTransition.ConfChangeTransitionAuto:
      return cc.changes.length > 1 ? true : undefined;
    case ConfChangeTransition.ConfChangeTransitionJointImplicit:
      return true;
    case ConfChangeTransition.ConfChangeTransitionJointExplicit:
      return false;
    default:
      throw new ConfChangeError(`unknown transition ${cc.transition}`);
  }
}

/** The configuration that follows `cs` once `cc` applies; throws ConfChangeError if it cannot. */
export function nextConfState(cs: ConfState, cc: ConfChange | ConfChangeV2): ConfState {
  if (cc.$typeName === "raftpb.ConfChange") return applyV1(cs, cc);
  const changer = new Changer(cs);
  if (isLeaveJoint(cc)) return changer.leaveJoint();
  const autoLeave = jointAutoLeave(cc);
  if (autoLeave !== undefined) return changer.enterJoint(autoLeave, ...cc.changes);
  return changer.simple(...cc.changes);
}

/**
 * Applies a committed membership change; returns the new membership.
 * Throws ConfChangeError (the membership unchanged) for a change the
 * current configuration does not allow; etcd's raft panics there.
 */
export function applyConfChange(r: RaftCore, cc: ConfChange | ConfChangeV2): ConfState {
  if (cc.$typeName === "raftpb.ConfChange" && cc.nodeId === NONE) return r.prs.confState();
  const leaving = r.prs.isJoint();
  switchToConfig(r, nextConfState(r.prs.confState(), cc), leaving);
  return r.prs.confState();
}

/**
 * Makes `cs` the membership and reacts: a removed leader hands over, a
 * leader re-counts its quorum. `leftJoint`: `cs` leaves a joint config.
 */
export function switchToConfig(r: RaftCore, cs: ConfState, leftJoint: boolean): void {
  r.prs.switchTo(cs, r.log.lastIndex() + 1n);
  r.cfg.logger.info("switched to configuration", {
    id: r.id,
    config: describeConfig(r.prs.config),
  });
  afterConfChange(r, leftJoint);
}

function afterConfChange(r: RaftCore, leftJoint: boolean): void {
  const self = r.prs.progress.get(r.id);
  r.isLearner = self?.isLearner ?? false;
  if ((!self || r.isLearner) && r.state === "leader") {
    if (!leftJoint) {
      stepDownRemovedLeader(r);
      return;
    }
    handOverRemovedLeader(r);
    if (r.state !== "leader") return;
  }
  if (r.state !== "leader" || r.prs.voters.size === 0) return;
  // A removal shrinks the quorum: entries may commit now.
  if (r.maybeCommit()) {
    r.bcastAppend();
  } else {
    for (const id of r.prs.memberIds()) if (id !== r.id) r.maybeSendAppend(id, false);
  }
  if (r.leadTransferee !== NONE && !r.prs.isVoter(r.leadTransferee)) r.leadTransferee = NONE;
}

/** The voter with the highest match, and that match (NONE and -1 without voters). */
function mostUpToDateVoter(r: RaftCore): [bigint, bigint] {
  let best = NONE;
  let bestMatch = -1n;
  for (const id of r.prs.voterIds()) {
    const match = r.prs.progress.get(id)?.match ?? 0n;
    if (match > bestMatch) {
      best = id;
      bestMatch = match;
    }
  }
  return [best, bestMatch];
}

/**
 * A leader that removed itself (ConfChange) hands over to the most
 * up-to-date voter if it has the whole log (MsgTimeoutNow, so the cluster
 * does not wait an election timeout) and steps down.
 */
function stepDownRemovedLeader(r: RaftCore): void {
  const [best, bestMatch] = mostUpToDateVoter(r);
  if (best !== NONE && bestMatch === r.log.lastIndex()) r.sendTimeoutNow(best);
  r.cfg.logger.info("removed from the cluster; stepping down", { id: r.id, term: r.term });
  r.becomeFollower(r.term, NONE);
}

/**
 * A leader removed (or demoted) by leaving a joint configuration keeps
 * leading, taking no proposals, until a voter of the new configuration
 * has its whole log; then it hands over (MsgTimeoutNow) and steps down.
 * Stepping down at once could strand the new voters: until they learn
 * that the leave committed they are still joint and need a majority of
 * the outgoing voters, who are leaving too, and who refuse candidates
 * whose logs are shorter than theirs. The leader's appends carry the
 * commit; a transferee with the whole log can win either way. Called again
 * when the transferee catches up, and on heartbeats once a transfer that
 * took too long was abandoned.
 */
export function handOverRemovedLeader(r: RaftCore): void {
  const [best, bestMatch] = mostUpToDateVoter(r);
  if (best === NONE || bestMatch === r.log.lastIndex()) {
    if (best !== NONE) r.sendTimeoutNow(best);
    r.cfg.logger.info("removed from the cluster; stepping down", { id: r.id, term: r.term });
    r.becomeFollower(r.term, NONE);
    return;
  }
  if (r.leadTransferee === best) return;
  r.leadTransferee = best;
  r.electionElapsed = 0;
  r.sendAppend(best);
  r.cfg.logger.info("removed from the cluster; leading until a voter has the whole log", {
    id: r.id,
    term: r.term,
    transferee: best,
  });
}

/**
 * Why the leader refuses to append the proposed conf change `e`, or
 * undefined if it takes it: one conf change at a time; in a joint
 * configuration only the empty ConfChangeV2 that leaves it; outside one,
 * no empty ConfChangeV2 (etcd's rules); and, beyond etcd, a ConfChangeV2
 * that the current configuration would refuse to apply.
 */
export function confChangeRefusal(r: RaftCore, e: Entry): string | undefined {
  if (r.pendingConfIndex > r.log.applied) return "a conf change is already pending";
  let cc: ConfChangeV2 | undefined;
  if (e.type === EntryType.EntryConfChangeV2) {
    try {
      cc = fromBinary(ConfChangeV2Schema, e.data);
    } catch {
      return "the ConfChangeV2 cannot be decoded";
    }
  }
  const wantsLeaveJoint = cc !== undefined && cc.changes.length === 0;
  const joint = r.prs.isJoint();
  if (joint && !wantsLeaveJoint) return "must transition out of joint config first";
  if (!joint && wantsLeaveJoint) return "not in joint state; refusing empty conf change";
  if (cc === undefined) return undefined;
  try {
    nextConfState(r.prs.confState(), cc);
  } catch (err) {
    if (err instanceof ConfChangeError) return err.message;
    throw err;
  }
  return undefined;
}

/**
 * On the leader, once the entry that entered a joint configuration with
 * autoLeave is applied (`applied` reached the pending conf change), appends
 * the empty ConfChangeV2 that leaves it, as etcd's leader does when it
 * advances. It becomes the pending conf change, so it is proposed once.
 */
export function maybeAutoLeave(r: RaftCore, applied: bigint): void {
  if (!r.prs.config.autoLeave || r.state !== "leader" || applied < r.pendingConfIndex) return;
  const data = toBinary(ConfChangeV2Schema, create(ConfChangeV2Schema));
  r.appendEntry([create(EntrySchema, { type: EntryType.EntryConfChangeV2, data })]);
  r.pendingConfIndex = r.log.lastIndex();
  r.cfg.logger.info("leaving the joint configuration", {
    id: r.id,
    config: describeConfig(r.prs.config),
  });
  r.bcastAppend();
}
