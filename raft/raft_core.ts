/**
 * RaftCore: the Raft state machine of one member (etcd's `raft` struct).
 * Pure: no clock, no I/O. Messages to send accumulate in `msgs`; the
 * RawNode hands them out in a Ready.
 *
 * @module
 */

import { clone } from "npm:@bufbuild/protobuf@2.17.0";
import {
  create,
  type Entry,
  EntrySchema,
  type HardState,
  HardStateSchema,
  type Message,
  MessageSchema,
  MessageType,
} from "../raftpb/mod.ts";
import { type RaftConfig, resolveConfig, type ResolvedConfig } from "./config.ts";
import { RaftError } from "./errors.ts";
import { RaftLog } from "./log.ts";
import { ProgressTracker } from "./tracker/tracker.ts";
import { restoreConfig } from "./confchange/changer.ts";
import { ReadOnly } from "./read_only.ts";

/**
 * The role of a member.
 *
 * @example
 * ```ts
 * import { MemoryStorage, RawNode, type StateType } from "@rafthttp/rafthttp/raft";
 * const s: StateType = new RawNode({ id: 1n, storage: new MemoryStorage() }).status().state;
 * console.log(s); // follower
 * ```
 */
export type StateType = "follower" | "candidate" | "leader" | "pre-candidate";

/**
 * A confirmed ReadIndex: once `index` is applied, a read for `requestCtx` is linearizable.
 *
 * @example
 * ```ts
 * import type { ReadState } from "@rafthttp/rafthttp/raft";
 * const rs: ReadState = { index: 7n, requestCtx: new TextEncoder().encode("read-1") };
 * const appliedIndex = 7n;
 * console.log(appliedIndex >= rs.index); // true: serve the read now
 * ```
 */
export interface ReadState {
  /** The commit index at the time of the request. */
  index: bigint;
  /** The context passed to readIndex(). */
  requestCtx: Uint8Array;
}

/** Why a campaign starts. */
export type CampaignType = "pre-election" | "election" | "transfer";

/** Fields of a message to build (entries and snapshot are already messages). */
export type MessageFields = Partial<Omit<Message, "$typeName" | "$unknown">>;

/** No member: 0 is never a member id. */
export const NONE = 0n;

/**
 * How each role steps messages, elects and replicates (election.ts,
 * step_leader.ts, step_follower.ts, leader_replication.ts). The core gets
 * them from whoever builds it (`roleRules` in role_rules.ts), so that those
 * files can take a `RaftCore` without importing each other in a circle.
 */
export interface RoleRules {
  /** Handles the message's term; false if the message is done with. */
  stepTerm(r: RaftCore, m: Message): boolean;
  /** Starts an election if this member may. */
  hup(r: RaftCore): void;
  /** Answers a MsgVote or MsgPreVote. */
  handleVoteRequest(r: RaftCore, m: Message): void;
  /** Starts an election (or pre-election). */
  campaign(r: RaftCore, t: CampaignType): void;
  /** A leader's step. */
  stepLeader(r: RaftCore, m: Message): void;
  /** A follower's step. */
  stepFollower(r: RaftCore, m: Message): void;
  /** A candidate's (or pre-candidate's) step. */
  stepCandidate(r: RaftCore, m: Message): void;
  /** Sends what follows the follower's next index; true if a message went out. */
  maybeSendAppend(r: RaftCore, to: bigint, sendIfEmpty: boolean): boolean;
}

/** The Raft state machine of one member. */
export class RaftCore {
  /** This member's id. */
  readonly id: bigint;
  /** The settings, defaults filled in. */
  readonly cfg: ResolvedConfig;
  /** Current term. */
  term = 0n;
  /** Who this member voted for in `term` (0: nobody). */
  vote = NONE;
  /** The log. */
  readonly log: RaftLog;
  /** Membership and replication progress. */
  prs: ProgressTracker;
  /** Current role. */
  state: StateType = "follower";
  /** This member is a learner (receives the log, never votes). */
  isLearner = false;
  /** Messages waiting to be sent. */
  msgs: Message[] = [];
  /** Confirmed ReadIndex requests waiting to be handed out. */
  readStates: ReadState[] = [];
  /** The known leader (0: none). */
  lead = NONE;
  /** The member leadership is being transferred to (0: none). */
  leadTransferee = NONE;
  /** The index of the latest conf change proposed; a new one waits until it is applied. */
  pendingConfIndex = 0n;
  /** ReadIndex requests waiting for heartbeat confirmation. */
  readOnly = new ReadOnly();
  /** ReadIndex requests waiting for the first commit of this leader's term. */
  pendingReadIndex: Message[] = [];
  /** Ticks since the last election timeout reset. */
  electionElapsed = 0;
  /** Ticks since the last heartbeat (leader only). */
  heartbeatElapsed = 0;
  /** This term's election timeout, in [electionTick, 2*electionTick). */
  randomizedElectionTimeout = 0;

  readonly #rules: RoleRules;

