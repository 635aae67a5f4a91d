/**
 * Membership changes as the replica applies them, whichever kind of entry
 * carries them. A ConfChange (V1, single step) and a ConfChangeV2 are both
 * read into one {@link MembershipChange}: a request id, a list of
 * (type, member) steps and a context with the added members' URLs, and
 * applied through {@link applyMembershipChange}, each to the core as the
 * kind it came as (the core keeps V1's rules for V1). A ConfChangeV2 of
 * several steps enters a joint configuration; the leader leaves it by
 * itself with an empty ConfChangeV2, applied here like any other.
 *
 * @module
 */

import { fromBinary } from "npm:@bufbuild/protobuf@2.17.0";
import {
  ConfChangeSchema,
  ConfChangeTransition,
  type ConfChangeType,
  ConfChangeV2Schema,
  type ConfState,
  create,
  type Entry,
  EntryType,
} from "../raftpb/mod.ts";
import type { RawNode } from "../raft/mod.ts";
import { decodeMembersContext } from "./conf_context.ts";

/**
 * One step of a membership change.
 *
 * @example
 * ```ts
 * import { ConfChangeType } from "@rafthttp/rafthttp";
 * import type { MembershipStep } from "@rafthttp/rafthttp/replica";
 * const step: MembershipStep = { type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: 4n };
 * console.log(step.nodeId); // 4n
 * ```
 */
export interface MembershipStep {
  /** Add a voter (or promote a learner), add a learner, remove, or update. */
  type: ConfChangeType;
  /** The member it is about. */
  nodeId: bigint;
}

/**
 * A membership change read from a committed entry.
 *
 * @example
 * ```ts
 * import type { MembershipChange } from "@rafthttp/rafthttp/replica";
 * import { ConfChangeType } from "@rafthttp/rafthttp";
 * const c: MembershipChange = {
 *   id: 1n, steps: [{ type: ConfChangeType.ConfChangeRemoveNode, nodeId: 3n }],
 *   context: new Uint8Array(), transition: 0,
 * };
 * console.log(c.steps.length); // 1
 * ```
 */
export interface MembershipChange {
  /**
   * The request id: a V1 ConfChange's `id`; a ConfChangeV2's from its
   * context (see `encodeMembersContext`), 0n when it has none (the leave).
   */
  id: bigint;
  /** What changes, in order (none: leave the joint configuration). */
  steps: MembershipStep[];
  /**
   * The context: the URLs of the member added (V1, see `encodeUrlsContext`)
   * or of each member added (V2, see `encodeMembersContext`).
   */
  context: Uint8Array;
  /** A V2's transition (0, automatic, for V1). */
  transition: ConfChangeTransition;
  /**
   * True if it came as a ConfChangeV2 (applied as one); absent or false, a
   * ConfChange. A change of other than one step is a ConfChangeV2 anyway.
   */
  v2?: boolean;
}

/**
 * True for the entry types that carry membership changes.
 *
 * @example
 * ```ts
 * import { EntryType } from "@rafthttp/rafthttp";
 * import { isConfEntry } from "./conf_change.ts";
 * console.log(isConfEntry({ type: EntryType.EntryConfChangeV2 } as never)); // true
 * ```
 */
export function isConfEntry(e: Entry): boolean {
  return e.type === EntryType.EntryConfChange || e.type === EntryType.EntryConfChangeV2;
}

/**
 * Reads the membership change of a conf change entry of either kind.
 *
 * @example
 * ```ts
 * import { toBinary } from "npm:@bufbuild/protobuf@2.17.0";
 * import { ConfChangeSchema, ConfChangeType, create, EntryType } from "@rafthttp/rafthttp";
 * import { decodeMembershipChange } from "@rafthttp/rafthttp/replica";
 * const cc = create(ConfChangeSchema, { id: 9n, type: ConfChangeType.ConfChangeAddNode, nodeId: 4n });
 * const e = { type: EntryType.EntryConfChange, data: toBinary(ConfChangeSchema, cc) };
 * console.log(decodeMembershipChange(e as never).steps[0].nodeId); // 4n
 * ```
 */
export function decodeMembershipChange(e: Entry): MembershipChange {
  if (e.type === EntryType.EntryConfChangeV2) {
    const cc = fromBinary(ConfChangeV2Schema, e.data);
    return {
      id: decodeMembersContext(cc.context)?.requestId ?? 0n,
      steps: cc.changes.map((c) => ({ type: c.type, nodeId: c.nodeId })),
      context: cc.context,
      transition: cc.transition,
      v2: true,
    };
  }
  const cc = fromBinary(ConfChangeSchema, e.data);
  return {
    id: cc.id,
    steps: [{ type: cc.type, nodeId: cc.nodeId }],
    context: cc.context,
    transition: ConfChangeTransition.ConfChangeTransitionAuto,
    v2: false,
  };
}

/**
 * Applies a committed membership change to the core, as the kind of conf
 * change it came as; returns the new membership (with `votersOutgoing` while
 * joint). Throws the core's ConfChangeError for a change the configuration
 * does not allow (the core's leader never appends one).
 *
 * @example
 * ```ts
 * import { ConfChangeType } from "@rafthttp/rafthttp";
 * import { MemoryStorage, RawNode } from "@rafthttp/rafthttp/raft";
 * import { applyMembershipChange } from "@rafthttp/rafthttp/replica";
 * const raft = new RawNode({ id: 1n, storage: new MemoryStorage() });
 * const add = (nodeId: bigint) => ({ type: ConfChangeType.ConfChangeAddNode, nodeId });
 * const change = (steps: ReturnType<typeof add>[], v2 = false) =>
 *   applyMembershipChange(raft, { id: 0n, steps, context: new Uint8Array(), transition: 0, v2 });
 * console.log(change([add(1n)]).voters); // [ 1n ]
 * const joint = change([add(2n), add(3n)], true); // two voters at once: joint
 * console.log(joint.voters, joint.votersOutgoing); // [ 1n, 2n, 3n ] [ 1n ]
 * console.log(change([], true).votersOutgoing); // [] (left)
 * ```
 */
export function applyMembershipChange(raft: RawNode, change: MembershipChange): ConfState {
  const auto = change.transition === ConfChangeTransition.ConfChangeTransitionAuto;
  if (change.v2 !== true && change.steps.length === 1 && auto) {
    const [step] = change.steps;
    const cc = create(ConfChangeSchema, { id: change.id, ...step, context: change.context });
    return raft.applyConfChange(cc);
  }
  return raft.applyConfChange(create(ConfChangeV2Schema, {
    transition: change.transition,
    changes: change.steps,
    context: change.context,
  }));
}
