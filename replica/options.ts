/**
 * What `startReplica` takes: the member, its peers, its data directory, the
 * state machine, and the optional settings, with their defaults.
 *
 * @module
 */

import type { Logger, ServeOptions, SnapshotOptions, TransportOptions } from "../mod.ts";
import { consoleLogger } from "../mod.ts";
import { checkGroup, DEFAULT_GROUP, type StorageFs } from "../storage/mod.ts";
import { type IdLike, toId } from "./ids.ts";
import type { SnapshotSource } from "./snapshot_files.ts";
import type { Tracer } from "./trace.ts";

/**
 * The application's replicated state: every replica applies the same
 * commands in the same order.
 *
 * @example
 * ```ts
 * import type { StateMachine } from "@rafthttp/rafthttp/replica";
 * let total = 0;
 * const counter: StateMachine<number> = {
 *   apply: (command) => total += command[0],
 *   snapshot: () => new TextEncoder().encode(`${total}`),
 *   async restore(s) {
 *     total = Number(await new Response(s).text());
 *   },
 * };
 * console.log(counter.apply(new Uint8Array([5]), 1n)); // 5
 * ```
 */
export interface StateMachine<R = unknown> {
  /**
   * Applies the committed `command` at log `index`; what it returns answers
   * the `propose` that made it, on the replica that made it. A throw stops
   * the replica (a `StateMachineError` naming the index): every replica must
   * apply every entry, so none is ever skipped.
   */
  apply(command: Uint8Array, index: bigint): R | Promise<R>;
  /**
   * The state as of the last applied entry, for a snapshot. A stream may be
   * read while later entries are applied, so it must hold that state (a
   * copy, or a copy-on-write view).
   */
  snapshot(): SnapshotSource | Promise<SnapshotSource>;
  /** Replaces the whole state with a snapshot's (a restart, or one sent by the leader). */
  restore(snapshot: ReadableStream<Uint8Array>): void | Promise<void>;
  /**
   * For a state machine that persists itself: opens it and says the index of
   * the last entry it applied; entries after it are applied again (and a
   * snapshot only restored if it is newer). Without it, the state is
   * restored from the newest snapshot and the log after it is replayed.
   */
  open?(): bigint | Promise<bigint>;
}

/**
 * Raw entries: the log holds the commands exactly as proposed (no
 * envelope), to share a log format with other programs (raftexample). The
 * proposer recognizes its own entry by `match`: the key of a command, equal
 * for the command it proposed and the entry that carries it. Commands with
 * equal keys in flight at once are told apart only by their order.
 *
 * @example
 * ```ts
 * import type { RawEntries } from "@rafthttp/rafthttp/replica";
 * const raw: RawEntries = { match: (command) => new TextDecoder().decode(command) };
 * console.log(raw.match(new TextEncoder().encode("k=v"))); // k=v
 * ```
 */
export interface RawEntries {
  /** The key of a command (undefined: not one this replica proposes). */
  match(command: Uint8Array): string | undefined;
}

/**
 * The transport's options that a replica passes through unchanged (TLS
 * toward peers, request signing, timeouts, limits, the snapshot extension);
 * the replica sets the rest itself.
 *
 * @example
 * ```ts
 * import type { ReplicaTransportOptions } from "@rafthttp/rafthttp/replica";
 * const t: ReplicaTransportOptions = {
 *   stream: { dialTimeoutMs: 1000 },
 *   security: { auth: { secret: "a secret every member shares" } },
 * };
 * console.log(t.stream?.dialTimeoutMs); // 1000
 * ```
 */
export type ReplicaTransportOptions =
  & Omit<
    Partial<TransportOptions>,
    "id" | "clusterId" | "urls" | "raft" | "snapshot" | "members" | "onError"
  >
  & {
    /** The snapshot group but its sink and directory: the replica keeps snapshots in `dataDir`. */
    snapshot?: Omit<SnapshotOptions, "sink" | "dir">;
  };

/**
 * How the replica serves its peer port: `serve()`'s options (the node
 * engine by default, TLS, client certificates); `hostname` and `port` come
 * from this member's first peer URL unless given.
 *
 * @example
 * ```ts
 * import type { ReplicaServeOptions } from "@rafthttp/rafthttp/replica";
 * const s: ReplicaServeOptions = { hostname: "0.0.0.0", engine: "deno" };
 * console.log(s.engine); // deno
 * ```
 */
export type ReplicaServeOptions = Omit<ServeOptions, "port" | "hostname" | "metrics"> & {
  /** Address to listen on; default the host of this member's first peer URL. */
  hostname?: string;
  /** Port; default the port of this member's first peer URL. */
  port?: number;
};

/**
 * Options of `startReplica`.
 *
 * @example
 * ```ts
 * import type { ReplicaOptions } from "@rafthttp/rafthttp/replica";
 * const options: Omit<ReplicaOptions, "stateMachine"> = {
 *   id: 1n,
 *   peers: { 1: "http://127.0.0.1:9001", 2: "http://127.0.0.1:9002", 3: "http://127.0.0.1:9003" },
 *   dataDir: "./data/1",
 *   snapshotEvery: 10_000,
 * };
 * console.log(Object.keys(options.peers).length); // 3
 * ```
 */