  /** Builds a member from its config and what its storage holds, stepping by `rules`. */
  constructor(config: RaftConfig, rules: RoleRules) {
    this.#rules = rules;
    this.cfg = resolveConfig(config);
    this.id = this.cfg.id;
    this.log = new RaftLog(this.cfg.storage, this.cfg.maxCommittedSizePerReady);
    this.prs = new ProgressTracker(this.cfg.maxInflightMsgs);
    const { hardState, confState } = this.cfg.storage.initialState();
    this.prs.switchTo(restoreConfig(confState), this.log.lastIndex() + 1n);
    this.isLearner = this.prs.progress.get(this.id)?.isLearner ?? false;
    if (hardState.term !== 0n || hardState.vote !== 0n || hardState.commit !== 0n) {
      this.loadState(hardState);
    }
    if (this.cfg.applied > 0n) this.log.appliedTo(this.cfg.applied);
    this.becomeFollower(this.term, NONE);
  }

  private loadState(hs: HardState): void {
    if (hs.commit < this.log.committed || hs.commit > this.log.lastIndex()) {
      throw new RaftError(
        `hard state commit ${hs.commit} is outside [${this.log.committed}, ${this.log.lastIndex()}]; ` +
          "the storage lost entries",
      );
    }
    this.log.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  /** The state to persist: term, vote, commit. */
  hardState(): HardState {
    return create(HardStateSchema, {
      term: this.term,
      vote: this.vote,
      commit: this.log.committed,
    });
  }

  /** True if this member may campaign: a voter of the current configuration. */
  promotable(): boolean {
    const pr = this.prs.progress.get(this.id);
    return pr !== undefined && !pr.isLearner;
  }

  /** Queues a message; sets from, and the term except on vote traffic and forwarded requests. */
  send(fields: MessageFields): void {
    // Assigning to an empty message is much cheaper than create(schema, init), which
    // re-checks every entry: this is the hot path of replication.
    const m = Object.assign(create(MessageSchema), fields);
    m.from = this.id;
    const t = m.type;
    const isVote = t === MessageType.MsgVote || t === MessageType.MsgVoteResp ||
      t === MessageType.MsgPreVote || t === MessageType.MsgPreVoteResp;
    if (isVote) {
      if (m.term === 0n) throw new RaftError(`vote message ${MessageType[t]} must carry a term`);
    } else if (t !== MessageType.MsgProp && t !== MessageType.MsgReadIndex) {
      m.term = this.term;
    }
    this.msgs.push(m);
  }

  /**
   * Forwards a copy of a request to the leader (MsgProp, MsgReadIndex,
   * MsgTransferLeader), keeping its originator in `from`.
   */
  forward(m: Message, to: bigint): void {
    const f = clone(MessageSchema, m);
    f.to = to;
    if (f.type === MessageType.MsgTransferLeader) f.term = this.term;
    if (f.from === NONE) f.from = this.id;
    this.msgs.push(f);
  }

  // --- role changes ---

  private reset(term: bigint): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.leadTransferee = NONE;
    this.prs.resetVotes();
    const last = this.log.lastIndex();
    for (const [id, pr] of this.prs.progress) {
      pr.match = id === this.id ? last : 0n;
      pr.next = last + 1n;
      pr.state = "probe";
      pr.probeSent = false;
      pr.pendingSnapshot = 0n;
      pr.inflights.reset();
    }
    this.pendingConfIndex = 0n;
    this.readOnly = new ReadOnly();
    this.pendingReadIndex = [];
  }

  resetRandomizedElectionTimeout(): void {
    const e = this.cfg.electionTick;
    this.randomizedElectionTimeout = e + Math.floor(this.cfg.random() * e);
  }

  /** Becomes a follower of `lead` (0: unknown) in `term`. */
  becomeFollower(term: bigint, lead: bigint): void {
    this.reset(term);
    this.lead = lead;
    this.state = "follower";
    this.cfg.logger.debug("became follower", { id: this.id, term, lead });
  }

  /** Becomes a candidate: next term, votes for itself. */
  becomeCandidate(): void {
    if (this.state === "leader") throw new RaftError("invalid transition leader -> candidate");
    this.reset(this.term + 1n);
    this.vote = this.id;
    this.state = "candidate";
    this.cfg.logger.info("became candidate", { id: this.id, term: this.term });
  }

  /** Becomes a pre-candidate: asks for pre-votes without changing term or vote. */
  becomePreCandidate(): void {
    if (this.state === "leader") throw new RaftError("invalid transition leader -> pre-candidate");
    this.prs.resetVotes();
    this.lead = NONE;
    this.state = "pre-candidate";
    this.cfg.logger.info("became pre-candidate", { id: this.id, term: this.term });
  }

