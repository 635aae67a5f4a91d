/**
 * ProgressTracker: the membership configuration (voters, joint or not, and
 * learners), each member's Progress, and the votes of the running election.
 *
 * @module
 */

import type { ConfState } from "../../raftpb/mod.ts";
import { Progress } from "./progress.ts";
import {
  configFromConfState,
  confStateOf,
  isJoint,
  type MembershipConfig,
  membersOf,
  sortIds,
} from "./config.ts";
import { jointCommittedIndex, jointVoteResult, type VoteResult } from "../quorum/quorum.ts";

/** Members, their replication progress and election votes. */
export class ProgressTracker {
  /** Progress of every member: voters of both configurations and learners. */
  readonly progress = new Map<bigint, Progress>();
  /** Votes received in the current election. */
  readonly votes = new Map<bigint, boolean>();

  #config: MembershipConfig = configFromConfState(undefined);
  #frozen: ConfState | undefined;
  #memberIds: bigint[] | undefined;
  #voterIds: bigint[] | undefined;

  /** `maxInflight` sizes each new Progress's window. */
  constructor(readonly maxInflight: number) {}

  /** The current configuration. */
  get config(): MembershipConfig {
    return this.#config;
  }

  /** Voters of the incoming configuration (all voters unless joint). */
  get voters(): ReadonlySet<bigint> {
    return this.#config.voters;
  }

  /** Non-voting members. */
  get learners(): ReadonlySet<bigint> {
    return this.#config.learners;
  }

  /**
   * Makes `cs` the configuration: members that left lose their Progress,
   * new ones get one starting at `next`, and the others keep theirs (a
   * promoted learner keeps its match), with `isLearner` updated.
   */
  switchTo(cs: ConfState, next: bigint): void {
    this.#config = configFromConfState(cs);
    this.#frozen = undefined;
    this.#memberIds = undefined;
    this.#voterIds = undefined;
    const members = membersOf(this.#config);
    for (const id of this.progress.keys()) if (!members.has(id)) this.progress.delete(id);
    for (const id of members) {
      const isLearner = this.#config.learners.has(id);
      const pr = this.progress.get(id);
      if (pr) pr.isLearner = isLearner;
      else this.progress.set(id, this.newProgress(next, isLearner));
    }
  }

  private newProgress(next: bigint, isLearner: boolean): Progress {
    const pr = new Progress(next, this.maxInflight, isLearner);
    // A new member counts as active so that CheckQuorum does not step down at once.
    pr.recentActive = true;
    return pr;
  }

  /** True while the configuration is joint (an outgoing voter set exists). */
  isJoint(): boolean {
    return isJoint(this.#config);
  }

  /** True if `id` votes in the incoming or the outgoing configuration. */
  isVoter(id: bigint): boolean {
    return this.#config.voters.has(id) || this.#config.votersOutgoing.has(id);
  }

  /** The highest index matched by a majority of voters (of both sides when joint). */
  committed(): bigint {
    const c = this.#config;
    return jointCommittedIndex(
      c.voters,
      c.votersOutgoing,
      (id) => this.progress.get(id)?.match ?? 0n,
    );
  }

  /** True if the only voter is one member (and the configuration is not joint). */
  isSingleton(): boolean {
    return this.#config.voters.size === 1 && this.#config.votersOutgoing.size === 0;
  }

  /** True if a majority of voters (of both sides when joint) was recently active. */
  quorumActive(): boolean {
    if (this.voterIds().length === 0) return false;
    const active = new Map<bigint, boolean>();
    for (const id of this.voterIds()) active.set(id, this.progress.get(id)?.recentActive ?? false);
    return this.voteResult(active) === "won";
  }

  /** The outcome of `votes` (true: granted) under the current configuration. */
  voteResult(votes: Map<bigint, boolean>): VoteResult {
    return jointVoteResult(this.#config.voters, this.#config.votersOutgoing, votes);
  }

  /** Records `id`'s vote (only the first vote of each member counts). */
  recordVote(id: bigint, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  /** Starts a new election. */
  resetVotes(): void {
    this.votes.clear();
  }

  /** Voter ids of both configurations in ascending order (deterministic message order). Do not modify. */
  voterIds(): readonly bigint[] {
    return this.#voterIds ??= sortIds(
      new Set([...this.#config.voters, ...this.#config.votersOutgoing]),
    );
  }

  /** Every member id (voters and learners) in ascending order. Do not modify. */
  memberIds(): readonly bigint[] {
    return this.#memberIds ??= sortIds(this.progress.keys());
  }

  /** The membership as a new ConfState. */
  confState(): ConfState {
    return confStateOf(this.#config);
  }

  /** The membership as a ConfState shared until the next switch (frozen: do not modify). */
  frozenConfState(): ConfState {
    if (this.#frozen) return this.#frozen;
    const cs = confStateOf(this.#config);
    for (const list of [cs.voters, cs.learners, cs.votersOutgoing, cs.learnersNext]) {
      Object.freeze(list);
    }
    return this.#frozen = Object.freeze(cs);
  }
}
