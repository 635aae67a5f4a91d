/**
 * The transport's options, their defaults, and the resolved configuration
 * every part of the transport reads.
 *
 * @module
 */

import type { Raft } from "./raft_node.ts";
import type { SnapshotSink } from "./snapshot/sink.ts";
import type { Logger } from "./logger.ts";
import { consoleLogger, F, guardLogger, withFields } from "./logger.ts";
import { formatId } from "./http/headers.ts";
import {
  DEFAULT_CLUSTER_VERSION,
  DEFAULT_MIN_CLUSTER_VERSION,
  DEFAULT_SERVER_VERSION,
  parseMajorMinor,
} from "./http/version.ts";
import { isUnixUrl, normalizeUrls } from "./http/peer_urls.ts";
import { FileSnapshotSink } from "./snapshot/file_sink.ts";
import type { TransportExtension } from "./extension/extension.ts";
import { RequestAuth, type RequestAuthOptions } from "./http/auth.ts";
import type { MeterProviderLike } from "./metrics/otel.ts";
import type { MemberInfo } from "./http/member_info.ts";
import { type Dialer, unixNeedsFetch } from "./http/dialer.ts";
import { fetchDialer } from "./http/fetch_dialer.ts";
import { type DialerTlsOptions, nodeDialer } from "./edge/node_dialer.ts";

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
  /** Logger; default: the console, from `warn` up. */
  logger?: Logger;
  /**
   * Where the OpenTelemetry instruments (the same as `transport.metrics()`)
   * are created. Default: the global provider of `@opentelemetry/api`
   * (Deno's built-in exporter under `OTEL_DENO=true`; a no-op when none is
   * registered).
   */
  meterProvider?: MeterProviderLike;
  /**
   * The fetch used for every request to peers (inject one for tests, unix
   * sockets, other runtimes); wrapped in {@link fetchDialer}. Default: see
   * `dialer`.
   */
  fetch?: typeof fetch;
  /**
   * What sends every request to peers. Default: on Deno and Node.js, a
   * {@link nodeDialer} (with `tls`), which the transport closes on `stop()`;
   * elsewhere (Bun, workerd) the global fetch. A dialer passed here is not
   * closed by the transport. Not together with `fetch` or `tls`.
   */
  dialer?: Dialer;
  /**
   * The client side of TLS toward `https://` peers (PEM strings): the CA their
   * certificates chain to, and this member's certificate and key for peers
   * that require client certificates (mTLS). Builds the default node:http
   * dialer with them; not together with `fetch` or `dialer`.
   */
  tls?: DialerTlsOptions;
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
  /**
   * Protocol extensions spoken with members of this library that speak
   * them too; etcd peers keep seeing etcd's protocol. Default
   * `defaultExtensions()`; a list given here replaces it (`[]`: etcd's
   * protocol only; `[...defaultExtensions(), mine]` adds one).
   */
  extensions?: TransportExtension[];
}

/** Options with every default filled in. */
export type Config =
  & Required<
    Omit<
      TransportOptions,
      | "snapshotSink"
      | "snapshotDir"
      | "onError"
      | "auth"
      | "meterProvider"
      | "members"
      | "fetch"
      | "dialer"
      | "tls"
      | "extensions"
    >
  >
  & {
    /** What sends every request to peers. */
    dialer: Dialer;
    /** Releases the dialer if the transport made it (called by `stop()`). */
    closeDialer: () => void;
    snapshotSink: SnapshotSink;
    onError: (error: Error) => void;
    auth?: RequestAuth;
    members?: () => readonly MemberInfo[];
  };

/**
 * Default of {@link TransportOptions.dialTimeoutMs}.
 *
 * @example
 * ```ts
 * import { DEFAULT_DIAL_TIMEOUT_MS } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_DIAL_TIMEOUT_MS);
 * ```
 */
export const DEFAULT_DIAL_TIMEOUT_MS = 2000;
/**
 * Default of {@link TransportOptions.linkHeartbeatIntervalMs} (etcd: 5 s / 3).
 *
 * @example
 * ```ts
 * import { DEFAULT_LINK_HEARTBEAT_INTERVAL_MS } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_LINK_HEARTBEAT_INTERVAL_MS);
 * ```
 */
