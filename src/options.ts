/**
 * The transport's options, grouped by what they govern (`stream`,
 * `pipeline`, `snapshot`, `security`, `limits`; each group's type, defaults
 * and checks live in `src/options/`), and the resolved configuration every
 * part of the transport reads: one flat {@link Config}, of which each part
 * declares the fields it reads (`Pick<Config, ...>`).
 *
 * @module
 */

import type { Raft } from "./raft_node.ts";
import type { Logger } from "./logger.ts";
import { consoleLogger, F, guardLogger, withFields } from "./logger.ts";
import { formatId } from "./http/headers.ts";
import {
  DEFAULT_CLUSTER_VERSION,
  DEFAULT_MIN_CLUSTER_VERSION,
  DEFAULT_SERVER_VERSION,
  parseMajorMinor,
} from "./http/version.ts";
import { normalizeUrls } from "./http/peer_urls.ts";
import type { TransportExtension } from "./extension/extension.ts";
import type { RequestAuth } from "./http/auth.ts";
import type { MeterProviderLike } from "./metrics/otel.ts";
import type { MemberInfo } from "./http/member_info.ts";
import type { Dialer } from "./http/dialer.ts";
import { duration } from "./options/check.ts";
import { resolveStream, type StreamConfig, type StreamOptions } from "./options/stream.ts";
import { type PipelineConfig, type PipelineOptions, resolvePipeline } from "./options/pipeline.ts";
import { resolveSnapshot, type SnapshotConfig, type SnapshotOptions } from "./options/snapshot.ts";
import { resolveSecurity, type SecurityOptions } from "./options/security.ts";
import { type LimitsConfig, type LimitsOptions, resolveLimits } from "./options/limits.ts";
import { type DialerConfig, resolveDialer } from "./options/dialer.ts";
import { movedOption } from "./options/moved.ts";

export {
  DEFAULT_DIAL_TIMEOUT_MS,
  DEFAULT_LINK_HEARTBEAT_INTERVAL_MS,
  DEFAULT_REDIAL_MAX_MS,
  DEFAULT_REDIAL_MIN_MS,
  DEFAULT_STREAM_CHUNK_SIZE,
  DEFAULT_STREAM_QUEUE_SIZE,
  DEFAULT_STREAM_READ_TIMEOUT_HEARTBEATS,
  DEFAULT_STREAM_WRITE_TIMEOUT_MS,
  type StreamOptions,
} from "./options/stream.ts";
export {
  DEFAULT_MAX_PIPELINE_BODY_SIZE,
  DEFAULT_PIPELINE_QUEUE_SIZE,
  DEFAULT_PIPELINE_TIMEOUT_MS,
  DEFAULT_PIPELINE_WORKERS,
  type PipelineOptions,
} from "./options/pipeline.ts";
export {
  DEFAULT_MAX_CONCURRENT_SNAPSHOT_RECEIVES,
  DEFAULT_MAX_SNAPSHOT_ENVELOPE_SIZE,
  DEFAULT_SNAPSHOT_PROGRESS_TIMEOUT_MS,
  DEFAULT_SNAPSHOT_RESPONSE_TIMEOUT_MS,
  DEFAULT_SNAPSHOT_SPOOL_SIZE,
  type SnapshotOptions,
} from "./options/snapshot.ts";
export type { SecurityOptions } from "./options/security.ts";
export {
  DEFAULT_MAX_REMOTES,
  DEFAULT_RECEIVE_QUEUE_SIZE,
  DEFAULT_TRANSPORT_MAX_FRAME_SIZE,
  type LimitsOptions,
} from "./options/limits.ts";

