/**
 * The running member behind a replica: the core (RawNode) driven by one
 * serialized loop, durable storage, the transport, and the parts that
 * answer requests. Implements the transport's `Raft` (what arrives is
 * stepped into the core) and handles each Ready under the durability rule.
 *
 * @module
 */

import {
  type Logger,
  MemberRemovedError,
  type Message,
  MessageType,
  type PeerServer,
  type Raft,
  serve,
  type SnapshotStatus,
  Transport,
} from "../mod.ts";
import { RawNode, type Ready, type StateType } from "../raft/mod.ts";
import type { DiskStorage } from "../storage/mod.ts";
import { Applier } from "./applier.ts";
import { ConfRequests } from "./conf_requests.ts";
import { ReplicaStoppedError } from "./errors.ts";
import { EventHub, type ReplicaStopEvent } from "./events.ts";
import { LeaderWatch } from "./leader_watch.ts";
import { RaftLoop } from "./loop.ts";
import { MemberTable } from "./member_table.ts";
import { Membership } from "./membership.ts";
import type { ReplicaConfig } from "./options.ts";
import { Proposer } from "./proposer.ts";
import { Reads } from "./reads.ts";
import { SnapshotFiles } from "./snapshot_files.ts";
import { type SnapshotPoint, Snapshots } from "./snapshots.ts";
import { serveOptionsFor } from "./serving.ts";
import { type Tracer, traceReady, traceReceived, traceSent } from "./trace.ts";

/** How many ticks a removed member lingers, so that its last Ready still goes out. */
const LINGER_TICKS = 5;

/**
 * One running member.
 *
 * @example
 * ```ts ignore
 * const node = await ReplicaNode.open(resolveReplicaOptions(options), disk);
 * await node.proposer.propose(bytes, {});
 * await node.stop({ type: "stopped", reason: "stop" });
 * ```
 */
export class ReplicaNode<R = unknown> implements Raft {
  readonly id: bigint;
  readonly cfg: ReplicaConfig<R>;
  readonly events: EventHub = new EventHub();
  readonly leader: LeaderWatch = new LeaderWatch();
  readonly proposer: Proposer<R>;
  readonly reads: Reads;
  readonly confRequests: ConfRequests;
  readonly files: SnapshotFiles;
  readonly #log: Logger;
  readonly #disk: DiskStorage;
  readonly #trace: Tracer | undefined;
  /** The commit index last reported to the tracer. */
  #tracedCommit = 0n;
  membership!: Membership;
  raft!: RawNode;
  #loop!: RaftLoop;
  #applier!: Applier<R>;
  #snapshots!: Snapshots<R>;
  transport: Transport | undefined;
  server: PeerServer | undefined;
  #ticker: ReturnType<typeof setInterval> | undefined;
  #lingering: ReturnType<typeof setTimeout> | undefined;
  #role: StateType = "follower";
  #term = 0n;
  #vote = 0n;
  #stopping: Promise<void> | undefined;
  /** Removed by leaving a joint configuration, and still answering votes. */
  #leaving = false;
  /** Members that refused this one as removed (HTTP 410 or 403). */
  readonly #refusedBy = new Set<bigint>();

  private constructor(cfg: ReplicaConfig<R>, disk: DiskStorage) {
    this.id = cfg.id;
    this.cfg = cfg;
    this.#log = cfg.logger;
    this.#disk = disk;
    this.#trace = cfg.tracer;
    this.files = new SnapshotFiles(`${cfg.dataDir}/snap.db`);
    const run = (a: (r: RawNode) => void) => this.#loop.run(a);
    this.proposer = new Proposer<R>({
      id: cfg.id,
      raw: cfg.rawEntries,
      maxCommandBytes: cfg.maxCommandBytes,
      run,
    });
    this.reads = new Reads({ run, retryMs: 3 * cfg.tickMs });
    this.confRequests = new ConfRequests({
      run,
      retryMs: 2 * cfg.tickMs,
      reproposeMs: cfg.electionTicks * cfg.tickMs,
    });
  }