export const DEFAULT_LINK_HEARTBEAT_INTERVAL_MS = 1667;
/**
 * {@link TransportOptions.streamReadTimeoutMs} defaults to this many heartbeat periods.
 *
 * @example
 * ```ts
 * import { DEFAULT_STREAM_READ_TIMEOUT_HEARTBEATS } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_STREAM_READ_TIMEOUT_HEARTBEATS);
 * ```
 */
export const DEFAULT_STREAM_READ_TIMEOUT_HEARTBEATS = 2;
/**
 * Default of {@link TransportOptions.streamWriteTimeoutMs} (etcd's).
 *
 * @example
 * ```ts
 * import { DEFAULT_STREAM_WRITE_TIMEOUT_MS } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_STREAM_WRITE_TIMEOUT_MS);
 * ```
 */
export const DEFAULT_STREAM_WRITE_TIMEOUT_MS = 5000;
/**
 * Default of {@link TransportOptions.redialMinMs}.
 *
 * @example
 * ```ts
 * import { DEFAULT_REDIAL_MIN_MS } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_REDIAL_MIN_MS);
 * ```
 */
export const DEFAULT_REDIAL_MIN_MS = 100;
/**
 * Default of {@link TransportOptions.redialMaxMs}.
 *
 * @example
 * ```ts
 * import { DEFAULT_REDIAL_MAX_MS } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_REDIAL_MAX_MS);
 * ```
 */
export const DEFAULT_REDIAL_MAX_MS = 500;
/**
 * Default of {@link TransportOptions.probeIntervalMs} (etcd's).
 *
 * @example
 * ```ts
 * import { DEFAULT_PROBE_INTERVAL_MS } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_PROBE_INTERVAL_MS);
 * ```
 */
export const DEFAULT_PROBE_INTERVAL_MS = 4000;
/**
 * Default of {@link TransportOptions.snapshotProgressTimeoutMs}.
 *
 * @example
 * ```ts
 * import { DEFAULT_SNAPSHOT_PROGRESS_TIMEOUT_MS } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_SNAPSHOT_PROGRESS_TIMEOUT_MS);
 * ```
 */
export const DEFAULT_SNAPSHOT_PROGRESS_TIMEOUT_MS = 30_000;
/**
 * Default of {@link TransportOptions.snapshotResponseTimeoutMs}.
 *
 * @example
 * ```ts
 * import { DEFAULT_SNAPSHOT_RESPONSE_TIMEOUT_MS } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_SNAPSHOT_RESPONSE_TIMEOUT_MS);
 * ```
 */
export const DEFAULT_SNAPSHOT_RESPONSE_TIMEOUT_MS = 60_000;
/**
 * Default of {@link TransportOptions.pipelineTimeoutMs}.
 *
 * @example
 * ```ts
 * import { DEFAULT_PIPELINE_TIMEOUT_MS } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_PIPELINE_TIMEOUT_MS);
 * ```
 */
export const DEFAULT_PIPELINE_TIMEOUT_MS = 30_000;
/**
 * Default of {@link TransportOptions.maxFrameSize}, bytes (etcd: 512 MiB,
 * which is also the codecs' own default, `DEFAULT_MAX_FRAME_SIZE`).
 *
 * @example
 * ```ts
 * import { DEFAULT_TRANSPORT_MAX_FRAME_SIZE } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_TRANSPORT_MAX_FRAME_SIZE / 2 ** 20); // 64
 * ```
 */
export const DEFAULT_TRANSPORT_MAX_FRAME_SIZE = 64 * 1024 * 1024;
/**
 * Default of {@link TransportOptions.maxPipelineBodySize}, bytes.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_PIPELINE_BODY_SIZE } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_MAX_PIPELINE_BODY_SIZE);
 * ```
 */
export const DEFAULT_MAX_PIPELINE_BODY_SIZE = 64 * 1024 * 1024;
/**
 * Default of {@link TransportOptions.maxSnapshotEnvelopeSize}, bytes (as etcd 3.6.14).
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_SNAPSHOT_ENVELOPE_SIZE } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_MAX_SNAPSHOT_ENVELOPE_SIZE);
 * ```
 */
