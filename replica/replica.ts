/**
 * `startReplica`: a replicated state machine on the Raft core, durable
 * storage and the transport, in one call, and the {@link Replica} it gives.
 *
 * @module
 */

import { ConfChangeType, type PeerServerAddr, type Transport } from "../mod.ts";
import type { StateType } from "../raft/mod.ts";
import { DiskStorage } from "../storage/mod.ts";
import { bootstrapIfNew } from "./bootstrap.ts";
import { OutcomeUnknownError } from "./errors.ts";
import type { MemberStatus, ReplicaEvent } from "./events.ts";
import { type IdLike, toId } from "./ids.ts";
import { encodeUrlsContext } from "./member_table.ts";
import { type MembershipUpdate, planMembershipUpdate } from "./membership_update.ts";
import { ReplicaNode } from "./node.ts";
import { type ReplicaOptions, resolveReplicaOptions } from "./options.ts";
import type { WaitOptions } from "./proposals.ts";
import { metricsText, replicaHandler } from "./serving.ts";
import { syncSteps } from "./trace.ts";

/**
 * Where a replica stands.
 *
 * @example
 * ```ts ignore
 * const s = replica.status();
 * console.log(s.leader === s.id ? "leading" : `following ${s.leader}`, s.appliedIndex);
 * ```
 */
export interface ReplicaStatus {
  /** This member. */
  id: bigint;
  /** The known leader (0n: none known). */
  leader: bigint;
  /** Raft's current term. */
  term: bigint;
  /** Raft's commit index. */
  commitIndex: bigint;
  /** The index of the last entry applied here. */
  appliedIndex: bigint;
  /** Raft's role of this member: "leader", "follower", "candidate" or "precandidate". */
  role: StateType;
  /** The first index of the log held here (entries before it are in the snapshot). */
  firstIndex: bigint;
  /** The last index of the log held here. */
  lastIndex: bigint;
  /** The index of the newest snapshot, taken here or received (0n: none). */
  snapshotIndex: bigint;
  /**
   * The members: voters, then learners. While joint, voters of both sides
   * (a voter of one side only says which in its `joint` field).
   */
  members: MemberStatus[];
  /**
   * True between a joint change (`changeMembership` with several changes)
   * and its leave: commits and elections need a majority of both sides.
   */
  joint: boolean;
}

/**
 * A running replica; see {@link startReplica}. Every request takes an
 * optional `signal` and `timeoutMs` (default: the replica's
 * `requestTimeoutMs`).
 *
 * @example
 * ```ts ignore
 * const result = await replica.propose(new TextEncoder().encode("inc 1"));
 * await replica.read(); // everything committed before this call is applied here now
 * await replica.stop();
 * ```
 */
