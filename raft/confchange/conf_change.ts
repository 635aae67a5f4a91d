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
  switchToConfig(r, nextConfState(r.prs.confState(), cc));
  return r.prs.confState();
}

/** Makes `cs` the membership and reacts: a removed leader steps down, a leader re-counts its quorum. */
export function switchToConfig(r: RaftCore, cs: ConfState): void {
  r.prs.switchTo(cs, r.log.lastIndex() + 1n);
  r.cfg.logger.info("switched to configuration", {
    id: r.id,
    config: describeConfig(r.prs.config),
  });
  afterConfChange(r);
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
  if (r.leadTransferee !== NONE && !r.prs.isVoter(r.leadTransferee)) r.leadTransferee = NONE;
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