export const DEFAULT_MAX_SNAPSHOT_ENVELOPE_SIZE = 64 * 1024 * 1024;
/**
 * Default of {@link TransportOptions.snapshotSpoolSize}, bytes.
 *
 * @example
 * ```ts
 * import { DEFAULT_SNAPSHOT_SPOOL_SIZE } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_SNAPSHOT_SPOOL_SIZE);
 * ```
 */
export const DEFAULT_SNAPSHOT_SPOOL_SIZE = 32 * 1024 * 1024;
/**
 * Default of {@link TransportOptions.maxConcurrentSnapshotReceives}.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_CONCURRENT_SNAPSHOT_RECEIVES } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_MAX_CONCURRENT_SNAPSHOT_RECEIVES);
 * ```
 */
export const DEFAULT_MAX_CONCURRENT_SNAPSHOT_RECEIVES = 4;
/**
 * Default of {@link TransportOptions.maxRemotes}.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_REMOTES } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_MAX_REMOTES);
 * ```
 */
export const DEFAULT_MAX_REMOTES = 128;
/**
 * Default of {@link TransportOptions.streamQueueSize} (etcd's).
 *
 * @example
 * ```ts
 * import { DEFAULT_STREAM_QUEUE_SIZE } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_STREAM_QUEUE_SIZE);
 * ```
 */
export const DEFAULT_STREAM_QUEUE_SIZE = 4096;
/**
 * Default of {@link TransportOptions.pipelineQueueSize} (etcd's).
 *
 * @example
 * ```ts
 * import { DEFAULT_PIPELINE_QUEUE_SIZE } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_PIPELINE_QUEUE_SIZE);
 * ```
 */
export const DEFAULT_PIPELINE_QUEUE_SIZE = 64;
/**
 * Default of {@link TransportOptions.pipelineWorkers} (etcd's).
 *
 * @example
 * ```ts
 * import { DEFAULT_PIPELINE_WORKERS } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_PIPELINE_WORKERS);
 * ```
 */
export const DEFAULT_PIPELINE_WORKERS = 4;
/**
 * Default of {@link TransportOptions.receiveQueueSize} (etcd's).
 *
 * @example
 * ```ts
 * import { DEFAULT_RECEIVE_QUEUE_SIZE } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_RECEIVE_QUEUE_SIZE);
 * ```
 */
export const DEFAULT_RECEIVE_QUEUE_SIZE = 4096;
/**
 * Default of {@link TransportOptions.streamChunkSize}, bytes.
 *
 * @example
 * ```ts
 * import { DEFAULT_STREAM_CHUNK_SIZE } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_STREAM_CHUNK_SIZE);
 * ```
 */
export const DEFAULT_STREAM_CHUNK_SIZE = 256 * 1024;
/**
 * Default of {@link TransportOptions.logIntervalMs}.
 *
 * @example
 * ```ts
 * import { DEFAULT_LOG_INTERVAL_MS } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_LOG_INTERVAL_MS);
 * ```
 */
export const DEFAULT_LOG_INTERVAL_MS = 5000;

/** The longest delay timers take (setTimeout fires at once beyond it). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A count or size: an integer of at least 1. */
function count(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v < 1) {
    throw new RangeError(`${name} must be an integer from 1 to 2^53-1, got ${v}`);
  }
  return v;
}

/** A duration in ms: above 0 (or 0 where `zeroMeans` says what 0 does), within timer range. */
function duration(name: string, v: number | undefined, dflt: number, zeroMeans?: string): number {
  if (v === undefined) return dflt;
  if (v === 0 && zeroMeans !== undefined) return 0;
  if (typeof v !== "number" || !(v > 0 && v <= MAX_TIMER_MS)) {
    const low = zeroMeans === undefined ? "above 0" : `0 (${zeroMeans}) or above`;
    throw new RangeError(
      `${name} must be a number of ms ${low}, at most ${MAX_TIMER_MS}, got ${v}`,
    );
  }
  return v;
}

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

