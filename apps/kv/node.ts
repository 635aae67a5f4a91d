/**
 * One member of the KV service: the replica layer (`startReplica`) running
 * the KV store as its state machine, and what only the KV adds: its
 * proposal codec (the log holds the codec's bytes as raw entries, keyed by
 * the codec's wait key), its request deadline, its test hooks and status,
 * the bugs it can be started with for fault tests, and the migration of
 * data directories of the KV before the replica.
 *
 * @module
 */

import { consoleLogger, type Logger, type PeerServerAddr } from "../../mod.ts";
import {
  type MembershipUpdate,
  NoLeaderError,
  OutcomeUnknownError,
  type Replica,
  type ReplicaOptions,
  startReplica,
} from "../../replica/mod.ts";
import type { StorageFs } from "../../storage/mod.ts";
import type { KvArgs, PlantedBug } from "./args.ts";
import { jsonCodec, type ProposalCodec } from "./codec.ts";
import { RequestTimeoutError } from "./errors.ts";
import { gobCodec } from "./gob.ts";
import type { KvService } from "./http_api.ts";
import { migrateDataDir } from "./migrate.ts";
import { KvStore } from "./store.ts";
import type { KvTrace } from "./trace.ts";

/** raftexample's cluster id. */
export const CLUSTER_ID = 0x1000n;

/** What a member needs: its command line, and optionally a codec and logger. */
export interface KvNodeOptions {
  /** The parsed command line (see `parseArgs`). */
  args:
    & Omit<
      KvArgs,
      | "port"
      | "host"
      | "testHooks"
      | "raftexampleCompat"
      | "trace"
      | "lazyDisk"
      | "diskFaults"
      | "plantBug"
    >
    & {
      raftexampleCompat?: boolean;
    };
  /** Proposal encoding; default {@link jsonCodec} ({@link gobCodec} with raftexampleCompat). */
  codec?: ProposalCodec;
  /** Logger of the member and its transport; default: the console from `warn`. */
  logger?: Logger;
  /** Called once when this member was removed from the cluster (it has stopped itself). */
  onRemoved?: () => void;
  /** Called once when the member hit an error it cannot go on from (it has stopped itself). */
  onFatal?: (e: Error) => void;
  /** PreVote and CheckQuorum (etcd options); default true, false with raftexampleCompat. */
  preVote?: boolean;
  /** Where each write's steps are reported (`--trace`); default none. */
  trace?: KvTrace;
  /** The raft storage's file system (a `FaultyFs` for disk faults); default the real one. */
  storageFs?: StorageFs;
  /** A bug planted on purpose, for fault tests only (see `PLANTED_BUGS`). */
  plantBug?: PlantedBug;
}

/** How long a request waits before it asks raft again after a drop for want of a leader, ms. */
const NO_LEADER_RETRY_MS = 100;
/** Room for the codec's framing beyond the largest value the API takes. */
const COMMAND_OVERHEAD = 64 << 10;

/** Waits `ms`, or less if `signal` aborts first. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    const onAbort = () => (clearTimeout(t), resolve());
    // The listener goes with the timer: a request retried every 100 ms must not pile them up.
    const t = setTimeout(() => (signal?.removeEventListener("abort", onAbort), resolve()), ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * A running member; create it with {@link KvNode.start}, end it with `stop`.
 *
 * @example
 * ```ts ignore
 * const node = await KvNode.start({ args: parseArgs(Deno.args) });
 * await node.put("/a", "1");
 * console.log(await node.get("/a", false)); // 1
 * await node.stop();
 * ```
 */
export class KvNode implements KvService {
  readonly id: bigint;
  readonly replica: Replica<void>;
  readonly #store: KvStore;
  readonly #codec: ProposalCodec;
  readonly #timeoutMs: number;
  readonly #hasIds: boolean;
  readonly #restoresAtStart: number;
  readonly #trace: KvTrace | undefined;
  readonly #bug: PlantedBug | undefined;

