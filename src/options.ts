/**
 * The transport's options, their defaults, and the resolved configuration
 * every part of the transport reads.
 *
 * @module
 */

import type { Raft } from "./raft.ts";
import type { SnapshotSink } from "./snapshot/message.ts";
import type { Logger } from "./logger.ts";
import { consoleLogger, guardLogger } from "./logger.ts";
import {
  DEFAULT_MIN_CLUSTER_VERSION,
  DEFAULT_SERVER_VERSION,
  parseMajorMinor,
} from "./http/version.ts";
import { normalizeUrls } from "./http/peer_urls.ts";
import { FileSnapshotSink } from "./snapshot/file_sink.ts";
import { RequestAuth, type RequestAuthOptions } from "./http/auth.ts";

/**
 * How a {@link Transport} is set up. Only `id`, `clusterId`, `urls` and
 * `raft` are required; every timeout and bound has a default (listed in the
 * README's "Failure behaviour" section).
 *
 * @example
 * ```ts
 * import type { TransportOptions } from "@rafthttp/rafthttp";
 * const options: TransportOptions = {
 *   id: 1n,
 *   clusterId: 0x1000n,
 *   urls: ["http://127.0.0.1:2380"],
 *   raft: { process() {}, isIDRemoved: () => false, reportUnreachable() {}, reportSnapshot() {} },
 *   linkHeartbeatIntervalMs: 1000,
 * };
 * console.log(options.id); // 1n
 * ```
 */
export interface TransportOptions {
  /** This member's id. */
  id: bigint;
  /** The cluster id; peers with another one are refused (412). */
  clusterId: bigint;
  /** This member's advertised peer URLs, sent as `X-PeerURLs`. */
  urls: string[];
  /** The raft node messages are delivered to. */
  raft: Raft;
  /** Where received snapshot data goes. Default: files in `snapshotDir`. */
  snapshotSink?: SnapshotSink;
  /** Directory of the default file sink (`%016x.snap.db`, as etcd). Default `./snap`. */
  snapshotDir?: string;
  /** Announced `X-Server-Version`. Default `3.4.23`. */
  serverVersion?: string;
  /** Announced `X-Min-Cluster-Version`. Default `3.0.0`. */
  minClusterVersion?: string;
  /** Logger; default: the console, from `warn` up. */
  logger?: Logger;
  /** The fetch used for every request to peers (inject one for TLS clients, tests, other runtimes). */
  fetch?: typeof fetch;
  /**
   * Called with errors that need the application: `MemberRemovedError`
   * (this member was removed: stop it, as etcd does), and cluster id or
   * version mismatches (configuration errors). etcd's `ErrorC`.
   */
  onError?: (error: Error) => void;
  /**
   * Sign every request with a secret all members share, and refuse unsigned
   * or stale requests with 401 (see the README's "Security" section). Off by
   * default: etcd does not sign.
   */
  auth?: RequestAuthOptions;

  /** Time allowed to connect and get response headers, ms. Default 2000 (etcd's default peer dial timeout). */
  dialTimeoutMs?: number;
  /** Period of link heartbeats on idle and busy streams, ms. Default 1667 (etcd: 5 s / 3). */
  linkHeartbeatIntervalMs?: number;
  /** A stream that delivers nothing for this long is dead, ms. Default two heartbeat periods. */
  streamReadTimeoutMs?: number;
  /** A stream whose reader takes nothing for this long while data waits is dead, ms. Default 5000. */
  streamWriteTimeoutMs?: number;
  /** First delay between failing stream dials, ms (the first redial after a working stream is immediate). Default 100. */
  redialMinMs?: number;
  /** Cap of the redial backoff, ms. Default 500. */
  redialMaxMs?: number;
  /** Period of `/raft/probing` round-trip measurements per peer, ms; 0 disables. Default 4000. */
  probeIntervalMs?: number;
  /** A snapshot transfer that moves no bytes for this long fails, ms. Default 30000. */
  snapshotProgressTimeoutMs?: number;
  /** Time allowed for the response after a snapshot body is sent (the receiver saves it first), ms. Default 60000. */
  snapshotResponseTimeoutMs?: number;
  /** Time allowed for a pipeline POST, ms (the receiver answers after `process`). Default 30000. */
  pipelineTimeoutMs?: number;

  /** Largest stream frame accepted, bytes. Default 64 MiB (etcd: 512 MiB). */
  maxFrameSize?: number;
  /** Largest `POST /raft` body accepted, bytes. Default 64 MiB (etcd: none). */
  maxPipelineBodySize?: number;
  /** Largest MsgSnap at the head of a snapshot body, bytes. Default 64 MiB (as etcd 3.6.14). */
  maxSnapshotEnvelopeSize?: number;
  /**
   * Bytes of a snapshot being received that may wait for the sink, per
   * snapshot: the body is read as fast as it arrives (Deno.serve slows down
   * when it has to buffer it), and reading pauses above this. Default 32 MiB.
   */
  snapshotSpoolSize?: number;
  /** Snapshots received at once; more get 503. Default 4. */
  maxConcurrentSnapshotReceives?: number;
  /** Remotes (pipeline-only members learned from requests) kept at most. Default 128. */
  maxRemotes?: number;
  /** Messages queued per stream writer. Default 4096, as etcd. */
  streamQueueSize?: number;
  /** Messages queued per pipeline. Default 64, as etcd. */
  pipelineQueueSize?: number;
  /** Concurrent POSTs per pipeline. Default 4, as etcd. */
  pipelineWorkers?: number;
  /** Messages received and waiting for `process`, per peer and per queue. Default 4096, as etcd. */
  receiveQueueSize?: number;
  /** Bytes packed into one stream write when messages are queued. Default 256 KiB. */
  streamChunkSize?: number;
  /** Interval of the rate limit on repeated warnings, ms. Default 5000. */
  logIntervalMs?: number;
}

