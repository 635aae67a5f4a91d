/**
 * `changeMembership`'s argument, and the ConfChangeV2 steps it becomes:
 * members added (as voters or learners), promoted, demoted and removed, in
 * one change. Checked here before anything is sent: ids and URLs, and the
 * steps against this replica's configuration with the core's own rules
 * (the leader checks again against its own).
 *
 * @module
 */

import { ConfChangeType, type ConfState } from "../raftpb/mod.ts";
import { Changer } from "../raft/mod.ts";
import type { MembershipStep } from "./conf_change.ts";
import { type IdLike, toId } from "./ids.ts";

/**
 * Several membership changes made as one (a ConfChangeV2: with more than
 * one step, through a joint configuration that the leader leaves by
 * itself).
 *
 * @example
 * ```ts
 * import type { MembershipUpdate } from "@rafthttp/rafthttp/replica";
 * const replace: MembershipUpdate = {
 *   add: [{ id: 4, urls: "http://127.0.0.1:9004" }, { id: 5, urls: "http://127.0.0.1:9005" }],
 *   remove: [2, 3],
 * };
 * console.log(replace.add?.length, replace.remove); // 2 [ 2, 3 ]
 * ```
 */
export interface MembershipUpdate {
  /** Members to add, reachable at `urls`; `role` defaults to "voter". */
  add?: { id: IdLike; urls: string | string[]; role?: "voter" | "learner" }[];
  /** Members to remove (voters or learners). */
  remove?: IdLike[];
  /** Learners to make voters. */
  promote?: IdLike[];
  /** Voters to make learners. */
  demote?: IdLike[];
}

/**
 * The steps of an update, and the URLs its context carries.
 *
 * @example
 * ```ts
 * import type { MembershipPlan } from "./membership_update.ts";
 * const plan: MembershipPlan = { steps: [], urls: new Map() };
 * console.log(plan.steps.length); // 0
 * ```
 */
export interface MembershipPlan {
  /** Adds, promotions, demotions, then removals. */
  steps: MembershipStep[];
  /** Peer URLs of the members added or promoted (those this replica knows). */
  urls: Map<bigint, string[]>;
}

/**
 * Checks `update` and turns it into steps. Throws RangeError for an empty
 * update, an id named twice, an added member without URLs, a member to
 * promote or demote that is not one; the core's ConfChangeError for steps
 * the configuration `conf` would refuse (unless it is joint: then the
 * leader decides once it has left it).
 *
 * @example
 * ```ts
 * import { ConfStateSchema, create } from "@rafthttp/rafthttp";
 * import { planMembershipUpdate } from "./membership_update.ts";
 * const conf = create(ConfStateSchema, { voters: [1n, 2n, 3n] });
 * const plan = planMembershipUpdate({ add: [{ id: 4, urls: "http://h:4" }], remove: [3] }, conf, () => []);
 * console.log(plan.steps.map((s) => `${s.type}:${s.nodeId}`)); // [ "0:4", "1:3" ]
 * ```
 */
export function planMembershipUpdate(
  update: MembershipUpdate,
  conf: ConfState,
  knownUrls: (id: bigint) => string[],
): MembershipPlan {
  const seen = new Set<bigint>();
  const id = (v: IdLike) => {
    const n = toId(v);
    if (seen.has(n)) throw new RangeError(`member ${n} is named twice in one membership change`);
    seen.add(n);
    return n;
  };
  const members = new Set([...conf.voters, ...conf.votersOutgoing, ...conf.learners]);
  const member = (v: IdLike, what: string) => {
    const n = id(v);
    if (!members.has(n)) throw new RangeError(`cannot ${what} ${n}: it is not a member`);
    return n;
  };
  const { ConfChangeAddNode, ConfChangeAddLearnerNode, ConfChangeRemoveNode } = ConfChangeType;
  const steps: MembershipStep[] = [];
  const urls = new Map<bigint, string[]>();
  for (const a of update.add ?? []) {
    const nodeId = id(a.id);
    const list = typeof a.urls === "string" ? [a.urls] : [...a.urls];
    if (list.length === 0) throw new RangeError(`member ${nodeId} needs a peer URL`);
    urls.set(nodeId, list);
    steps.push({
      type: a.role === "learner" ? ConfChangeAddLearnerNode : ConfChangeAddNode,
      nodeId,
    });
  }
  for (const v of update.promote ?? []) {
    const nodeId = member(v, "promote");
    const known = knownUrls(nodeId);
    if (known.length > 0) urls.set(nodeId, known); // for members that never learned them
    steps.push({ type: ConfChangeAddNode, nodeId });
  }
  for (const v of update.demote ?? []) {
    steps.push({ type: ConfChangeAddLearnerNode, nodeId: member(v, "demote") });
  }
  for (const v of update.remove ?? []) steps.push({ type: ConfChangeRemoveNode, nodeId: id(v) });
  if (steps.length === 0) throw new RangeError("a membership change needs at least one change");
  if (conf.votersOutgoing.length === 0 && conf.voters.length > 0) {
    const changer = new Changer(conf); // throws ConfChangeError, as the leader would refuse it
    if (steps.length > 1) changer.enterJoint(true, ...steps);
    else changer.simple(...steps);
  }
  return { steps, urls };
}
