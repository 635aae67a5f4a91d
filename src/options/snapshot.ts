/**
 * The `snapshot` options: where received snapshots go, and the bounds and
 * deadlines of sending and receiving them. Read by `src/snapshot/`. (The
 * snapshot extension between members of this library has its own options,
 * given to its factory in the `extensions` option.)
 *
 * @module
 */

import type { SnapshotSink } from "../snapshot/sink.ts";
import { FileSnapshotSink } from "../snapshot/file_sink.ts";
import { count, duration, group } from "./check.ts";

/**
 * Options of snapshot transfers (`TransportOptions.snapshot`): the sink,
 * the receive spool and envelope bound, concurrency, and the deadlines.
 *
 * @example
 * ```ts
 * import type { SnapshotOptions } from "@rafthttp/rafthttp";
 * const snapshot: SnapshotOptions = { dir: "/var/lib/member/snap", progressTimeoutMs: 60_000 };
 * console.log(snapshot.dir); // /var/lib/member/snap
 * ```
 */
export interface SnapshotOptions {
  /** Where received snapshot data goes. Default: files in `dir`. */
  sink?: SnapshotSink;
  /** Directory of the default file sink (`%016x.snap.db`, as etcd). Default `./snap`. */
  dir?: string;
  /**
   * Bytes of a snapshot being received that may wait for the sink, per
   * snapshot: the body is read as fast as it arrives (Deno.serve slows down
   * when it has to buffer it), and reading pauses above this. Default 32 MiB.
   */
  spoolSize?: number;
  /** A transfer that moves no bytes for this long fails, ms. Default 30000. */
  progressTimeoutMs?: number;
  /** Time allowed for the response after a snapshot body is sent (the receiver saves it first), ms. Default 60000. */
  responseTimeoutMs?: number;
  /** Snapshots received at once; more get 503. Default 4. */
  maxConcurrentReceives?: number;
  /** Largest MsgSnap at the head of a snapshot body, bytes. Default 64 MiB (as etcd 3.6.14). */
  maxEnvelopeSize?: number;
}

/**
 * The snapshot options resolved, as the snapshot sender and receiver read them.
 *
 * @example
 * ```ts
 * import { resolveSnapshot, type SnapshotConfig } from "./snapshot.ts";
 * const cfg: SnapshotConfig = resolveSnapshot({ sink: { async save() {} } });
 * console.log(cfg.maxConcurrentSnapshotReceives); // 4
 * ```
 */
export interface SnapshotConfig {
  /** `snapshot.sink`, or the file sink in `snapshot.dir`. */
  snapshotSink: SnapshotSink;
  /** `snapshot.spoolSize`. */
  snapshotSpoolSize: number;
  /** `snapshot.progressTimeoutMs`. */
  snapshotProgressTimeoutMs: number;
  /** `snapshot.responseTimeoutMs`. */
  snapshotResponseTimeoutMs: number;
  /** `snapshot.maxConcurrentReceives`. */
  maxConcurrentSnapshotReceives: number;
  /** `snapshot.maxEnvelopeSize`. */
  maxSnapshotEnvelopeSize: number;
}

/**
 * Default of {@link SnapshotOptions.progressTimeoutMs}.
 *
 * @example
 * ```ts
 * import { DEFAULT_SNAPSHOT_PROGRESS_TIMEOUT_MS } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_SNAPSHOT_PROGRESS_TIMEOUT_MS); // 30000
 * ```
 */
export const DEFAULT_SNAPSHOT_PROGRESS_TIMEOUT_MS = 30_000;
/**
 * Default of {@link SnapshotOptions.responseTimeoutMs}.
 *
 * @example
 * ```ts
 * import { DEFAULT_SNAPSHOT_RESPONSE_TIMEOUT_MS } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_SNAPSHOT_RESPONSE_TIMEOUT_MS); // 60000
 * ```
 */
export const DEFAULT_SNAPSHOT_RESPONSE_TIMEOUT_MS = 60_000;
/**
 * Default of {@link SnapshotOptions.spoolSize}, bytes.
 *
 * @example
 * ```ts
 * import { DEFAULT_SNAPSHOT_SPOOL_SIZE } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_SNAPSHOT_SPOOL_SIZE / 2 ** 20); // 32
 * ```
 */
export const DEFAULT_SNAPSHOT_SPOOL_SIZE = 32 * 1024 * 1024;
/**
 * Default of {@link SnapshotOptions.maxConcurrentReceives}.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_CONCURRENT_SNAPSHOT_RECEIVES } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_MAX_CONCURRENT_SNAPSHOT_RECEIVES); // 4
 * ```
 */
export const DEFAULT_MAX_CONCURRENT_SNAPSHOT_RECEIVES = 4;
/**
 * Default of {@link SnapshotOptions.maxEnvelopeSize}, bytes (as etcd 3.6.14).
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_SNAPSHOT_ENVELOPE_SIZE } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_MAX_SNAPSHOT_ENVELOPE_SIZE / 2 ** 20); // 64
 * ```
 */
export const DEFAULT_MAX_SNAPSHOT_ENVELOPE_SIZE = 64 * 1024 * 1024;

/**
 * Checks `snapshot` and fills in its defaults: TypeError for a sink without
 * `save` or an empty `dir`, RangeError naming the option
 * (`snapshot.spoolSize`), its value and the range.
 *
 * @example
 * ```ts
 * import { resolveSnapshot } from "./snapshot.ts";
 * const cfg = resolveSnapshot({ sink: { async save() {} }, spoolSize: 2 ** 20 });
 * console.log(cfg.snapshotSpoolSize); // 1048576
 * ```
 */
export function resolveSnapshot(options: SnapshotOptions | undefined): SnapshotConfig {
  const o = group("snapshot", options);
  if (o.sink !== undefined && typeof o.sink?.save !== "function") {
    throw new TypeError("snapshot.sink must have a save(message, data) method");
  }
  if (o.dir !== undefined && (typeof o.dir !== "string" || o.dir === "")) {
    throw new TypeError(`snapshot.dir must be a non-empty string, got ${o.dir}`);
  }
  return {
    snapshotSink: o.sink ?? new FileSnapshotSink(o.dir ?? "snap"),
    snapshotSpoolSize: count("snapshot.spoolSize", o.spoolSize, DEFAULT_SNAPSHOT_SPOOL_SIZE),
    snapshotProgressTimeoutMs: duration(
      "snapshot.progressTimeoutMs",
      o.progressTimeoutMs,
      DEFAULT_SNAPSHOT_PROGRESS_TIMEOUT_MS,
    ),
    snapshotResponseTimeoutMs: duration(
      "snapshot.responseTimeoutMs",
      o.responseTimeoutMs,
      DEFAULT_SNAPSHOT_RESPONSE_TIMEOUT_MS,
    ),
    maxConcurrentSnapshotReceives: count(
      "snapshot.maxConcurrentReceives",
      o.maxConcurrentReceives,
      DEFAULT_MAX_CONCURRENT_SNAPSHOT_RECEIVES,
    ),
    maxSnapshotEnvelopeSize: count(
      "snapshot.maxEnvelopeSize",
      o.maxEnvelopeSize,
      DEFAULT_MAX_SNAPSHOT_ENVELOPE_SIZE,
    ),
  };
}