/**
 * How a {@link Transport} is set up. Only `id`, `clusterId`, `urls` and
 * `raft` are required; every timeout and bound has a default (listed in the
 * "Failure behaviour" section of docs/operations.md). Who this member is, how it talks
 * to the application and how it reaches peers sit at the top; the rest is
 * grouped by what it governs: `stream`, `pipeline`, `snapshot`, `security`,
 * `limits`.
 *
 * @example
 * ```ts
 * import type { TransportOptions } from "@rafthttp/rafthttp";
 * const options: TransportOptions = {
 *   id: 1n,
 *   clusterId: 0x1000n,
 *   urls: ["http://127.0.0.1:2380"],
 *   raft: { process() {}, isIDRemoved: () => false, reportUnreachable() {}, reportSnapshot() {} },
 *   stream: { linkHeartbeatIntervalMs: 1000, dialTimeoutMs: 500 },
 *   pipeline: { workers: 8 },
 *   snapshot: { dir: "/var/lib/member/snap" },
 *   limits: { maxRemotes: 16 },
 * };
 * console.log(options.stream?.linkHeartbeatIntervalMs); // 1000
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
  /** Announced `X-Server-Version`. Default `3.4.23`. */
  serverVersion?: string;
  /** Announced `X-Min-Cluster-Version`. Default `3.0.0`. */
  minClusterVersion?: string;
  /**
   * The cluster version `GET /version` answers as `etcdcluster` (the server
   * version there is `serverVersion`). Default `3.4.0`: with the default
   * `serverVersion`, etcd 3.4 leaders then settle the cluster at 3.4.0.
   */
  clusterVersion?: string;
  /**
   * The member list `GET /members` answers (what a joining etcd member
   * reads). Default: this member and the transport's peers, with their peer
   * URLs and no names or client URLs.
   */
  members?: () => readonly MemberInfo[];
  /**
   * Called with errors that need the application: `MemberRemovedError`
   * (this member was removed: stop it, as etcd does), and cluster id or
   * version mismatches (configuration errors). etcd's `ErrorC`.
   */
  onError?: (error: Error) => void;
  /** Logger; default: the console, from `warn` up. */
  logger?: Logger;
  /** Interval of the rate limit on repeated warnings, ms; 0 turns it off. Default 5000. */
  logIntervalMs?: number;
  /**
   * Where the OpenTelemetry instruments (the same as `transport.metrics()`)
   * are created. Default: the global provider of `@opentelemetry/api`
   * (Deno's built-in exporter under `OTEL_DENO=true`; a no-op when none is
   * registered).
   */
  meterProvider?: MeterProviderLike;
  /** Period of `/raft/probing` round-trip measurements per peer, ms; 0 disables. Default 4000. */
  probeIntervalMs?: number;
  /**
   * The fetch used for every request to peers (inject one for tests, unix
   * sockets, other runtimes); wrapped in {@link fetchDialer}. Default: see
   * `dialer`.
   */
  fetch?: typeof fetch;
  /**
   * What sends every request to peers. Default: on Deno and Node.js, a
   * {@link nodeDialer} (with `security.tls`), which the transport closes on
   * `stop()`; elsewhere (Bun, workerd) the global fetch. A dialer passed
   * here is not closed by the transport. Not together with `fetch` or
   * `security.tls`.
   */
  dialer?: Dialer;
  /** The long-lived streams: dialling, heartbeats, timeouts, queue, chunks. */
  stream?: StreamOptions;
  /** `POST /raft`, one request per message: workers, queue, timeout, body bound. */
  pipeline?: PipelineOptions;
  /** Snapshots: where received ones go, the spool, concurrency, deadlines. */
  snapshot?: SnapshotOptions;
  /** TLS toward `https://` peers, request signing. */
  security?: SecurityOptions;
  /** Bounds on what peers may make this member hold. */
  limits?: LimitsOptions;
  /**
   * Protocol extensions spoken with members of this library that speak
   * them too; etcd peers keep seeing etcd's protocol. Default
   * `defaultExtensions()`; a list given here replaces it (`[]`: etcd's
   * protocol only; `[...defaultExtensions(), mine]` adds one).
   */
  extensions?: TransportExtension[];
}

/**
 * Options with every default filled in, flat: each part of the transport
 * declares the fields it reads (`Pick<Config, ...>`). Group fields keep
 * their group in the name (`stream.queueSize` is `streamQueueSize`).
 *
 * @example
 * ```ts
 * import type { Config } from "./options.ts";
 * type WriterConfig = Pick<Config, "streamQueueSize" | "streamWriteTimeoutMs">;
 * const cfg: WriterConfig = { streamQueueSize: 4096, streamWriteTimeoutMs: 5000 };
 * console.log(cfg.streamQueueSize); // 4096
 * ```
 */
export type Config =
  & {
    id: bigint;
    clusterId: bigint;
    urls: string[];
    raft: Raft;
    serverVersion: string;
    minClusterVersion: string;
    clusterVersion: string;
    members?: () => readonly MemberInfo[];
    onError: (error: Error) => void;
    logger: Logger;
    logIntervalMs: number;
    probeIntervalMs: number;
    /** `security.auth`, ready to sign and check. */
    auth?: RequestAuth;
  }
  & DialerConfig
  & StreamConfig
  & PipelineConfig
  & SnapshotConfig
  & LimitsConfig;