/** Options with every default filled in. */
export type Config =
  & Required<Omit<TransportOptions, "snapshotSink" | "snapshotDir" | "onError" | "auth">>
  & { snapshotSink: SnapshotSink; onError: (error: Error) => void; auth?: RequestAuth };

function positive(name: string, v: number): number {
  if (!Number.isFinite(v) || v < 0) {
    throw new RangeError(`${name} must be a non-negative number, got ${v}`);
  }
  return v;
}

/** Validates options and fills in defaults. */
export function resolveOptions(o: TransportOptions): Config {
  if (typeof o.id !== "bigint" || o.id <= 0n) throw new TypeError("id must be a positive bigint");
  if (typeof o.clusterId !== "bigint") throw new TypeError("clusterId must be a bigint");
  const serverVersion = o.serverVersion ?? DEFAULT_SERVER_VERSION;
  const minClusterVersion = o.minClusterVersion ?? DEFAULT_MIN_CLUSTER_VERSION;
  for (
    const [n, v] of [["serverVersion", serverVersion], ["minClusterVersion", minClusterVersion]]
  ) {
    if (parseMajorMinor(v) === undefined) {
      throw new TypeError(
        `${n} must be a semver x.y.z, got ${v}`,
      );
    }
  }
  const heartbeat = positive("linkHeartbeatIntervalMs", o.linkHeartbeatIntervalMs ?? 1667);
  const logger = guardLogger(o.logger ?? consoleLogger("warn"));
  const c: Config = {
    id: o.id,
    clusterId: o.clusterId,
    urls: o.urls.length === 0 ? [] : normalizeUrls(o.urls),
    raft: o.raft,
    snapshotSink: o.snapshotSink ?? new FileSnapshotSink(o.snapshotDir ?? "snap"),
    serverVersion,
    minClusterVersion,
    logger,
    fetch: o.fetch ?? ((input, init) => fetch(input, init)),
    onError: o.onError ?? ((e) => logger.error(e.message, { error: e.name })),
    auth: o.auth === undefined ? undefined : new RequestAuth(o.auth),
    dialTimeoutMs: positive("dialTimeoutMs", o.dialTimeoutMs ?? 2000),
    linkHeartbeatIntervalMs: heartbeat,
    streamReadTimeoutMs: positive("streamReadTimeoutMs", o.streamReadTimeoutMs ?? 2 * heartbeat),
    streamWriteTimeoutMs: positive("streamWriteTimeoutMs", o.streamWriteTimeoutMs ?? 5000),
    redialMinMs: positive("redialMinMs", o.redialMinMs ?? 100),
    redialMaxMs: positive("redialMaxMs", o.redialMaxMs ?? 500),
    probeIntervalMs: positive("probeIntervalMs", o.probeIntervalMs ?? 4000),
    snapshotProgressTimeoutMs: positive(
      "snapshotProgressTimeoutMs",
      o.snapshotProgressTimeoutMs ?? 30000,
    ),
    snapshotResponseTimeoutMs: positive(
      "snapshotResponseTimeoutMs",
      o.snapshotResponseTimeoutMs ?? 60000,
    ),
    pipelineTimeoutMs: positive("pipelineTimeoutMs", o.pipelineTimeoutMs ?? 30000),
    maxFrameSize: positive("maxFrameSize", o.maxFrameSize ?? 64 * 1024 * 1024),
    maxPipelineBodySize: positive("maxPipelineBodySize", o.maxPipelineBodySize ?? 64 * 1024 * 1024),
    maxSnapshotEnvelopeSize: positive(
      "maxSnapshotEnvelopeSize",
      o.maxSnapshotEnvelopeSize ?? 64 * 1024 * 1024,
    ),
    snapshotSpoolSize: positive("snapshotSpoolSize", o.snapshotSpoolSize ?? 32 * 1024 * 1024),
    maxConcurrentSnapshotReceives: positive(
      "maxConcurrentSnapshotReceives",
      o.maxConcurrentSnapshotReceives ?? 4,
    ),
    maxRemotes: positive("maxRemotes", o.maxRemotes ?? 128),
    streamQueueSize: positive("streamQueueSize", o.streamQueueSize ?? 4096),
    pipelineQueueSize: positive("pipelineQueueSize", o.pipelineQueueSize ?? 64),
    pipelineWorkers: positive("pipelineWorkers", o.pipelineWorkers ?? 4),
    receiveQueueSize: positive("receiveQueueSize", o.receiveQueueSize ?? 4096),
    streamChunkSize: positive("streamChunkSize", o.streamChunkSize ?? 256 * 1024),
    logIntervalMs: positive("logIntervalMs", o.logIntervalMs ?? 5000),
  };
  return c;
}
