/**
 * Membership changes as the replica applies them, whichever kind of entry
 * carries them. A ConfChange (V1, single step) and a ConfChangeV2 are both
 * read into one {@link MembershipChange}: a request id, a list of
 * (type, member) steps and a context with the added members' URLs, and
 * applied through {@link applyMembershipChange}. Today's core applies single
 * steps; a V2 with one step and the automatic transition is the same
 * change. Joint consensus (V2 with several steps) needs the core's V2
 * `applyConfChange`; it is the one place to extend then.
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
  /** The request id (a V1 ConfChange's `id`; 0n for V2, which has none). */
  id: bigint;
  /** What changes, in order. */
  steps: MembershipStep[];
  /** The context: the URLs of the member added (see `encodeUrlsContext`). */
  context: Uint8Array;
  /** A V2's transition (0, automatic, for V1). */
  transition: ConfChangeTransition;
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
      id: 0n,
      steps: cc.changes.map((c) => ({ type: c.type, nodeId: c.nodeId })),
      context: cc.context,
      transition: cc.transition,
    };
  }
  const cc = fromBinary(ConfChangeSchema, e.data);
  return {
    id: cc.id,
    steps: [{ type: cc.type, nodeId: cc.nodeId }],
    context: cc.context,
    transition: ConfChangeTransition.ConfChangeTransitionAuto,
  };
}

/**
 * Applies a committed membership change to the core; returns the new
 * membership. Throws for a change the core cannot make yet (joint).
 *
 * @example
 * ```ts
 * import { ConfChangeType } from "@rafthttp/rafthttp";
 * import { MemoryStorage, RawNode } from "@rafthttp/rafthttp/raft";
 * import { applyMembershipChange } from "@rafthttp/rafthttp/replica";
 * const raft = new RawNode({ id: 1n, storage: new MemoryStorage() });
 * const steps = [{ type: ConfChangeType.ConfChangeAddNode, nodeId: 1n }];
 * const cs = applyMembershipChange(raft, { id: 0n, steps, context: new Uint8Array(), transition: 0 });
 * console.log(cs.voters); // [ 1n ]
 * ```
 */
export function applyMembershipChange(raft: RawNode, change: MembershipChange): ConfState {
  const auto = change.transition === ConfChangeTransition.ConfChangeTransitionAuto;
  if (change.steps.length !== 1 || !auto) {
    throw new Error(
      `a membership change of ${change.steps.length} steps (joint consensus) needs the core's ConfChangeV2`,
    );
  }
  const [step] = change.steps;
  return raft.applyConfChange(create(ConfChangeSchema, { ...step, context: change.context }));
}