  private constructor(
    replica: Replica<void>,
    store: KvStore,
    codec: ProposalCodec,
    timeoutMs: number,
    trace: KvTrace | undefined,
    bug: PlantedBug | undefined,
  ) {
    this.id = replica.id;
    this.replica = replica;
    this.#store = store;
    this.#codec = codec;
    this.#timeoutMs = timeoutMs;
    this.#bug = bug;
    const probe = codec.decode(codec.encode({ key: "", value: "", id: "x" }));
    this.#hasIds = probe.id === "x"; // gob carries none: its entries are known by content
    this.#restoresAtStart = store.restores;
    this.#trace = trace;
  }

  /** Opens the data directory (migrating an old one), joins the peers and starts. */
  static async start(o: KvNodeOptions): Promise<KvNode> {
    const a = o.args;
    const log = o.logger ?? consoleLogger("warn");
    const compat = a.raftexampleCompat ?? false;
    const codec = o.codec ?? (compat ? gobCodec : jsonCodec);
    await migrateDataDir(a.dataDir, a.cluster, log);
    const store = new KvStore(codec, log);
    const replica = await startReplica(replicaOptions(o, store, codec, log));
    watchStop(replica, o);
    return new KvNode(replica, store, codec, a.requestTimeoutMs, o.trace, o.plantBug);
  }

  /** Writes `key`; resolves once the entry is committed and applied on this member. */
  put(key: string, value: string, signal?: AbortSignal): Promise<void> {
    const id = this.#hasIds ? crypto.randomUUID() : undefined;
    const command = this.#codec.encode({ key, value, id });
    const trace = this.#trace;
    if (trace !== undefined) trace.request("propose", key, this.#codec.waitKey(command));
    if (this.#bug === "ack-before-commit") { // planted: answered before it commits, if ever
      this.replica.propose(command).catch(() => {});
      return Promise.resolve();
    }
    return this.#withDeadline(
      `PUT ${key}`,
      signal,
      (s, ms) => this.replica.propose(command, { signal: s, timeoutMs: ms }),
    );
  }

  /** Reads `key`: through ReadIndex (linearizable), or from the applied state if `stale`. */
  async get(key: string, stale: boolean, signal?: AbortSignal): Promise<string | undefined> {
    if (!stale && this.#bug !== "stale-read") { // planted: no ReadIndex round
      await this.#withDeadline(
        `GET ${key}`,
        signal,
        (s, ms) => this.replica.read({ signal: s, timeoutMs: ms }),
      );
    }
    return this.#store.get(key);
  }

  /** Adds member `id` (its peer URL, as raw bytes, in the conf change's context). */
  addMember(id: bigint, url: string, signal?: AbortSignal): Promise<void> {
    return this.#withDeadline(
      `adding member ${id}`,
      signal,
      (s, ms) => this.replica.addMember(id, url, { signal: s, timeoutMs: ms }),
    );
  }

  /** Removes member `id`; resolves once applied here. */
  removeMember(id: bigint, signal?: AbortSignal): Promise<void> {
    return this.#withDeadline(
      `removing member ${id}`,
      signal,
      (s, ms) => this.replica.removeMember(id, { signal: s, timeoutMs: ms }),
    );
  }

  /**
   * Runs a request until the KV's deadline: asked again while raft drops it
   * for want of a leader (nothing was sent, so a repeat is safe); ended by
   * the client going away (`signal`). A request sent and not seen done by
   * the deadline gets {@link RequestTimeoutError} (the 503 the API
   * documents); one lost in a leader change fails at once with the
   * replica's `OutcomeUnknownError`, never repeated (a repeat could land
   * after a later write to the key).
   */
  async #withDeadline<T>(
    what: string,
    signal: AbortSignal | undefined,
    ask: (signal: AbortSignal | undefined, timeoutMs: number) => Promise<T>,
  ): Promise<T> {
    const deadline = performance.now() + this.#timeoutMs;
    for (;;) {
      const left = Math.ceil(deadline - performance.now());
      if (left <= 0) throw new RequestTimeoutError(what, this.#timeoutMs);
      try {
        return await ask(signal, left);
      } catch (e) {
        const timedOut = e instanceof OutcomeUnknownError || isTimeout(e);
        if (timedOut && performance.now() >= deadline) {
          throw new RequestTimeoutError(what, this.#timeoutMs);
        }
        if (!(e instanceof NoLeaderError) || signal?.aborted) throw e;
      }
      await sleep(NO_LEADER_RETRY_MS, signal);
    }
  }

  /**
   * Makes one membership change of several steps through joint consensus
   * (`replica.changeMembership`); resolves once applied here (test hook).
   */
  changeMembership(update: MembershipUpdate, signal?: AbortSignal): Promise<void> {
    return this.#withDeadline(
      "a joint membership change",
      signal,
      async (s, ms) =>
        void await this.replica.changeMembership(update, { signal: s, timeoutMs: ms }),
    );
  }

  /** Takes a snapshot at the index applied now; resolves once it is saved (test hook). */
  async takeSnapshot(): Promise<void> {
    await this.replica.takeSnapshot();
  }

  /** Drops all raft traffic with peer `id` (the transport's `cutPeer`; test hook). */
  cutPeer(id: bigint): void {
    this.replica.transport.cutPeer(id);
  }

  /** Undoes {@link cutPeer}. */
  mendPeer(id: bigint): void {
    this.replica.transport.mendPeer(id);
  }

  /** Asks the leader (this member, or through it) to hand leadership to `to`. */
  transferLeader(to: bigint): void {
    this.replica.transferLeadership(to).catch(() => {});
  }

  /** Raft status plus what this member applied (the test hooks' `GET /_test/status`). */
  status(): Record<string, unknown> {
    const s = this.replica.status();
    return {
      id: s.id,
      term: s.term,
      lead: s.leader,
      state: s.role,
      commit: s.commitIndex,
      applied: s.appliedIndex,
      snapshotIndex: s.snapshotIndex,
      snapshotsReceived: this.#store.restores - this.#restoresAtStart,
      firstIndex: s.firstIndex,
      lastIndex: s.lastIndex,
      keys: this.#store.size,
      voters: s.members.filter((m) => m.role === "voter").map((m) => m.id),
    };
  }

  /** The peer server's address. */
  get peerAddr(): PeerServerAddr {
    return this.replica.addr!;
  }

  /**
   * Stops: waiting requests get their 503, the transport, server and files
   * are released. With `handOver`, a leader first hands leadership to its
   * most up-to-date follower: what `main` does on Ctrl-C or SIGTERM.
   */
  stop(options: { handOver?: boolean } = {}): Promise<void> {
    return this.replica.stop(options);
  }
}