/**
 * Default of {@link TransportOptions.probeIntervalMs} (etcd's).
 *
 * @example
 * ```ts
 * import { DEFAULT_PROBE_INTERVAL_MS } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_PROBE_INTERVAL_MS); // 4000
 * ```
 */
export const DEFAULT_PROBE_INTERVAL_MS = 4000;
/**
 * Default of {@link TransportOptions.logIntervalMs}.
 *
 * @example
 * ```ts
 * import { DEFAULT_LOG_INTERVAL_MS } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_LOG_INTERVAL_MS); // 5000
 * ```
 */
export const DEFAULT_LOG_INTERVAL_MS = 5000;

/** Checks the identity options, throwing TypeError for a wrong type or a malformed version. */
function identity(
  o: TransportOptions,
): { serverVersion: string; minClusterVersion: string; clusterVersion: string } {
  if (typeof o.id !== "bigint" || o.id <= 0n) throw new TypeError("id must be a positive bigint");
  if (typeof o.clusterId !== "bigint") throw new TypeError("clusterId must be a bigint");
  const serverVersion = o.serverVersion ?? DEFAULT_SERVER_VERSION;
  const minClusterVersion = o.minClusterVersion ?? DEFAULT_MIN_CLUSTER_VERSION;
  const clusterVersion = o.clusterVersion ?? DEFAULT_CLUSTER_VERSION;
  const versions = [
    ["serverVersion", serverVersion],
    ["minClusterVersion", minClusterVersion],
    ["clusterVersion", clusterVersion],
  ];
  for (const [n, v] of versions) {
    if (parseMajorMinor(v) === undefined) {
      throw new TypeError(`${n} must be a semver x.y.z, got ${v}`);
    }
  }
  if (o.members !== undefined && typeof o.members !== "function") {
    throw new TypeError("members must be a function returning the member list");
  }
  return { serverVersion, minClusterVersion, clusterVersion };
}

/**
 * Validates options and fills in defaults. Throws TypeError for a value of
 * the wrong kind (ids, versions, URLs, a group that is not an object, an
 * option of 0.1 that moved into a group) and RangeError, naming the option's
 * path (`stream.chunkSize`), its value and the allowed range, for a number
 * out of range.
 *
 * @example
 * ```ts
 * import { resolveOptions } from "./options.ts";
 * const cfg = resolveOptions({
 *   id: 1n,
 *   clusterId: 1n,
 *   urls: [],
 *   raft: { process() {}, isIDRemoved: () => false, reportUnreachable() {}, reportSnapshot() {} },
 *   fetch,
 *   stream: { queueSize: 64 },
 *   snapshot: { sink: { async save() {} } },
 * });
 * console.log(cfg.streamQueueSize, cfg.pipelineWorkers); // 64 4
 * ```
 */
export function resolveOptions(o: TransportOptions): Config {
  const moved = movedOption(o);
  if (moved !== undefined) throw new TypeError(moved);
  const versions = identity(o);
  // Every line carries this member's id (etcd's local-member-id).
  const logger = withFields(guardLogger(o.logger ?? consoleLogger("warn")), {
    [F.local]: formatId(o.id),
  });
  const security = resolveSecurity(o.security);
  const groups = {
    ...resolveStream(o.stream),
    ...resolvePipeline(o.pipeline),
    ...resolveSnapshot(o.snapshot),
    ...resolveLimits(o.limits),
  };
  return {
    id: o.id,
    clusterId: o.clusterId,
    urls: o.urls.length === 0 ? [] : normalizeUrls(o.urls),
    raft: o.raft,
    members: o.members,
    ...versions,
    logger,
    onError: o.onError ??
      ((e) => logger.error(e.message, { [F.error]: e.message, "error-type": e.name })),
    logIntervalMs: duration(
      "logIntervalMs",
      o.logIntervalMs,
      DEFAULT_LOG_INTERVAL_MS,
      "no rate limit",
    ),
    probeIntervalMs: duration(
      "probeIntervalMs",
      o.probeIntervalMs,
      DEFAULT_PROBE_INTERVAL_MS,
      "no probing",
    ),
    auth: security.auth,
    ...groups,
    // Last: the default dialer is the one thing here to be closed, so it is
    // made only once every other option passed.
    ...resolveDialer(o, security.tls),
  };
}
