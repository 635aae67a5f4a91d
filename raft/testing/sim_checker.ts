/**
 * The simulation's invariant checks: election safety, log matching,
 * leader completeness, state machine safety, durability of commits, and
 * linearizable ReadIndex.
 *
 * @module
 */

import type { Entry } from "../../raftpb/mod.ts";
import { RaftError } from "../errors.ts";

/** A Raft safety property was broken; `message` says which and where. */
export class SimViolation extends RaftError {}

function dataKey(e: Entry): string {
  let h = 0x811c9dc5;
  for (const b of e.data) h = Math.imul(h ^ b, 16777619) >>> 0;
  return `${e.type}:${e.data.length}:${h}`;
}

/** Facts learned across the whole run, and checks of every new fact against them. */
export class SafetyChecker {
  /** term -> the one leader of that term. */
  readonly leaders = new Map<bigint, bigint>();
  readonly #entries = new Map<string, string>();
  /** index -> [term of the entry, lowest term in which a member saw it committed]. */
  readonly committed = new Map<bigint, { term: bigint; seenIn: bigint }>();
  readonly #appliedHash = new Map<bigint, number>();
  /** Highest index applied by any member. */
  maxApplied = 0n;
  /** Highest index known committed. */
  maxCommitted = 0n;

  readonly #votes = new Map<string, bigint>();

  /** A member never votes for two candidates in one term, across restarts too. */
  vote(id: bigint, term: bigint, vote: bigint): void {
    if (vote === 0n) return;
    const key = `${id}:${term}`;
    const known = this.#votes.get(key);
    if (known === undefined) this.#votes.set(key, vote);
    else if (known !== vote) {
      throw new SimViolation(
        `double vote: member ${id} voted for ${known} and ${vote} in term ${term}`,
      );
    }
  }

  /** Election safety: at most one leader per term. */
  leader(id: bigint, term: bigint): void {
    const known = this.leaders.get(term);
    if (known === undefined) this.leaders.set(term, id);
    else if (known !== id) {
      throw new SimViolation(
        `election safety: ${known} and ${id} are both leaders of term ${term}`,
      );
    }
  }

  /**
   * Log matching, inductively: an entry (index, term) always has the same
   * data and the same predecessor term, so equal entries mean equal prefixes.
   */
  persisted(id: bigint, e: Entry, prevTerm: bigint): void {
    const key = `${e.index}:${e.term}`;
    const value = `${prevTerm}|${dataKey(e)}`;
    const known = this.#entries.get(key);
    if (known === undefined) this.#entries.set(key, value);
    else if (known !== value) {
      throw new SimViolation(
        `log matching: member ${id} has entry ${key} as ${value}, another member as ${known}`,
      );
    }
  }

  /** Commits never change: the entry at a committed index keeps its term. */
  committedEntry(id: bigint, index: bigint, term: bigint, observerTerm: bigint): void {
    const known = this.committed.get(index);
    if (known === undefined) {
      this.committed.set(index, { term, seenIn: observerTerm });
      if (index > this.maxCommitted) this.maxCommitted = index;
      return;
    }
    if (known.term !== term) {
      throw new SimViolation(
        `committed entry lost: index ${index} was committed with term ${known.term}, ` +
          `member ${id} now has term ${term} there`,
      );
    }
    if (observerTerm < known.seenIn) known.seenIn = observerTerm;
  }

  /**
   * Leader completeness: a leader of `term` holds every entry committed in
   * an earlier term. `termAt` reads its log (undefined if compacted).
   */
  newLeader(id: bigint, term: bigint, termAt: (i: bigint) => bigint | undefined): void {
    for (const [index, c] of this.committed) {
      if (c.seenIn >= term) continue;
      const t = termAt(index);
      if (t === undefined) continue; // inside its snapshot: committed by construction
      if (t !== c.term) {
        throw new SimViolation(
          `leader completeness: leader ${id} of term ${term} has term ${t} at committed index ` +
            `${index} (committed with term ${c.term} by term ${c.seenIn})`,
        );
      }
    }
  }

  /** State machine safety: every member's state after applying index i is the same. */
  applied(id: bigint, index: bigint, hash: number): void {
    const known = this.#appliedHash.get(index);
    if (known === undefined) this.#appliedHash.set(index, hash);
    else if (known !== hash) {
      throw new SimViolation(
        `state machine safety: member ${id} applied a different entry at ${index}`,
      );
    }
    if (index > this.maxApplied) this.maxApplied = index;
  }

  /** A read point must cover everything applied anywhere before the read was asked. */
  readIndex(id: bigint, index: bigint, appliedWhenAsked: bigint): void {
    if (index < appliedWhenAsked) {
      throw new SimViolation(
        `linearizable read: member ${id} got read index ${index}, but ${appliedWhenAsked} ` +
          "was already applied when the read was asked",
      );
    }
  }
}