export interface Replica<R = unknown> extends AsyncDisposable {
  /** This member's id. */
  readonly id: bigint;
  /** The peer port's handler (for `serve: false`, or to mount it elsewhere). */
  readonly handler: (req: Request) => Promise<Response>;
  /** Where the peer port listens (undefined with `serve: false`). */
  readonly addr: PeerServerAddr | undefined;
  /**
   * The transport under the replica, for what the replica does not wrap:
   * fault injection (`cutPeer`, `mendPeer`) and its statistics. Its peers
   * are the replica's to keep: do not add or remove them.
   */
  readonly transport: Transport;
  /**
   * Proposes `command` (on any member: raft forwards it to the leader) and
   * resolves with what `apply` returned for its entry on this replica.
   * Rejects with `NoLeaderError` (nothing sent), `OutcomeUnknownError`
   * (sent, then the time limit, the signal or a leader change came: it may
   * still commit), `ReplicaStoppedError` or `ProposalTooLargeError`; aborted
   * before it was sent, with the signal's reason.
   */
  propose(command: Uint8Array, options?: WaitOptions): Promise<R>;
  /**
   * A linearizable barrier (ReadIndex, batched with concurrent reads): on
   * return, this replica has applied everything committed before the call.
   * Rejects with `NoLeaderError` when no leader is known, with the signal's
   * reason (or a `TimeoutError`) when it ends first.
   */
  read(options?: WaitOptions): Promise<void>;
  /** Where this replica stands. */
  status(): ReplicaStatus;
  /** Leader changes, membership changes and the stop, from now on. */
  events(): AsyncIterableIterator<ReplicaEvent>;
  /** Resolves with the leader once one is known. */
  waitForLeader(options?: WaitOptions): Promise<bigint>;
  /** Adds a voter reachable at `urls`; resolves once the change is applied here. */
  addMember(id: IdLike, urls: string | string[], options?: WaitOptions): Promise<void>;
  /** Adds a learner (it gets the log, never votes); resolves once applied here. */
  addLearner(id: IdLike, urls: string | string[], options?: WaitOptions): Promise<void>;
  /** Makes a learner a voter; resolves once applied here. */
  promote(id: IdLike, options?: WaitOptions): Promise<void>;
  /** Removes a member (it stops itself); resolves once applied here. */
  removeMember(id: IdLike, options?: WaitOptions): Promise<void>;
  /**
   * Makes several membership changes as one ConfChangeV2: with more than
   * one change, the cluster goes through a joint configuration (commits
   * and elections need a majority of the old voters and of the new) that
   * the leader leaves by itself. Resolves with the members once the final
   * configuration is applied here. Removed members stop themselves once
   * every new voter has applied the leave. Rejects at once with RangeError
   * (or the core's ConfChangeError) for a change that cannot be made, and
   * like the single-step calls otherwise.
   */
  changeMembership(update: MembershipUpdate, options?: WaitOptions): Promise<MemberStatus[]>;
  /** Hands leadership to voter `id`; resolves once this replica sees it lead. */
  transferLeadership(id: IdLike, options?: WaitOptions): Promise<void>;
  /**
   * Takes a snapshot at the index applied here now, as the automatic ones
   * every `snapshotEvery` entries (the log compacted behind it), unless the
   * newest snapshot is there already; resolves with the newest snapshot's
   * index once it is recorded. It waits for this replica's state machine
   * and disk only, so it takes no time limit. Rejects if the state machine
   * or the disk failed (a failed save stops the replica), or with
   * `ReplicaStoppedError`.
   */
  takeSnapshot(): Promise<bigint>;
  /** The transport's metrics and the replica's gauges (Prometheus text format). */
  metrics(): string;
  /**
   * Stops the replica: pending requests get `ReplicaStoppedError`; files
   * and ports are released. With `handOver`, a leader first hands
   * leadership to its most up-to-date follower (waiting up to an election
   * timeout), so that the others need not wait for an election.
   */
  stop(options?: StopOptions): Promise<void>;
}

/**
 * Options of {@link Replica.stop}.
 *
 * @example
 * ```ts ignore
 * await replica.stop({ handOver: true }); // a leader hands over first
 * ```
 */
export interface StopOptions {
  /** A leader first hands leadership to its most up-to-date follower. Default false. */
  handOver?: boolean;
}

class ReplicaHandle<R> implements Replica<R> {
  readonly #n: ReplicaNode<R>;
  readonly handler: (req: Request) => Promise<Response>;

  constructor(node: ReplicaNode<R>) {
    this.#n = node;
    this.handler = replicaHandler(node.cfg, node.transport!, node);
  }

  get id(): bigint {
    return this.#n.id;
  }

  get addr(): PeerServerAddr | undefined {
    return this.#n.server?.addr;
  }

  get transport(): Transport {
    return this.#n.transport!;
  }

  #opts(o: WaitOptions = {}): WaitOptions {
    return { signal: o.signal, timeoutMs: o.timeoutMs ?? this.#n.cfg.requestTimeoutMs };
  }

  propose(command: Uint8Array, options?: WaitOptions): Promise<R> {
    return this.#n.proposer.propose(command, this.#opts(options));
  }

  read(options?: WaitOptions): Promise<void> {
    return this.#n.reads.read(this.#opts(options));
  }

  status(): ReplicaStatus {
    const n = this.#n;
    const s = n.raft.status();
    return {
      id: n.id,
      leader: n.leader.leader,
      term: s.term,
      commitIndex: s.commit,
      appliedIndex: n.appliedIndex,
      role: n.role,
      ...n.log,
      members: n.membership.list(),
      joint: n.membership.joint,
    };
  }

  events(): AsyncIterableIterator<ReplicaEvent> {
    return this.#n.events.subscribe();
  }

  waitForLeader(options?: WaitOptions): Promise<bigint> {
    const o = this.#opts(options);
    const late = () => new DOMException(`no leader within ${o.timeoutMs} ms`, "TimeoutError");
    return this.#n.leader.until((l) => l !== 0n, o, late);
  }

  addMember(id: IdLike, urls: string | string[], options?: WaitOptions): Promise<void> {
    return this.#add(ConfChangeType.ConfChangeAddNode, id, urls, options);
  }

