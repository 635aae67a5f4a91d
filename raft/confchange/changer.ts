/**
 * The Changer: computes the next membership configuration from a list of
 * single changes, as etcd 3.4's raft does, with joint consensus (Raft
 * thesis §4.3) and its validation. It is a pure function of the current
 * ConfState: nothing changes until the result is switched to.
 *
 * @module
 */

import {
  type ConfChange,
  type ConfChangeSingle,
  ConfChangeType,
  type ConfState,
} from "../../raftpb/mod.ts";
import { ConfChangeError } from "../errors.ts";
import {
  configFromConfState,
  confStateOf,
  isJoint,
  type MembershipConfig,
  sortIds,
} from "../tracker/config.ts";

/** A configuration being changed. */
interface Draft {
  voters: Set<bigint>;
  votersOutgoing: Set<bigint>;
  learners: Set<bigint>;
  learnersNext: Set<bigint>;
  autoLeave: boolean;
}

function draftOf(cs: ConfState): Draft {
  const c = configFromConfState(cs);
  const d: Draft = {
    voters: new Set(c.voters),
    votersOutgoing: new Set(c.votersOutgoing),
    learners: new Set(c.learners),
    learnersNext: new Set(c.learnersNext),
    autoLeave: c.autoLeave,
  };
  checkConfig(d);
  return d;
}

function isMember(d: Draft, id: bigint): boolean {
  return d.voters.has(id) || d.votersOutgoing.has(id) || d.learners.has(id);
}

/**
 * Computes configurations that follow a current one. Each method returns
 * the next ConfState, or throws {@link ConfChangeError} if the change is
 * not allowed from the current configuration (which stays as it was).
 *
 * @example Replacing two of three voters through a joint configuration
 * ```ts
 * import { ConfChangeType, ConfStateSchema, create } from "@rafthttp/rafthttp/raftpb";
 * import { Changer } from "@rafthttp/rafthttp/raft";
 *
 * const change = (type: ConfChangeType, nodeId: bigint) => ({ type, nodeId });
 * const cs = create(ConfStateSchema, { voters: [1n, 2n, 3n] });
 * const joint = new Changer(cs).enterJoint(
 *   true,
 *   change(ConfChangeType.ConfChangeAddNode, 4n),
 *   change(ConfChangeType.ConfChangeAddNode, 5n),
 *   change(ConfChangeType.ConfChangeRemoveNode, 2n),
 *   change(ConfChangeType.ConfChangeRemoveNode, 3n),
 * );
 * console.log(joint.voters, joint.votersOutgoing); // [ 1n, 4n, 5n ] [ 1n, 2n, 3n ]
 * console.log(new Changer(joint).leaveJoint().voters); // [ 1n, 4n, 5n ]
 * ```
 */
export class Changer {
  readonly #current: ConfState;

  /** A Changer of the configuration `current` describes. */
  constructor(current: ConfState) {
    this.#current = current;
  }

