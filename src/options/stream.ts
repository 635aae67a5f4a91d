/**
 * The `stream` options: how the two long-lived streams per peer are dialled,
 * written and watched. Read by `src/stream/` (writer and reader).
 *
 * @module
 */

import { count, duration, group, MAX_TIMER_MS } from "./check.ts";

/**
 * Options of the long-lived streams (`TransportOptions.stream`): dialling,
 * redialling, link heartbeats, timeouts, the writer's queue and chunks.
 *
 * @example
 * ```ts
 * import type { StreamOptions } from "@rafthttp/rafthttp";
 * // A LAN: dial fast, notice a silent peer within a second.
 * const stream: StreamOptions = { dialTimeoutMs: 500, linkHeartbeatIntervalMs: 500, redialMaxMs: 300 };
 * console.log(stream.dialTimeoutMs); // 500
 * ```
 */
export interface StreamOptions {
  /** Time allowed to connect and get response headers of a stream GET, ms. Default 2000 (etcd's default peer dial timeout). */
  dialTimeoutMs?: number;
  /** Period of link heartbeats on idle and busy streams, ms. Default 1667 (etcd: 5 s / 3). */
  linkHeartbeatIntervalMs?: number;
  /** A stream that delivers nothing for this long is dead, ms. Default two heartbeat periods. */
  readTimeoutMs?: number;
  /** A stream whose reader takes nothing for this long while data waits is dead, ms. Default 5000. */
  writeTimeoutMs?: number;
  /** First delay between failing stream dials, ms (the first redial after a working stream is immediate). Default 100. */
  redialMinMs?: number;
  /** Cap of the redial backoff, ms. Default 500. */
  redialMaxMs?: number;
  /** Messages queued per stream writer. Default 4096, as etcd. */
  queueSize?: number;
  /** Bytes packed into one stream write when messages are queued. Default 256 KiB. */
  chunkSize?: number;
}

/**
 * The stream options resolved, as the stream writer and reader read them.
 *
 * @example
 * ```ts
 * import { resolveStream, type StreamConfig } from "./stream.ts";
 * const cfg: StreamConfig = resolveStream(undefined);
 * console.log(cfg.streamQueueSize); // 4096
 * ```
 */
export interface StreamConfig {
  /** `stream.dialTimeoutMs`. */
  dialTimeoutMs: number;
  /** `stream.linkHeartbeatIntervalMs`. */
  linkHeartbeatIntervalMs: number;
  /** `stream.readTimeoutMs`. */
  streamReadTimeoutMs: number;
  /** `stream.writeTimeoutMs`. */
  streamWriteTimeoutMs: number;
  /** `stream.redialMinMs`. */
  redialMinMs: number;
  /** `stream.redialMaxMs`. */
  redialMaxMs: number;
  /** `stream.queueSize`. */
  streamQueueSize: number;
  /** `stream.chunkSize`. */
  streamChunkSize: number;
}

/**
 * Default of {@link StreamOptions.dialTimeoutMs}.
 *
 * @example
 * ```ts
 * import { DEFAULT_DIAL_TIMEOUT_MS } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_DIAL_TIMEOUT_MS); // 2000
 * ```
 */
export const DEFAULT_DIAL_TIMEOUT_MS = 2000;
/**
 * Default of {@link StreamOptions.linkHeartbeatIntervalMs} (etcd: 5 s / 3).
 *
 * @example
 * ```ts
 * import { DEFAULT_LINK_HEARTBEAT_INTERVAL_MS } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_LINK_HEARTBEAT_INTERVAL_MS); // 1667
 * ```
 */
export const DEFAULT_LINK_HEARTBEAT_INTERVAL_MS = 1667;
/**
 * {@link StreamOptions.readTimeoutMs} defaults to this many heartbeat periods.
 *
 * @example
 * ```ts
 * import { DEFAULT_STREAM_READ_TIMEOUT_HEARTBEATS } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_STREAM_READ_TIMEOUT_HEARTBEATS); // 2
 * ```
 */