export interface ReplicaOptions<R = unknown> {
  /** This member's id. */
  id: IdLike;
  /**
   * Every member at bootstrap, this one included: decimal id to peer URL (or
   * URLs). With `join`, the cluster as it is with this member added.
   */
  peers: Record<string, string | string[]> | ReadonlyMap<IdLike, string | string[]>;
  /** Where the WAL, the raft snapshots and the snapshot data live; a restart resumes from it. */
  dataDir: string;
  /**
   * The raft group this replica stores, passed to its storage (default 1n,
   * the storage format from before groups; 1n to 2^64 - 1). Today a
   * replica runs one group in its own `dataDir`, which then holds that
   * group only (another is refused with `GroupMismatchError`). It is the
   * hook for many groups per host sharing one WAL: each group's WAL
   * records and snapshot files are already told apart by it.
   */
  group?: bigint;
  /** What the replicas replicate. */
  stateMachine: StateMachine<R>;
  /** The cluster id; peers with another are refused. Default 0x1000 (raftexample's). */
  clusterId?: IdLike;
  /**
   * This member was added to a running cluster (`addMember`/`addLearner`):
   * it starts with an empty log and waits for the leader. Default false.
   */
  join?: boolean;
  /** The transport's options, passed through. */
  transport?: ReplicaTransportOptions;
  /**
   * Serve the peer port (default: `serve()` on this member's URL), or
   * `false`: listen nowhere, and serve `replica.handler` yourself.
   */
  serve?: ReplicaServeOptions | false;
  /** Entries applied between automatic snapshots. Default 10000. */
  snapshotEvery?: number;
  /** Entries kept behind a snapshot for followers a little behind. Default `snapshotEvery`. */
  snapshotCatchUpEntries?: number;
  /** Keep the commands in the log as they are (no envelope); see {@link RawEntries}. */
  rawEntries?: RawEntries;
  /**
   * Snapshots inside the MsgSnap, as etcd's raftexample sends and takes
   * them: a follower is sent the state machine's snapshot data as the
   * message's `data` (through the pipeline, held in memory whole), and a
   * MsgSnap that comes with data is taken as the state machine's snapshot
   * (the URL table does not travel then). Default false: the data is
   * streamed from its file behind the MsgSnap (`POST /raft/snapshot`).
   */
  inlineSnapshots?: boolean;
  /** Largest command `propose` takes, bytes. Default 1 MiB. */
  maxCommandBytes?: number;
  /** Time limit of a request that gives none, ms. Default 10000. */
  requestTimeoutMs?: number;
  /** Raft's clock: one tick, ms. Default 100. */
  tickMs?: number;
  /** Ticks without a leader before an election (randomized up to twice). Default 10. */
  electionTicks?: number;
  /** Ticks between a leader's heartbeats. Default 1. */
  heartbeatTicks?: number;
  /** PreVote and CheckQuorum (etcd's options). Default true. */
  preVote?: boolean;
  /**
   * How `read` is confirmed. "read-index" (default): the leader proves it
   * still leads with a heartbeat round that a quorum answers. "lease": the
   * leader answers from its commit index without that round, trusting its
   * lease (CheckQuorum; needs `preVote`, which turns it on). The lease
   * assumes every member's clock runs at about the same rate: a leader
   * whose ticks run slow may serve a stale read after the others elected
   * another leader. Off by default for that reason.
   */
  reads?: "read-index" | "lease";
  /** Logger of the replica and its transport. Default: the console, warnings and up. */
  logger?: Logger;
  /** Serve `GET /metrics` on the peer port: the transport's metrics and the replica's. Default false. */
  metrics?: boolean;
  /**
   * Gets each step of the write path as it happens (see {@link Tracer}),
   * for measuring where a write's time goes. Default none (each step then
   * costs one comparison).
   */
  tracer?: Tracer;
  /**
   * The file system of the raft storage (the WAL and the raft snapshot
   * files under `dataDir/raft`). Default: the real one. Fault tests pass a
   * `FaultyFs` (lost unsynced writes, failed fsyncs, torn writes). The state
   * machine's snapshot data files are written directly.
   */
  storageFs?: StorageFs;
  /**
   * For fault tests only, never in production: bugs planted on purpose, to
   * show that a fault campaign catches them. `ackBeforeFsync`: a
   * non-leader sends its Ready's messages (its append acknowledgements)
   * before the fsync of the entries they vouch for, breaking the
   * durability rule (votes still wait). Default: none.
   */
  plantedBugs?: { ackBeforeFsync?: boolean };
}

/**
 * The options resolved: ids parsed, defaults filled in (see
 * {@link ReplicaOptions} for each).
 *
 * @example
 * ```ts
 * import { type ReplicaConfig, resolveReplicaOptions } from "./options.ts";
 * const c: ReplicaConfig = resolveReplicaOptions({
 *   id: 2, peers: { 2: "http://127.0.0.1:9002" }, dataDir: "d",
 *   stateMachine: { apply() {}, snapshot: () => new Uint8Array(), restore() {} },
 * });
 * console.log(c.peers.get(2n)); // [ "http://127.0.0.1:9002" ]
 * ```
 */