/** The timeouts and intervals, checked; RangeError for a value out of range. */
function timing(o: TransportOptions) {
  const heartbeat = duration(
    "linkHeartbeatIntervalMs",
    o.linkHeartbeatIntervalMs,
    DEFAULT_LINK_HEARTBEAT_INTERVAL_MS,
  );
  const t = {
    dialTimeoutMs: duration("dialTimeoutMs", o.dialTimeoutMs, DEFAULT_DIAL_TIMEOUT_MS),
    linkHeartbeatIntervalMs: heartbeat,
    streamReadTimeoutMs: duration(
      "streamReadTimeoutMs",
      o.streamReadTimeoutMs,
      Math.min(MAX_TIMER_MS, DEFAULT_STREAM_READ_TIMEOUT_HEARTBEATS * heartbeat),
    ),
    streamWriteTimeoutMs: duration(
      "streamWriteTimeoutMs",
      o.streamWriteTimeoutMs,
      DEFAULT_STREAM_WRITE_TIMEOUT_MS,
    ),
    redialMinMs: duration("redialMinMs", o.redialMinMs, DEFAULT_REDIAL_MIN_MS),
    redialMaxMs: duration("redialMaxMs", o.redialMaxMs, DEFAULT_REDIAL_MAX_MS),
    probeIntervalMs: duration(
      "probeIntervalMs",
      o.probeIntervalMs,
      DEFAULT_PROBE_INTERVAL_MS,
      "no probing",
    ),
    snapshotProgressTimeoutMs: duration(
      "snapshotProgressTimeoutMs",
      o.snapshotProgressTimeoutMs,
      DEFAULT_SNAPSHOT_PROGRESS_TIMEOUT_MS,
    ),
    snapshotResponseTimeoutMs: duration(
      "snapshotResponseTimeoutMs",
      o.snapshotResponseTimeoutMs,
      DEFAULT_SNAPSHOT_RESPONSE_TIMEOUT_MS,
    ),
    pipelineTimeoutMs: duration(
      "pipelineTimeoutMs",
      o.pipelineTimeoutMs,
      DEFAULT_PIPELINE_TIMEOUT_MS,
    ),
    logIntervalMs: duration(
      "logIntervalMs",
      o.logIntervalMs,
      DEFAULT_LOG_INTERVAL_MS,
      "no rate limit",
    ),
  };
  if (t.redialMinMs > t.redialMaxMs) {
    throw new RangeError(
      `redialMinMs (${t.redialMinMs}) must not exceed redialMaxMs (${t.redialMaxMs})`,
    );
  }
  return t;
}

/** The bounds, checked; RangeError for a value that is not an integer of at least 1. */
function bounds(o: TransportOptions) {
  return {
    maxFrameSize: count("maxFrameSize", o.maxFrameSize, DEFAULT_TRANSPORT_MAX_FRAME_SIZE),
    maxPipelineBodySize: count(
      "maxPipelineBodySize",
      o.maxPipelineBodySize,
      DEFAULT_MAX_PIPELINE_BODY_SIZE,
    ),
    maxSnapshotEnvelopeSize: count(
      "maxSnapshotEnvelopeSize",
      o.maxSnapshotEnvelopeSize,
      DEFAULT_MAX_SNAPSHOT_ENVELOPE_SIZE,
    ),
    snapshotSpoolSize: count("snapshotSpoolSize", o.snapshotSpoolSize, DEFAULT_SNAPSHOT_SPOOL_SIZE),
    maxConcurrentSnapshotReceives: count(
      "maxConcurrentSnapshotReceives",
      o.maxConcurrentSnapshotReceives,
      DEFAULT_MAX_CONCURRENT_SNAPSHOT_RECEIVES,
    ),
    maxRemotes: count("maxRemotes", o.maxRemotes, DEFAULT_MAX_REMOTES),
    streamQueueSize: count("streamQueueSize", o.streamQueueSize, DEFAULT_STREAM_QUEUE_SIZE),
    pipelineQueueSize: count("pipelineQueueSize", o.pipelineQueueSize, DEFAULT_PIPELINE_QUEUE_SIZE),
    pipelineWorkers: count("pipelineWorkers", o.pipelineWorkers, DEFAULT_PIPELINE_WORKERS),
    receiveQueueSize: count("receiveQueueSize", o.receiveQueueSize, DEFAULT_RECEIVE_QUEUE_SIZE),
    streamChunkSize: count("streamChunkSize", o.streamChunkSize, DEFAULT_STREAM_CHUNK_SIZE),
  };
}

/** The global fetch, with a clear error for unix URLs (which need `unixFetch`). */
const defaultFetch = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
  const href = input instanceof Request ? input.url : String(input);
  if (isUnixUrl(href)) return Promise.reject(unixNeedsFetch(href));
  return fetch(input, init);
};