  /** Becomes the leader of the current term and appends an empty entry to commit. */
  becomeLeader(): void {
    if (this.state === "follower") throw new RaftError("invalid transition follower -> leader");
    this.reset(this.term);
    this.lead = this.id;
    this.state = "leader";
    this.prs.progress.get(this.id)?.becomeReplicate();
    // Conf changes wait until everything of earlier terms is applied.
    this.pendingConfIndex = this.log.lastIndex();
    this.appendEntry([create(EntrySchema, {})]);
    this.cfg.logger.info("became leader", { id: this.id, term: this.term });
  }

  // --- ticks ---

  /** Advances the logical clock by one tick. */
  tick(): void {
    if (this.state === "leader") this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.step(create(MessageSchema, { type: MessageType.MsgHup, from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.cfg.electionTick) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum) {
        this.step(create(MessageSchema, { type: MessageType.MsgCheckQuorum, from: this.id }));
      }
      // A transfer that did not finish within an election timeout is abandoned.
      if (this.state === "leader") this.leadTransferee = NONE;
    }
    if (this.state !== "leader") return;
    if (this.heartbeatElapsed >= this.cfg.heartbeatTick) {
      this.heartbeatElapsed = 0;
      this.step(create(MessageSchema, { type: MessageType.MsgBeat, from: this.id }));
    }
  }

  // --- stepping ---

  /** Feeds one message (from the network or local) into the state machine. */
  step(m: Message): void {
    const rules = this.#rules;
    if (!rules.stepTerm(this, m)) return;
    switch (m.type) {
      case MessageType.MsgHup:
        rules.hup(this);
        return;
      case MessageType.MsgVote:
      case MessageType.MsgPreVote:
        rules.handleVoteRequest(this, m);
        return;
    }
    if (this.state === "leader") rules.stepLeader(this, m);
    else if (this.state === "follower") rules.stepFollower(this, m);
    else rules.stepCandidate(this, m);
  }

  // --- leader: replication ---

  /** Appends entries proposed to the leader; returns false if it cannot take them. */
  appendEntry(proposed: Entry[]): boolean {
    let li = this.log.lastIndex();
    // Fresh entries: the proposer's objects may be shared (a duplicated message) and must not change.
    const es = proposed.map((e) => {
      li++;
      return create(EntrySchema, { type: e.type, term: this.term, index: li, data: e.data });
    });
    li = this.log.append(es);
    this.prs.progress.get(this.id)?.maybeUpdate(li);
    this.maybeCommit();
    return true;
  }

  /** Advances the commit index to what a quorum matched in this term; true if it moved. */
  maybeCommit(): boolean {
    const moved = this.log.maybeCommit(this.prs.committed(), this.term);
    if (moved) this.releasePendingReadIndex();
    return moved;
  }

  private releasePendingReadIndex(): void {
    if (this.pendingReadIndex.length === 0 || !this.committedEntryInCurrentTerm()) return;
    const held = this.pendingReadIndex;
    this.pendingReadIndex = [];
    for (const m of held) this.#rules.stepLeader(this, m);
  }

  /** True once this leader committed an entry of its own term (needed before serving reads). */
  committedEntryInCurrentTerm(): boolean {
    return (this.log.termOrUndefined(this.log.committed) ?? 0n) === this.term;
  }

  /** Sends MsgApp to every other member. */
  bcastAppend(): void {
    for (const id of this.prs.memberIds()) if (id !== this.id) this.sendAppend(id);
  }

  /** Sends MsgApp (or MsgSnap) to `to`, even with no new entries. */
  sendAppend(to: bigint): void {
    this.maybeSendAppend(to, true);
  }

  /**
   * Sends entries after the follower's next index, or a snapshot if they
   * were compacted; returns true if a message was sent.
   */
  maybeSendAppend(to: bigint, sendIfEmpty: boolean): boolean {
    return this.#rules.maybeSendAppend(this, to, sendIfEmpty);
  }

  /** Starts an election (or pre-election). */
  campaign(t: CampaignType): void {
    this.#rules.campaign(this, t);
  }

  /** Records a vote and returns the election's outcome so far. */
  poll(id: bigint, granted: boolean): "won" | "lost" | "pending" {
    this.prs.recordVote(id, granted);
    return this.prs.voteResult(this.prs.votes);
  }

  /** Sends a heartbeat carrying min(match, commit): never a commit index beyond the follower's log. */
  sendHeartbeat(to: bigint, ctx: Uint8Array | undefined): void {
    const match = this.prs.progress.get(to)?.match ?? 0n;
    const commit = match < this.log.committed ? match : this.log.committed;
    this.send({ to, type: MessageType.MsgHeartbeat, commit, context: ctx ?? new Uint8Array() });
  }

  /** Sends heartbeats to every other member. */
  bcastHeartbeat(ctx?: Uint8Array): void {
    const c = ctx ?? this.readOnly.lastPendingRequestCtx();
    for (const id of this.prs.memberIds()) if (id !== this.id) this.sendHeartbeat(id, c);
  }

  /** Tells `to` to campaign at once (leadership transfer). */
  sendTimeoutNow(to: bigint): void {
    this.send({ to, type: MessageType.MsgTimeoutNow });
  }

  // --- follower: handling the leader's messages ---
}
