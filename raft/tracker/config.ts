/**
 * MembershipConfig: a membership configuration as sets (etcd's
 * `tracker.Config`): the incoming voters, the outgoing voters (non-empty
 * only in a joint configuration), the learners, the learners to be
 * (voters of the outgoing configuration that become learners when it is
 * left), and whether the leader leaves the joint configuration by itself.
 *
 * @module
 */

import { type ConfState, ConfStateSchema, create } from "../../raftpb/mod.ts";

/** A membership configuration; see the module doc. */
export interface MembershipConfig {
  /** Voters of the incoming configuration (the only voters when not joint). */
  readonly voters: ReadonlySet<bigint>;
  /** Voters of the outgoing configuration; empty unless joint. */
  readonly votersOutgoing: ReadonlySet<bigint>;
  /** Non-voting members that receive the log. */
  readonly learners: ReadonlySet<bigint>;
  /** Outgoing voters that become learners once the joint configuration is left. */
  readonly learnersNext: ReadonlySet<bigint>;
  /** The leader proposes leaving the joint configuration as soon as it applied entering it. */
  readonly autoLeave: boolean;
}

/** Ids in ascending order. */
export function sortIds(ids: Iterable<bigint>): bigint[] {
  return [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The configuration a ConfState describes (not validated: see confchange's `restoreConfig`). */
export function configFromConfState(cs: ConfState | undefined): MembershipConfig {
  return {
    voters: new Set(cs?.voters ?? []),
    votersOutgoing: new Set(cs?.votersOutgoing ?? []),
    learners: new Set(cs?.learners ?? []),
    learnersNext: new Set(cs?.learnersNext ?? []),
    autoLeave: cs?.autoLeave ?? false,
  };
}

/** The configuration as a ConfState, every list in ascending order. */
export function confStateOf(c: MembershipConfig): ConfState {
  const cs = create(ConfStateSchema, {
    voters: sortIds(c.voters),
    learners: sortIds(c.learners),
    votersOutgoing: sortIds(c.votersOutgoing),
    learnersNext: sortIds(c.learnersNext),
  });
  // proto2: a field set to false is still written; leave it unset, as before joint consensus.
  if (c.autoLeave) cs.autoLeave = true;
  return cs;
}

/** True while a configuration change is in its joint phase. */
export function isJoint(c: MembershipConfig): boolean {
  return c.votersOutgoing.size > 0;
}

/** Every member with a Progress: the voters of both sides and the learners. */
export function membersOf(c: MembershipConfig): Set<bigint> {
  return new Set([...c.voters, ...c.votersOutgoing, ...c.learners, ...c.learnersNext]);
}

/** "voters=(1 2 3)&&(1 2 4) learners=(5) learners_next=(4) autoleave", for logs. */
export function describeConfig(c: MembershipConfig): string {
  const list = (s: ReadonlySet<bigint>) => `(${sortIds(s).join(" ")})`;
  let out = `voters=${list(c.voters)}`;
  if (isJoint(c)) out += `&&${list(c.votersOutgoing)}`;
  if (c.learners.size > 0) out += ` learners=${list(c.learners)}`;
  if (c.learnersNext.size > 0) out += ` learners_next=${list(c.learnersNext)}`;
  if (c.autoLeave) out += " autoleave";
  return out;
}