export interface ReplicaConfig<R = unknown> {
  id: bigint;
  peers: Map<bigint, string[]>;
  urls: string[];
  dataDir: string;
  group: bigint;
  stateMachine: StateMachine<R>;
  clusterId: bigint;
  join: boolean;
  transport: ReplicaTransportOptions;
  serve: ReplicaServeOptions | false;
  snapshotEvery: number;
  snapshotCatchUpEntries: number;
  rawEntries: RawEntries | undefined;
  inlineSnapshots: boolean;
  maxCommandBytes: number;
  requestTimeoutMs: number;
  tickMs: number;
  electionTicks: number;
  heartbeatTicks: number;
  preVote: boolean;
  reads: "read-index" | "lease";
  logger: Logger;
  metrics: boolean;
  tracer: Tracer | undefined;
  storageFs: StorageFs | undefined;
  /** Planted bug (fault tests only): a follower acknowledges before its fsync. */
  ackBeforeFsync: boolean;
}

function count(value: number | undefined, fallback: number, name: string, min = 1): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < min) {
    throw new RangeError(`${name} must be an integer of at least ${min}, got ${value}`);
  }
  return v;
}

function parsePeers(peers: ReplicaOptions["peers"]): Map<bigint, string[]> {
  const entries = peers instanceof Map ? [...peers] : Object.entries(peers);
  const out = new Map<bigint, string[]>();
  for (const [key, value] of entries) {
    const urls = typeof value === "string" ? [value] : [...value];
    if (urls.length === 0) throw new RangeError(`peers: member ${key} has no URL`);
    out.set(toId(key as IdLike, `peers key ${String(key)}`), urls);
  }
  return out;
}

/**
 * Checks the options and fills in the defaults; errors name the option.
 *
 * @example
 * ```ts
 * import { resolveReplicaOptions } from "./options.ts";
 * const c = resolveReplicaOptions({
 *   id: "1", peers: { 1: "http://127.0.0.1:9001" }, dataDir: "d",
 *   stateMachine: { apply() {}, snapshot: () => new Uint8Array(), restore() {} },
 * });
 * console.log(c.id, c.group, c.snapshotEvery, c.urls); // 1n 1n 10000 [ "http://127.0.0.1:9001" ]
 * ```
 */
export function resolveReplicaOptions<R>(o: ReplicaOptions<R>): ReplicaConfig<R> {
  const id = toId(o.id, "id");
  const peers = parsePeers(o.peers);
  const urls = peers.get(id);
  if (urls === undefined) throw new RangeError(`peers must list this member (${id}) too`);
  if (typeof o.dataDir !== "string" || o.dataDir === "") throw new TypeError("dataDir is required");
  const snapshotEvery = count(o.snapshotEvery, 10_000, "snapshotEvery");
  return {
    id,
    peers,
    urls,
    dataDir: o.dataDir,
    group: o.group === undefined ? DEFAULT_GROUP : checkGroup(o.group, "group"),
    stateMachine: o.stateMachine,
    clusterId: o.clusterId === undefined ? 0x1000n : toId(o.clusterId, "clusterId"),
    join: o.join ?? false,
    transport: o.transport ?? {},
    serve: o.serve ?? {},
    snapshotEvery,
    snapshotCatchUpEntries: count(
      o.snapshotCatchUpEntries,
      snapshotEvery,
      "snapshotCatchUpEntries",
      0,
    ),
    rawEntries: o.rawEntries,
    inlineSnapshots: o.inlineSnapshots ?? false,
    maxCommandBytes: count(o.maxCommandBytes, 1 << 20, "maxCommandBytes"),
    requestTimeoutMs: count(o.requestTimeoutMs, 10_000, "requestTimeoutMs"),
    tickMs: count(o.tickMs, 100, "tickMs"),
    electionTicks: count(o.electionTicks, 10, "electionTicks"),
    heartbeatTicks: count(o.heartbeatTicks, 1, "heartbeatTicks"),
    preVote: o.preVote ?? true,
    reads: readMode(o.reads, o.preVote ?? true),
    logger: o.logger ?? consoleLogger("warn"),
    metrics: o.metrics ?? false,
    tracer: o.tracer,
    storageFs: o.storageFs,
    ackBeforeFsync: o.plantedBugs?.ackBeforeFsync ?? false,
  };
}

/** `reads`, checked: a lease needs CheckQuorum, which `preVote` turns on. */
function readMode(reads: string | undefined, preVote: boolean): "read-index" | "lease" {
  if (reads === undefined || reads === "read-index") return "read-index";
  if (reads !== "lease") throw new TypeError(`reads must be "read-index" or "lease", got ${reads}`);
  if (!preVote) {
    throw new TypeError('reads: "lease" needs preVote (its CheckQuorum is what keeps the lease)');
  }
  return "lease";
}
