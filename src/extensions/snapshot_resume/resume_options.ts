/**
 * The options of the snapshot extension (digest, resume, retries), checked
 * as the transport's options are, when `snapshotResume(options)` is called.
 *
 * @module
 */

import { MAX_TIMER_MS } from "../../options/check.ts";

/**
 * Options of the snapshot extension between members of this library
 * (`snapshotResume(options)`); etcd peers never see it.
 *
 * @example
 * ```ts
 * import { snapshotResume, type SnapshotResumeOptions } from "@rafthttp/rafthttp";
 * const resume: SnapshotResumeOptions = { retries: 8, maxBytes: 4 * 2 ** 30, ttlMs: 30 * 60_000 };
 * console.log(snapshotResume(resume).name); // "snapshot-resume"
 * ```
 */
export interface SnapshotResumeOptions {
  /** Verification window, bytes: each window is followed by its digest; the receiver holds one in memory. Default 1 MiB (4 KiB to 64 MiB). */
  windowSize?: number;
  /** Retries of a broken send (resumed where the receiver stands when the message has `reopen`). Default 5; 0 disables. */
  retries?: number;
  /** Delay before the first retry, ms; doubles each retry up to `retryMaxBackoffMs`. Default 500. */
  retryBackoffMs?: number;
  /** Cap of the retry delay, ms. Default 10000. */
  retryMaxBackoffMs?: number;
  /** Time allowed for the resume query before a send, ms. Default 5000. */
  probeTimeoutMs?: number;
  /** Bytes of broken transfers the receiver keeps, over all of them; 0 keeps nothing. Default 1 GiB. */
  maxBytes?: number;
  /** A kept transfer unused this long is deleted, ms. Default 600000 (10 minutes). */
  ttlMs?: number;
  /** Directory of the kept data; default a temporary directory removed on stop(). */
  dir?: string;
  /** Keep the data in memory (up to `maxBytes`) instead of files: where there is no file system to write. Default false. */
  memory?: boolean;
}

/** {@link SnapshotResumeOptions} with the defaults filled in. */
export type SnapshotResumeConfig = Required<Omit<SnapshotResumeOptions, "dir">> & { dir?: string };

function int(name: string, v: number | undefined, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    throw new RangeError(
      `snapshotResume.${name} must be an integer from ${min} to ${max}, got ${v}`,
    );
  }
  return v;
}

/** Validates the options (RangeError naming the option, value and range) and fills in defaults. */
export function resolveSnapshotResume(o: SnapshotResumeOptions = {}): SnapshotResumeConfig {
  if (o.memory !== undefined && typeof o.memory !== "boolean") {
    throw new TypeError(`snapshotResume.memory must be a boolean, got ${o.memory}`);
  }
  if (o.dir !== undefined && (typeof o.dir !== "string" || o.dir === "")) {
    throw new TypeError(`snapshotResume.dir must be a non-empty string, got ${o.dir}`);
  }
  return {
    memory: o.memory ?? false,
    windowSize: int("windowSize", o.windowSize, 1 << 20, 4096, 64 << 20),
    retries: int("retries", o.retries, 5, 0, 1000),
    retryBackoffMs: int("retryBackoffMs", o.retryBackoffMs, 500, 1, MAX_TIMER_MS),
    retryMaxBackoffMs: int("retryMaxBackoffMs", o.retryMaxBackoffMs, 10_000, 1, MAX_TIMER_MS),
    probeTimeoutMs: int("probeTimeoutMs", o.probeTimeoutMs, 5000, 1, MAX_TIMER_MS),
    maxBytes: int("maxBytes", o.maxBytes, 2 ** 30, 0, Number.MAX_SAFE_INTEGER),
    ttlMs: int("ttlMs", o.ttlMs, 600_000, 1, MAX_TIMER_MS),
    dir: o.dir,
  };
}