const isTimeout = (e: unknown) => e instanceof DOMException && e.name === "TimeoutError";

/**
 * The replica's options for a member (exported for its tests).
 *
 * @example
 * ```ts ignore
 * const options = replicaOptions({ args, plantBug: "ack-before-fsync" }, store, jsonCodec, log);
 * console.log(options.plantedBugs); // { ackBeforeFsync: true }
 * ```
 */
export function replicaOptions(
  o: KvNodeOptions,
  store: KvStore,
  codec: ProposalCodec,
  logger: Logger,
): ReplicaOptions<void> {
  const a = o.args;
  const compat = a.raftexampleCompat ?? false;
  return {
    id: a.id,
    peers: Object.fromEntries(a.cluster.map((u, i) => [`${i + 1}`, u])),
    dataDir: a.dataDir,
    stateMachine: store,
    clusterId: CLUSTER_ID,
    join: a.join,
    snapshotEvery: a.snapshotCount,
    snapshotCatchUpEntries: a.catchUpEntries,
    rawEntries: { match: (command) => codec.waitKey(command) },
    inlineSnapshots: compat, // raftexample takes a snapshot only inside its MsgSnap
    maxCommandBytes: (1 << 20) + COMMAND_OVERHEAD,
    requestTimeoutMs: a.requestTimeoutMs,
    tickMs: a.tickMs,
    preVote: o.preVote ?? !compat,
    logger,
    tracer: o.trace?.replica,
    storageFs: o.storageFs,
    plantedBugs: o.plantBug === "ack-before-fsync" ? { ackBeforeFsync: true } : undefined,
  };
}

/** Reports the replica's own stop: removed from the cluster, or halted on an error. */
async function watchStop(replica: Replica<void>, o: KvNodeOptions): Promise<void> {
  for await (const e of replica.events()) {
    if (e.type !== "stopped") continue;
    if (e.reason === "removed") o.onRemoved?.();
    else if (e.reason === "error") o.onFatal?.(e.error ?? new Error("the replica stopped"));
  }
}
