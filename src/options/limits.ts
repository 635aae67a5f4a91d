/**
 * The `limits` options: bounds on what peers may make this member hold, a
 * stream frame, the remotes learned from requests, the received messages
 * waiting for raft. Read by the stream reader, the transport and the inbox.
 *
 * @module
 */

import { count, group } from "./check.ts";

/**
 * Bounds on what peers may make this member hold (`TransportOptions.limits`).
 *
 * @example
 * ```ts
 * import type { LimitsOptions } from "@rafthttp/rafthttp";
 * const limits: LimitsOptions = { maxFrameSize: 512 * 2 ** 20, maxRemotes: 16 };
 * console.log(limits.maxRemotes); // 16
 * ```
 */
export interface LimitsOptions {
  /** Largest stream frame accepted, bytes. Default 64 MiB (etcd: 512 MiB). */
  maxFrameSize?: number;
  /** Remotes (pipeline-only members learned from requests) kept at most. Default 128. */
  maxRemotes?: number;
  /** Messages received and waiting for `process`, per peer and per queue. Default 4096, as etcd. */
  receiveQueueSize?: number;
}

/**
 * The limits resolved.
 *
 * @example
 * ```ts
 * import { type LimitsConfig, resolveLimits } from "./limits.ts";
 * const cfg: LimitsConfig = resolveLimits({ maxRemotes: 4 });
 * console.log(cfg.maxRemotes); // 4
 * ```
 */
export type LimitsConfig = Required<LimitsOptions>;

/**
 * Default of {@link LimitsOptions.maxFrameSize}, bytes (etcd: 512 MiB,
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
 * Default of {@link LimitsOptions.maxRemotes}.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_REMOTES } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_MAX_REMOTES); // 128
 * ```
 */
export const DEFAULT_MAX_REMOTES = 128;
/**
 * Default of {@link LimitsOptions.receiveQueueSize} (etcd's).
 *
 * @example
 * ```ts
 * import { DEFAULT_RECEIVE_QUEUE_SIZE } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_RECEIVE_QUEUE_SIZE); // 4096
 * ```
 */
export const DEFAULT_RECEIVE_QUEUE_SIZE = 4096;

/**
 * Checks `limits` and fills in its defaults: RangeError naming the option
 * (`limits.maxRemotes`), its value and the range.
 *
 * @example
 * ```ts
 * import { resolveLimits } from "./limits.ts";
 * console.log(resolveLimits(undefined).receiveQueueSize); // 4096
 * ```
 */
export function resolveLimits(options: LimitsOptions | undefined): LimitsConfig {
  const o = group("limits", options);
  return {
    maxFrameSize: count("limits.maxFrameSize", o.maxFrameSize, DEFAULT_TRANSPORT_MAX_FRAME_SIZE),
    maxRemotes: count("limits.maxRemotes", o.maxRemotes, DEFAULT_MAX_REMOTES),
    receiveQueueSize: count(
      "limits.receiveQueueSize",
      o.receiveQueueSize,
      DEFAULT_RECEIVE_QUEUE_SIZE,
    ),
  };
}
