/**
 * Which membership change the simulation proposes next: a ConfChange (V1:
 * add a voter or a learner, promote a learner, remove a member) or a
 * ConfChangeV2 (replace voters through a joint configuration, add a
 * learner, promote one while demoting a voter, and leave an explicit joint
 * configuration).
 *
 * @module
 */

import {
  type ConfChange,
  ConfChangeSchema,
  type ConfChangeSingle,
  ConfChangeTransition,
  ConfChangeType,
  type ConfChangeV2,
  ConfChangeV2Schema,
  type ConfState,
  create,
} from "../../raftpb/mod.ts";
import type { SimRandom } from "./sim_random.ts";

/** A change to propose and what it does. */
export interface MembershipPick {
  cc: ConfChange | ConfChangeV2;
  /** New member ids it uses (the simulation's next free ids). */
  added: number;
  /** For the trace. */
  text: string;
}

type Single = Pick<ConfChangeSingle, "type" | "nodeId">;
const { ConfChangeAddNode: ADD, ConfChangeAddLearnerNode: LEARNER, ConfChangeRemoveNode: REMOVE } =
  ConfChangeType;
const TRANSITIONS = [
  ConfChangeTransition.ConfChangeTransitionAuto,
  ConfChangeTransition.ConfChangeTransitionJointImplicit,
  ConfChangeTransition.ConfChangeTransitionJointExplicit,
];
const LETTER: Record<number, string> = { [ADD]: "v", [LEARNER]: "l", [REMOVE]: "r" };

function v2(changes: Single[], transition: ConfChangeTransition, added: number): MembershipPick {
  const text = `V2 ${ConfChangeTransition[transition].replace("ConfChangeTransition", "")} ` +
    (changes.map((c) => `${LETTER[c.type]}${c.nodeId}`).join(" ") || "(leave)");
  return { cc: create(ConfChangeV2Schema, { transition, changes }), added, text };
}

/**
 * The next change for configuration `cs`, with `nextId` the first unused
 * id and `initial` the initial voter count; undefined to propose nothing.
 * Voters are kept at three or more (a two-voter cluster with one member
 * lagging on an old configuration can chase terms for a very long time,
 * which is liveness, not safety).
 */
export function pickMembershipChange(
  rnd: SimRandom,
  cs: ConfState,
  nextId: bigint,
  initial: number,
): MembershipPick | undefined {
  if (cs.votersOutgoing.length > 0) {
    // Joint: the leader leaves an automatic one itself; an explicit one waits for us.
    if (!cs.autoLeave || rnd.chance(0.2)) return v2([], TRANSITIONS[0], 0);
    // Anything else is refused until the joint configuration is left: propose it now and then.
    return rnd.chance(0.2) ? pickV2(rnd, cs, nextId, initial) : undefined;
  }
  if (rnd.chance(0.5)) return pickV1(rnd, cs, nextId, initial);
  return pickV2(rnd, cs, nextId, initial);
}

function pickV1(
  rnd: SimRandom,
  cs: ConfState,
  nextId: bigint,
  initial: number,
): MembershipPick | undefined {
  const v1 = (type: ConfChangeType, nodeId: bigint, added = 0): MembershipPick => ({
    cc: create(ConfChangeSchema, { type, nodeId }),
    added,
    text: `${ConfChangeType[type]} ${nodeId}`,
  });
  if (cs.learners.length > 0 && rnd.chance(0.5)) {
    const id = rnd.pick(cs.learners);
    return rnd.chance(0.7) ? v1(ADD, id) : v1(REMOVE, id);
  }
  const voters = cs.voters;
  if (voters.length < initial || (voters.length < initial + 1 && rnd.chance(0.5))) {
    return v1(rnd.chance(0.3) ? LEARNER : ADD, nextId, 1);
  }
  if (voters.length <= 3) return undefined;
  return v1(REMOVE, rnd.pick(voters));
}

function pickV2(
  rnd: SimRandom,
  cs: ConfState,
  nextId: bigint,
  initial: number,
): MembershipPick | undefined {
  const transition = rnd.pick(TRANSITIONS);
  const voters = cs.voters;
  const x = rnd.next();
  if (cs.learners.length > 0 && x < 0.35) {
    const learner = rnd.pick(cs.learners);
    if (rnd.chance(0.2)) return v2([{ type: REMOVE, nodeId: learner }], transition, 0);
    // Promote it, and maybe demote a voter in the same change (a learner once joint is left).
    const changes: Single[] = [{ type: ADD, nodeId: learner }];
    if (voters.length >= 3 && rnd.chance(0.5)) {
      changes.push({ type: LEARNER, nodeId: rnd.pick(voters) });
    }
    return v2(changes, transition, 0);
  }
  if (x < 0.5 || voters.length < initial) {
    const type = voters.length < initial ? ADD : LEARNER;
    return v2([{ type, nodeId: nextId }], transition, 1);
  }
  // Replace one to all voters with new members at once.
  const k = 1 + rnd.int(rnd.chance(0.8) ? Math.min(2, voters.length) : voters.length);
  const pool = [...voters];
  const changes: Single[] = [];
  for (let i = 0; i < k; i++) {
    changes.push({ type: REMOVE, nodeId: pool.splice(rnd.int(pool.length), 1)[0] });
    changes.push({ type: ADD, nodeId: nextId + BigInt(i) });
  }
  return v2(changes, transition, k);
}