  /**
   * Opens a member on its storage: the state machine restored (or opened),
   * the core created, the transport started and served, the log committed
   * beyond the snapshot applied. Closes the storage if it fails.
   */
  static async open<R>(cfg: ReplicaConfig<R>, disk: DiskStorage): Promise<ReplicaNode<R>> {
    const node = new ReplicaNode(cfg, disk);
    try {
      await node.#restore();
    } catch (e) {
      await disk.close();
      throw e;
    }
    try {
      await node.#start();
    } catch (e) {
      await node.stop({ type: "stopped", reason: "error", error: e as Error });
      throw e;
    }
    return node;
  }

  /** The state machine and the core from what the storage holds. */
  async #restore(): Promise<void> {
    const cfg = this.cfg;
    const storage = this.#disk.storage;
    const snap = storage.snapshot();
    const index = snap.metadata?.index ?? 0n;
    const table = new MemberTable(cfg.peers);
    const saved = MemberTable.decode(snap.data);
    if (saved !== undefined) table.replaceWith(saved);
    this.membership = new Membership(table, snap.metadata?.confState, {
      self: this.id,
      transport: () => this.transport,
      events: this.events,
      graceMs: cfg.electionTicks * cfg.tickMs,
      onSelfRemoved: (byLeave) =>
        byLeave ? this.#leave() : this.#removed("the conf change was applied"),
      log: this.#log,
    });
    const { hardState } = storage.initialState();
    [this.#term, this.#vote] = [hardState.term, hardState.vote];
    this.leader.set(0n, hardState.term);
    this.raft = new RawNode({
      id: this.id,
      storage,
      applied: index,
      electionTick: cfg.electionTicks,
      heartbeatTick: cfg.heartbeatTicks,
      maxSizePerMsg: 1 << 20,
      maxInflightMsgs: 256,
      preVote: cfg.preVote,
      checkQuorum: cfg.preVote,
      readOnlyOption: cfg.reads === "lease" ? "lease-based" : "safe",
      logger: this.#log,
    });
    this.#loop = new RaftLoop(this.raft, (rd) => this.#handleReady(rd), this.#log, (e) => {
      this.#fail(e);
    });
    this.#snapshots = new Snapshots({
      files: this.files,
      disk: this.#disk,
      loop: this.#loop,
      stateMachine: cfg.stateMachine,
      every: cfg.snapshotEvery,
      catchUpEntries: cfg.snapshotCatchUpEntries,
      log: this.#log,
      onDiskError: (e) => this.#fail(e),
    }, index);
    const opened = await cfg.stateMachine.open?.();
    if (index > 0n && (opened === undefined || opened < index)) await this.#snapshots.restore(snap);
    this.#applier = new Applier(
      {
        raft: this.raft,
        stateMachine: cfg.stateMachine,
        proposer: this.proposer,
        confRequests: this.confRequests,
        membership: this.membership,
        tracer: cfg.tracer,
      },
      index,
      opened ?? index,
    );
  }

  async #start(): Promise<void> {
    const cfg = this.cfg;
    this.transport = new Transport({
      ...cfg.transport,
      id: this.id,
      clusterId: cfg.clusterId,
      urls: cfg.urls,
      raft: this,
      logger: cfg.transport.logger ?? this.#log,
      snapshot: { ...cfg.transport.snapshot, sink: this.files.sink },
      members: () =>
        this.membership.list().map((m) => ({
          id: m.id,
          peerURLs: m.urls,
          isLearner: m.role === "learner",
        })),
      onError: (e) => {
        if (e instanceof MemberRemovedError) this.#refused(e.peer);
        else this.#log.error(e.message, { error: e.name });
      },
    });
    if (cfg.serve !== false) {
      this.server = await serve(this.transport, serveOptionsFor(cfg, cfg.serve, this));
    }
    this.transport.start();
    this.membership.addKnownPeers();
    this.#ticker = setInterval(() => this.#loop.run((r) => r.tick()), cfg.tickMs);
    this.#loop.run(() => {}); // apply what the log committed beyond the snapshot, now
    await this.#loop.idle();
  }

  // ---- the transport's Raft interface ----

  /** Steps a message from a peer into the core (queued behind the Ready being handled). */
  process(m: Message): Promise<void> | void {
    if (this.#trace !== undefined) traceReceived(this.#trace, m, this.proposer.keyOf);
    if (m.type === MessageType.MsgSnap) return this.#processSnapshot(m);
    this.#loop.run((r) => r.step(m));
  }

  /**
   * A MsgSnap is stepped only if its data file is here (the transport's sink
   * wrote it), or, with `inlineSnapshots`, once the data it carries is
   * written to that file; it is then stepped without it (raft's snapshot
   * data is the URL table, which a raftexample snapshot does not have).
   */
  async #processSnapshot(m: Message): Promise<void> {
    const index = m.snapshot?.metadata?.index ?? 0n;
    if (this.cfg.inlineSnapshots) {
      try {
        await this.#snapshots.receiveInline(m);
      } catch (e) {
        this.#log.warn("could not write a snapshot sent inline", {
          from: m.from,
          index,
          error: (e as Error).message,
        });
        return;
      }
      m.snapshot!.data = new Uint8Array();
    } else if (await this.files.size(index) === undefined) {
      this.#log.warn("dropped a MsgSnap that came without its data", { from: m.from, index });
      return;
    }
    this.#loop.run((r) => r.step(m));
  }

  /** True if `id` was removed (see {@link Membership.isRemoved}). */
  isIDRemoved(id: bigint): boolean {
    return this.membership.isRemoved(id);
  }

  /** A message to `id` was not delivered: raft probes it again. */
  reportUnreachable(id: bigint): void {
    this.#loop.run((r) => r.reportUnreachable(id));
  }

  /** A snapshot to `id` finished or failed. */
  reportSnapshot(id: bigint, status: SnapshotStatus): void {
    this.#loop.run((r) => r.reportSnapshot(id, status));
  }

  // ---- Ready ----

  /**
   * Persist, send, apply, in an order that keeps the durability rule:
   *
   * - A follower's append acknowledgement (MsgAppResp) and any vote
   *   (MsgVote, MsgPreVote and their answers) go out only after the fsync
   *   of the entries and the term/vote they vouch for: every message of a
   *   non-leader, and of a Ready that changes term or vote, is sent after
   *   `disk.save`.
   * - A leader sends its own Ready's messages before its fsync (raft thesis
   *   10.2.1, as etcd's server does), so that its disk and the followers'
   *   write at once. Its messages carry no vote and vouch for nothing of
   *   its own disk. The leader counts itself toward commit only after the
   *   fsync: the core counts the leader's match when it appends, but the
   *   followers' answers that could complete a quorum are stepped only
   *   after this handler returned (the loop steps nothing while a Ready is
   *   out), so by then this fsync is done. A one-member cluster commits on
   *   its own append: its committed entries are applied after the fsync.
   * - Committed entries are durable on a quorum, so a follower applies
   *   them before its own fsync; a snapshot is restored after it is saved.
   *
   * The planted bug `ackBeforeFsync` (fault tests only) sends every Ready
   * that changes no vote before its fsync, on any member.
   */
  async #handleReady(rd: Ready): Promise<void> {
    const trace = this.#trace;
    if (trace !== undefined) this.#tracedCommit = traceReady(trace, rd, this.#tracedCommit);
    if (rd.softState !== undefined) this.#role = rd.softState.raftState;
    const hs = rd.hardState;
    this.proposer.table.appended(rd.entries, this.proposer.keyOf);
    this.confRequests.appended(rd.entries);
    if (hs !== undefined && hs.term > this.#term) this.proposer.table.termChanged(hs.term);
    if (rd.softState !== undefined) this.#leaderSeen(rd.softState.lead, hs?.term ?? this.#term);
    const sameVote = hs === undefined || (hs.term === this.#term && hs.vote === this.#vote);
    const early = sameVote && (this.#role === "leader" || this.cfg.ackBeforeFsync);
    const lastCommitted = rd.committedEntries.at(-1)?.index ?? 0n;
    const onDisk = lastCommitted <= this.#disk.storage.lastIndex();
    const applyEarly = rd.snapshot === undefined && (this.#role !== "leader" || onDisk);
    if (early) this.#send(rd.messages);
    if (applyEarly) await this.#applyCommitted(rd);
    if (trace !== undefined && rd.entries.length > 0) trace("walWrite", rd.entries.at(-1)!.index);
    await this.#disk.save(rd);
    if (hs !== undefined) [this.#term, this.#vote] = [hs.term, hs.vote];
    if (rd.snapshot !== undefined) await this.#installSnapshot(rd);
    if (!early) this.#send(rd.messages);
    if (!applyEarly) await this.#applyCommitted(rd);
    await this.#snapshots.maybeTake(this.#applier.applied, () => this.#snapshotPoint());
  }

  /** What a snapshot taken now records beside the state machine's data. */
  #snapshotPoint(): SnapshotPoint {
    return {
      index: this.#applier.applied,
      confState: this.membership.confState,
      table: this.membership.encode(),
    };
  }

  /**
   * Takes a snapshot at the index applied now (unless the newest is there
   * already); resolves with the newest snapshot's index once it is recorded.
   */
  takeSnapshot(): Promise<bigint> {
    return this.#snapshots.takeNow(() => this.#snapshotPoint());
  }

  #leaderSeen(leader: bigint, term: bigint): void {
    if (this.leader.set(leader, term)) this.events.emit({ type: "leader", leader, term });
  }

  #send(messages: Message[]): void {
    const t = this.transport;
    if (t === undefined || messages.length === 0) return;
    const others: Message[] = [];
    for (const m of messages) {
      if (m.type !== MessageType.MsgSnap) others.push(m);
      else if (this.cfg.inlineSnapshots) this.#snapshots.sendInline(m, t);
      else this.#snapshots.send(m, t);
    }
    if (this.#trace !== undefined) traceSent(this.#trace, others, this.proposer.keyOf);
    t.send(others);
  }

  async #applyCommitted(rd: Ready): Promise<void> {
    this.reads.readStates(rd.readStates);
    await this.#applier.apply(rd.committedEntries);
    this.reads.appliedTo(this.#applier.applied);
  }

  /** A snapshot from the leader, saved: the state machine and membership take its state. */
  async #installSnapshot(rd: Ready): Promise<void> {
    const snap = rd.snapshot!;
    const index = snap.metadata?.index ?? 0n;
    this.proposer.table.snapshotInstalled(index);
    if (index <= this.#applier.applied) return;
    await this.#snapshots.restore(snap);
    this.#applier.restored(index);
    this.membership.restored(MemberTable.decode(snap.data), snap.metadata?.confState, index);
    this.reads.appliedTo(index);
    this.#log.info("restored a snapshot from the leader", { index });
  }

  // ---- stop ----

  /** Where this member stands, for `status()`. */
  get appliedIndex(): bigint {
    return this.#applier.applied;
  }

  /** Raft's role of this member now. */
  get role(): StateType {
    return this.#role;
  }

  /** The log this member holds: first and last index, and the newest snapshot's index. */
  get log(): { firstIndex: bigint; lastIndex: bigint; snapshotIndex: bigint } {
    const s = this.#disk.storage;
    return {
      firstIndex: s.firstIndex(),
      lastIndex: s.lastIndex(),
      snapshotIndex: this.#snapshots.index,
    };
  }

  /**
   * A leader hands leadership to its most up-to-date follower and waits
   * (up to an election timeout) until it no longer leads, so that the
   * others need not wait for an election; others return at once.
   */
  async handOver(): Promise<void> {
    if (this.#role !== "leader" || this.#stopping !== undefined) return;
    let best: bigint | undefined;
    let bestMatch = -1n;
    for (const [id, p] of this.raft.status().progress ?? []) {
      if (id === this.id || !this.membership.isVoter(id)) continue;
      if (p.match > bestMatch) [best, bestMatch] = [id, p.match];
    }
    if (best === undefined) return;
    const to = best;
    this.#loop.run((r) => r.transferLeader(to));
    const deadline = performance.now() + this.cfg.electionTicks * this.cfg.tickMs;
    while (this.#role === "leader" && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Queues an action on the core. */
  run(action: (raft: RawNode) => void): boolean {
    return this.#loop.run(action);
  }

  /**
   * This member is out of the cluster: it takes no more requests and stops,
   * a few ticks later, so that the Ready after its removal still goes out (a
   * leader that removed itself hands leadership over with MsgTimeoutNow).
   */
  #removed(why: string): void {
    if (this.#stopping !== undefined || this.#lingering !== undefined) return;
    this.#log.warn(`member ${this.id} was removed from the cluster (${why}); stopping`);
    this.#closeRequests(new ReplicaStoppedError("this member was removed from the cluster"));
    this.#lingering = setTimeout(() => {
      this.stop({ type: "stopped", reason: "removed" }).catch(() => {});
    }, LINGER_TICKS * this.cfg.tickMs);
  }

  /**
   * Removed by leaving a joint configuration: it takes no more requests,
   * but keeps running, answering votes, until every voter of the new
   * configuration has applied the leave (docs/raft.md): until they have,
   * they are still joint and need a majority of the outgoing voters, who
   * all leave at once. A voter that applied it refuses this member (after
   * the grace time), which is how this member learns it; see
   * `#refused`. `stop()` ends the wait at any time.
   */
  #leave(): void {
    if (this.#stopping !== undefined || this.#leaving) return;
    this.#leaving = true;
    this.#log.warn(
      `member ${this.id} was removed by leaving the joint configuration; it answers votes ` +
        `until every new voter has applied the leave`,
    );
    this.#closeRequests(new ReplicaStoppedError("this member was removed from the cluster"));
    this.#refused(undefined);
  }

  /**
   * A peer refused this member as removed (`peer` undefined: only check).
   * A member removed by a joint change (left, or still joint and a voter
   * of the outgoing side only) stops once every new voter has refused it,
   * which each does once it applied the leave; any other stops at once.
   */
  #refused(peer: bigint | undefined): void {
    if (peer !== undefined) this.#refusedBy.add(peer);
    const conf = this.membership.confState;
    const outgoingOnly = conf.votersOutgoing.length > 0 && !conf.voters.includes(this.id);
    if (!this.#leaving && !outgoingOnly) {
      if (peer !== undefined) this.#removed("a peer says so");
      return;
    }
    const waiting = conf.voters.filter((id) => id !== this.id && !this.#refusedBy.has(id));
    if (waiting.length === 0) {
      this.#removed("every voter of the new configuration applied the leave");
    }
  }

  #fail(e: Error): void {
    this.#log.error("this replica cannot go on; stopping", { error: e.message });
    this.stop({ type: "stopped", reason: "error", error: e }).catch(() => {});
  }

  #closeRequests(error: ReplicaStoppedError): void {
    this.proposer.close(error);
    this.reads.close(error);
    this.confRequests.close(error);
    this.leader.close(error);
  }

  /** Stops everything and releases the transport, server and files; `final` goes to events(). */
  stop(final: ReplicaStopEvent): Promise<void> {
    this.#stopping ??= (async () => {
      clearInterval(this.#ticker);
      clearTimeout(this.#lingering);
      const why = final.reason === "removed"
        ? "this member was removed from the cluster"
        : final.reason === "error"
        ? `the replica stopped on an error: ${final.error?.message}`
        : "the replica is stopped";
      this.#closeRequests(new ReplicaStoppedError(why, { cause: final.error }));
      await this.#loop?.stop();
      await this.#snapshots?.stop();
      this.membership?.stop();
      await this.transport?.stop();
      await this.server?.shutdown();
      // A disk that fails its last fsync must not keep the stop from being reported.
      await this.#disk.close().catch((e) => {
        this.#log.error("could not close the storage", { error: (e as Error).message });
      });
      this.events.close(final);
    })();
    return this.#stopping;
  }

  /** Resolves once {@link stop} has finished (whoever started it). */
  get stopped(): Promise<void> | undefined {
    return this.#stopping;
  }
}