  /**
   * Enters a joint configuration: the current voters become the outgoing
   * set, `changes` apply to the incoming one (C_old,new of the thesis).
   * With `autoLeave`, the leader leaves it as soon as it applied it.
   * Refused when already joint or when there are no voters.
   */
  enterJoint(
    autoLeave: boolean,
    ...changes: Pick<ConfChangeSingle, "type" | "nodeId">[]
  ): ConfState {
    const d = draftOf(this.#current);
    if (isJoint(d)) throw new ConfChangeError("config is already joint");
    if (d.voters.size === 0) {
      throw new ConfChangeError("can't make a zero-voter config joint");
    }
    d.votersOutgoing = new Set(d.voters);
    applyChanges(d, changes);
    d.autoLeave = autoLeave;
    return finish(d);
  }

  /**
   * Leaves the joint configuration: the incoming voters decide alone, the
   * outgoing voters that are not incoming voters or learners are no longer
   * members, and the staged learners (learnersNext) become learners.
   */
  leaveJoint(): ConfState {
    const d = draftOf(this.#current);
    if (!isJoint(d)) throw new ConfChangeError("can't leave a non-joint config");
    for (const id of d.learnersNext) d.learners.add(id);
    d.learnersNext.clear();
    d.votersOutgoing.clear();
    d.autoLeave = false;
    return finish(d);
  }

  /**
   * Applies `changes` directly, without a joint phase: allowed when not
   * joint and when at most one voter is added or removed in all.
   */
  simple(...changes: Pick<ConfChangeSingle, "type" | "nodeId">[]): ConfState {
    const d = draftOf(this.#current);
    if (isJoint(d)) throw new ConfChangeError("can't apply simple config change in joint config");
    const before = new Set(d.voters);
    applyChanges(d, changes);
    let changed = 0;
    for (const id of before) if (!d.voters.has(id)) changed++;
    for (const id of d.voters) if (!before.has(id)) changed++;
    if (changed > 1) {
      throw new ConfChangeError("more than one voter changed without entering joint config");
    }
    return finish(d);
  }
}

/**
 * This core's rules for a ConfChange (V1), unchanged since before joint
 * consensus: AddNode adds or promotes, AddLearnerNode adds a learner but
 * never demotes a voter, RemoveNode removes (the last voter too),
 * UpdateNode changes nothing. Refused in a joint configuration. Node 0
 * changes nothing.
 */
export function applyV1(current: ConfState, cc: ConfChange): ConfState {
  const d = draftOf(current);
  if (isJoint(d)) {
    throw new ConfChangeError("a ConfChange (V1) cannot apply in a joint config; leave it first");
  }
  const id = cc.nodeId;
  if (id === 0n) return confStateOf(d);
  switch (cc.type) {
    case ConfChangeType.ConfChangeAddNode:
      makeVoter(d, id);
      break;
    case ConfChangeType.ConfChangeAddLearnerNode:
      if (!isMember(d, id)) d.learners.add(id);
      break;
    case ConfChangeType.ConfChangeRemoveNode:
      remove(d, id);
      break;
  }
  return confStateOf(d);
}

function applyChanges(d: Draft, changes: Pick<ConfChangeSingle, "type" | "nodeId">[]): void {
  for (const cc of changes) {
    // etcd's server zeroes the node id of a change it decided not to make.
    if (cc.nodeId === 0n) continue;
    switch (cc.type) {
      case ConfChangeType.ConfChangeAddNode:
        makeVoter(d, cc.nodeId);
        break;
      case ConfChangeType.ConfChangeAddLearnerNode:
        makeLearner(d, cc.nodeId);
        break;
      case ConfChangeType.ConfChangeRemoveNode:
        remove(d, cc.nodeId);
        break;
      case ConfChangeType.ConfChangeUpdateNode:
        break;
      default:
        throw new ConfChangeError(`unexpected conf change type ${cc.type}`);
    }
  }
  if (d.voters.size === 0) throw new ConfChangeError("removed all voters");
}

/** Adds a voter to the incoming set, promoting a learner (or a staged one). */
function makeVoter(d: Draft, id: bigint): void {
  d.learners.delete(id);
  d.learnersNext.delete(id);
  d.voters.add(id);
}

/**
 * Adds a learner, or demotes a voter: an outgoing voter can only become
 * a learner once the joint configuration is left (learnersNext).
 */
function makeLearner(d: Draft, id: bigint): void {
  if (!isMember(d, id)) {
    d.learners.add(id);
    return;
  }
  if (d.learners.has(id)) return;
  remove(d, id);
  if (d.votersOutgoing.has(id)) d.learnersNext.add(id);
  else d.learners.add(id);
}

/** Removes a member from the incoming side; an outgoing voter stays one until the joint config is left. */
function remove(d: Draft, id: bigint): void {
  d.voters.delete(id);
  d.learners.delete(id);
  d.learnersNext.delete(id);
}

function finish(d: Draft): ConfState {
  checkConfig(d);
  return confStateOf(d);
}

/**
 * Throws ConfChangeError unless `c` is consistent: learners are no
 * voters, staged learners are outgoing voters and no learners yet, and a
 * configuration that is not joint stages nothing and does not auto-leave.
 */
export function checkConfig(c: MembershipConfig): void {
  for (const id of sortIds(c.learners)) {
    if (c.voters.has(id)) throw new ConfChangeError(`${id} is a learner and an incoming voter`);
    if (c.votersOutgoing.has(id)) {
      throw new ConfChangeError(`${id} is a learner and an outgoing voter`);
    }
  }
  for (const id of sortIds(c.learnersNext)) {
    if (!c.votersOutgoing.has(id)) {
      throw new ConfChangeError(`${id} is in learnersNext but not an outgoing voter`);
    }
    if (c.learners.has(id)) throw new ConfChangeError(`${id} is in learnersNext and a learner`);
  }
  if (isJoint(c)) {
    if (c.voters.size === 0) throw new ConfChangeError("a joint config has no incoming voters");
    return;
  }
  if (c.learnersNext.size > 0) {
    throw new ConfChangeError("learnersNext must be empty when not joint");
  }
  if (c.autoLeave) throw new ConfChangeError("autoLeave must be false when not joint");
}

/** The configuration `cs` describes, checked (restart and snapshot restore). */
export function restoreConfig(cs: ConfState | undefined): ConfState {
  const c = configFromConfState(cs);
  checkConfig(c);
  return confStateOf(c);
}
