/**
 * ProgressTracker: the membership (voters and learners), each member's
 * Progress, and the votes of the running election.
 *
 * @module
 */

import { type ConfState, ConfStateSchema, create } from "../../raftpb/mod.ts";
import { Progress } from "./progress.ts";
import { committedIndex, quorumSize, type VoteResult, voteResult } from "../quorum/quorum.ts";

function sortIds(ids: Iterable<bigint>): bigint[] {
  return [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Members, their replication progress and election votes. */
export class ProgressTracker {
  /** Voting members. */
  readonly voters = new Set<bigint>();
  /** Non-voting members that receive the log. */
  readonly learners = new Set<bigint>();
  /** Progress of every member, voters and learners. */
  readonly progress = new Map<bigint, Progress>();
  /** Votes received in the current election. */
  readonly votes = new Map<bigint, boolean>();

  #memberIds: bigint[] | undefined;
  #voterIds: bigint[] | undefined;

  /** `maxInflight` sizes each new Progress's window. */
  constructor(readonly maxInflight: number) {}

  private changed(): void {
    this.#memberIds = undefined;
    this.#voterIds = undefined;
  }

  /** Adds (or, for a learner, promotes) a member with a Progress starting at `next`. */
  addVoter(id: bigint, next: bigint): void {
    this.changed();
    this.learners.delete(id);
    this.voters.add(id);
    const pr = this.progress.get(id);
    if (pr) {
      pr.isLearner = false;
      return;
    }
    this.progress.set(id, this.newProgress(next, false));
  }

  /** Adds a learner; a voter is never demoted (as etcd 3.4 refuses it). */
  addLearner(id: bigint, next: bigint): void {
    if (this.voters.has(id) || this.learners.has(id)) return;
    this.changed();
    this.learners.add(id);
    this.progress.set(id, this.newProgress(next, true));
  }

  /** Removes a member entirely. */
  remove(id: bigint): void {
    this.changed();
    this.voters.delete(id);
    this.learners.delete(id);
    this.progress.delete(id);
  }

  private newProgress(next: bigint, isLearner: boolean): Progress {
    const pr = new Progress(next, this.maxInflight, isLearner);
    // A new member counts as active so that CheckQuorum does not step down at once.
    pr.recentActive = true;
    return pr;
  }

  /** The highest index matched by a majority of voters. */
  committed(): bigint {
    return committedIndex(this.voters, (id) => this.progress.get(id)?.match ?? 0n);
  }

  /** True if the only voter is one member. */
  isSingleton(): boolean {
    return this.voters.size === 1;
  }

  /** True if a majority of voters was recently active. */
  quorumActive(): boolean {
    let active = 0;
    for (const id of this.voters) if (this.progress.get(id)?.recentActive) active++;
    return active >= quorumSize(this.voters.size);
  }

  /** Records `id`'s vote (only the first vote of each member counts). */
  recordVote(id: bigint, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  /** Counts votes among voters. */
  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.voters) {
      const v = this.votes.get(id);
      if (v === true) granted++;
      else if (v === false) rejected++;
    }
    return { granted, rejected, result: voteResult(this.voters, this.votes) };
  }

  /** Starts a new election. */
  resetVotes(): void {
    this.votes.clear();
  }

  /** Voter ids in ascending order (deterministic message order). Do not modify. */
  voterIds(): readonly bigint[] {
    return this.#voterIds ??= sortIds(this.voters);
  }

  /** Every member id (voters and learners) in ascending order. Do not modify. */
  memberIds(): readonly bigint[] {
    return this.#memberIds ??= sortIds(this.progress.keys());
  }

  /** The membership as a ConfState. */
  confState(): ConfState {
    return create(ConfStateSchema, {
      voters: sortIds(this.voters),
      learners: sortIds(this.learners),
    });
  }
}