  addLearner(id: IdLike, urls: string | string[], options?: WaitOptions): Promise<void> {
    return this.#add(ConfChangeType.ConfChangeAddLearnerNode, id, urls, options);
  }

  #add(type: ConfChangeType, id: IdLike, urls: string | string[], o?: WaitOptions) {
    const list = typeof urls === "string" ? [urls] : urls;
    if (list.length === 0) return Promise.reject(new RangeError("a member needs a peer URL"));
    const context = encodeUrlsContext(list);
    return this.#n.confRequests.request(type, toId(id), context, this.#opts(o));
  }

  promote(id: IdLike, options?: WaitOptions): Promise<void> {
    const nodeId = toId(id);
    const m = this.#n.membership;
    if (m.isVoter(nodeId)) return Promise.resolve();
    if (!m.isLearner(nodeId)) return Promise.reject(new RangeError(`${nodeId} is not a learner`));
    const context = encodeUrlsContext(m.urls(nodeId));
    const type = ConfChangeType.ConfChangeAddNode;
    return this.#n.confRequests.request(type, nodeId, context, this.#opts(options));
  }

  removeMember(id: IdLike, options?: WaitOptions): Promise<void> {
    const type = ConfChangeType.ConfChangeRemoveNode;
    return this.#n.confRequests.request(type, toId(id), new Uint8Array(), this.#opts(options));
  }

  async changeMembership(update: MembershipUpdate, options?: WaitOptions): Promise<MemberStatus[]> {
    const m = this.#n.membership;
    const plan = planMembershipUpdate(update, m.confState, (id) => m.urls(id));
    await this.#n.confRequests.requestSteps(plan.steps, plan.urls, this.#opts(options));
    return m.list();
  }

  async transferLeadership(id: IdLike, options?: WaitOptions): Promise<void> {
    const to = toId(id);
    const n = this.#n;
    if (!n.membership.isVoter(to)) throw new RangeError(`${to} is not a voter`);
    const o = this.#opts(options);
    const late = () => new OutcomeUnknownError(`${to} did not take over within ${o.timeoutMs} ms`);
    const ask = () => n.run((r) => r.transferLeader(to));
    ask(); // raft forwards it to the leader; asked again in case the leader changed meanwhile
    const again = setInterval(ask, n.cfg.electionTicks * n.cfg.tickMs * 2);
    try {
      await n.leader.until((l) => l === to, o, late);
    } finally {
      clearInterval(again);
    }
  }

  takeSnapshot(): Promise<bigint> {
    return this.#n.takeSnapshot();
  }

  metrics(): string {
    return metricsText(this.#n);
  }

  async stop(options: StopOptions = {}): Promise<void> {
    if (options.handOver) await this.#n.handOver();
    await this.#n.stop({ type: "stopped", reason: "stop" });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/**
 * Starts a replica: opens (or creates) its data directory, writes the first
 * log of a new cluster (unless `join`), restores the state machine, serves
 * the peer port and joins its peers. Resolves once what the log already
 * committed is applied.
 *
 * @example
 * ```ts ignore
 * import { startReplica } from "@rafthttp/rafthttp/replica";
 * let total = 0n;
 * const replica = await startReplica({
 *   id: 1n,
 *   peers: { 1: "http://127.0.0.1:9001", 2: "http://127.0.0.1:9002", 3: "http://127.0.0.1:9003" },
 *   dataDir: "./data/1",
 *   stateMachine: {
 *     apply: (command) => total += BigInt(new TextDecoder().decode(command)),
 *     snapshot: () => new TextEncoder().encode(`${total}`),
 *     async restore(s) { total = BigInt(await new Response(s).text()); },
 *   },
 * });
 * console.log(await replica.propose(new TextEncoder().encode("5"))); // 5n
 * await replica.stop();
 * ```
 */
export async function startReplica<R = unknown>(options: ReplicaOptions<R>): Promise<Replica<R>> {
  const cfg = resolveReplicaOptions(options);
  await Deno.mkdir(cfg.dataDir, { recursive: true });
  const disk = await DiskStorage.open(`${cfg.dataDir}/raft`, {
    logger: cfg.logger,
    group: cfg.group,
    onSync: cfg.tracer === undefined ? undefined : syncSteps(cfg.tracer),
    fs: cfg.storageFs,
  });
  try {
    if (!cfg.join) await bootstrapIfNew(disk, [...cfg.peers.keys()]);
  } catch (e) {
    await disk.close();
    throw e;
  }
  return new ReplicaHandle(await ReplicaNode.open(cfg, disk));
}