export const DEFAULT_STREAM_READ_TIMEOUT_HEARTBEATS = 2;
/**
 * Default of {@link StreamOptions.writeTimeoutMs} (etcd's).
 *
 * @example
 * ```ts
 * import { DEFAULT_STREAM_WRITE_TIMEOUT_MS } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_STREAM_WRITE_TIMEOUT_MS); // 5000
 * ```
 */
export const DEFAULT_STREAM_WRITE_TIMEOUT_MS = 5000;
/**
 * Default of {@link StreamOptions.redialMinMs}.
 *
 * @example
 * ```ts
 * import { DEFAULT_REDIAL_MIN_MS } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_REDIAL_MIN_MS); // 100
 * ```
 */
export const DEFAULT_REDIAL_MIN_MS = 100;
/**
 * Default of {@link StreamOptions.redialMaxMs}.
 *
 * @example
 * ```ts
 * import { DEFAULT_REDIAL_MAX_MS } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_REDIAL_MAX_MS); // 500
 * ```
 */
export const DEFAULT_REDIAL_MAX_MS = 500;
/**
 * Default of {@link StreamOptions.queueSize} (etcd's).
 *
 * @example
 * ```ts
 * import { DEFAULT_STREAM_QUEUE_SIZE } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_STREAM_QUEUE_SIZE); // 4096
 * ```
 */
export const DEFAULT_STREAM_QUEUE_SIZE = 4096;
/**
 * Default of {@link StreamOptions.chunkSize}, bytes.
 *
 * @example
 * ```ts
 * import { DEFAULT_STREAM_CHUNK_SIZE } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_STREAM_CHUNK_SIZE / 1024); // 256
 * ```
 */
export const DEFAULT_STREAM_CHUNK_SIZE = 256 * 1024;

/**
 * Checks `stream` and fills in its defaults: RangeError naming the option
 * (`stream.redialMinMs`), its value and the range.
 *
 * @example
 * ```ts
 * import { resolveStream } from "./stream.ts";
 * console.log(resolveStream({ linkHeartbeatIntervalMs: 100 }).streamReadTimeoutMs); // 200
 * ```
 */
export function resolveStream(options: StreamOptions | undefined): StreamConfig {
  const o = group("stream", options);
  const heartbeat = duration(
    "stream.linkHeartbeatIntervalMs",
    o.linkHeartbeatIntervalMs,
    DEFAULT_LINK_HEARTBEAT_INTERVAL_MS,
  );
  // The read timeout follows the heartbeat unless set: a peer is silent after missing two.
  const readDefault = Math.min(MAX_TIMER_MS, DEFAULT_STREAM_READ_TIMEOUT_HEARTBEATS * heartbeat);
  const c: StreamConfig = {
    dialTimeoutMs: duration("stream.dialTimeoutMs", o.dialTimeoutMs, DEFAULT_DIAL_TIMEOUT_MS),
    linkHeartbeatIntervalMs: heartbeat,
    streamReadTimeoutMs: duration("stream.readTimeoutMs", o.readTimeoutMs, readDefault),
    streamWriteTimeoutMs: duration(
      "stream.writeTimeoutMs",
      o.writeTimeoutMs,
      DEFAULT_STREAM_WRITE_TIMEOUT_MS,
    ),
    redialMinMs: duration("stream.redialMinMs", o.redialMinMs, DEFAULT_REDIAL_MIN_MS),
    redialMaxMs: duration("stream.redialMaxMs", o.redialMaxMs, DEFAULT_REDIAL_MAX_MS),
    streamQueueSize: count("stream.queueSize", o.queueSize, DEFAULT_STREAM_QUEUE_SIZE),
    streamChunkSize: count("stream.chunkSize", o.chunkSize, DEFAULT_STREAM_CHUNK_SIZE),
  };
  if (c.redialMinMs > c.redialMaxMs) {
    throw new RangeError(
      `stream.redialMinMs (${c.redialMinMs}) must not exceed stream.redialMaxMs (${c.redialMaxMs})`,
    );
  }
  return c;
}