/**
 * True on runtimes whose `node:http` client reads peers faster than their
 * fetch (measured: Deno, Node.js); told apart by `navigator.userAgent`, which
 * needs no runtime's types.
 */
export function nodeHttpIsFaster(): boolean {
  const ua = (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent ?? "";
  return ua.startsWith("Deno/") || ua.startsWith("Node.js/");
}

/**
 * The dialer: an explicit `dialer`, else `fetch` wrapped, else the node
 * dialer where it is faster (with `tls`), else the global fetch.
 */
function dialerOf(o: TransportOptions): Pick<Config, "dialer" | "closeDialer"> {
  const none = () => {};
  if (o.dialer !== undefined) {
    if (typeof o.dialer?.dial !== "function") {
      throw new TypeError("dialer must have a dial(request) method");
    }
    if (o.fetch !== undefined) {
      throw new TypeError("dialer and fetch were both given: drop fetch (or wrap it: fetchDialer)");
    }
    if (o.tls !== undefined) {
      throw new TypeError(
        "tls only configures the transport's own dialer: drop tls and build your dialer " +
          "with it (nodeDialer({ tls }))",
      );
    }
    return { dialer: o.dialer, closeDialer: none };
  }
  if (o.fetch !== undefined) {
    if (typeof o.fetch !== "function") throw new TypeError("fetch must be a function");
    if (o.tls !== undefined) {
      throw new TypeError(
        "tls and fetch were both given: a fetch brings its own TLS settings; drop tls (and " +
          "configure your fetch), or drop fetch to have the transport dial with tls",
      );
    }
    return { dialer: fetchDialer(o.fetch), closeDialer: none };
  }
  if (o.tls !== undefined) checkTls(o.tls);
  if (nodeHttpIsFaster()) {
    const dialer = nodeDialer({ tls: o.tls });
    return { dialer, closeDialer: () => dialer.close() };
  }
  if (o.tls !== undefined) {
    throw new TypeError(
      "tls needs node:http (Deno, Node.js), which this runtime lacks: drop tls and pass a " +
        "fetch (or dialer) that has your certificates",
    );
  }
  return { dialer: fetchDialer(defaultFetch), closeDialer: none };
}

/** TypeError unless `tls` holds PEM strings where given. */
function checkTls(tls: DialerTlsOptions): void {
  if (typeof tls !== "object" || tls === null) {
    throw new TypeError("tls must be an object { ca?, cert?, key? } of PEM strings");
  }
  const cas = tls.ca === undefined ? [] : Array.isArray(tls.ca) ? tls.ca : [tls.ca];
  for (const c of cas) {
    if (typeof c !== "string") {
      throw new TypeError("tls.ca must be a PEM string or an array of them");
    }
  }
  for (const k of ["cert", "key"] as const) {
    if (tls[k] !== undefined && typeof tls[k] !== "string") {
      throw new TypeError(`tls.${k} must be a PEM string`);
    }
  }
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new TypeError("tls.cert and tls.key go together: give both or neither");
  }
}

/**
 * Validates options and fills in defaults. Throws TypeError for a value of
 * the wrong kind (ids, versions, URLs) and RangeError, naming the option,
 * its value and the allowed range, for a number out of range.
 */
export function resolveOptions(o: TransportOptions): Config {
  const versions = identity(o);
  // Every line carries this member's id (etcd's local-member-id).
  const logger = withFields(guardLogger(o.logger ?? consoleLogger("warn")), {
    [F.local]: formatId(o.id),
  });
  return {
    id: o.id,
    clusterId: o.clusterId,
    urls: o.urls.length === 0 ? [] : normalizeUrls(o.urls),
    raft: o.raft,
    members: o.members,
    snapshotSink: o.snapshotSink ?? new FileSnapshotSink(o.snapshotDir ?? "snap"),
    ...versions,
    logger,
    ...dialerOf(o),
    onError: o.onError ??
      ((e) => logger.error(e.message, { [F.error]: e.message, "error-type": e.name })),
    auth: o.auth === undefined ? undefined : new RequestAuth(o.auth),
    ...timing(o),
    ...bounds(o),
  };
}
