/**
 * The `pipeline` options: the POST /raft channel, one request per message,
 * used when no stream is up and for MsgSnap heads. Read by `src/pipeline/`.
 *
 * @module
 */

import { count, duration, group } from "./check.ts";

/**
 * Options of the pipeline (`TransportOptions.pipeline`): its workers, queue,
 * request timeout, and the largest body its receiver accepts.
 *
 * @example
 * ```ts
 * import type { PipelineOptions } from "@rafthttp/rafthttp";
 * const pipeline: PipelineOptions = { workers: 8, timeoutMs: 10_000, maxBodySize: 16 * 2 ** 20 };
 * console.log(pipeline.workers); // 8
 * ```
 */
export interface PipelineOptions {
  /** Concurrent POSTs per peer. Default 4, as etcd. */
  workers?: number;
  /** Messages queued per pipeline. Default 64, as etcd. */
  queueSize?: number;
  /** Time allowed for a POST, ms (the receiver answers after `process`). Default 30000. */
  timeoutMs?: number;
  /** Largest `POST /raft` body accepted, bytes. Default 64 MiB (etcd: none). */
  maxBodySize?: number;
}

/**
 * The pipeline options resolved, as the pipeline sender and receiver read them.
 *
 * @example
 * ```ts
 * import { type PipelineConfig, resolvePipeline } from "./pipeline.ts";
 * const cfg: PipelineConfig = resolvePipeline({ workers: 2 });
 * console.log(cfg.pipelineWorkers); // 2
 * ```
 */
export interface PipelineConfig {
  /** `pipeline.workers`. */
  pipelineWorkers: number;
  /** `pipeline.queueSize`. */
  pipelineQueueSize: number;
  /** `pipeline.timeoutMs`. */
  pipelineTimeoutMs: number;
  /** `pipeline.maxBodySize`. */
  maxPipelineBodySize: number;
}

/**
 * Default of {@link PipelineOptions.workers} (etcd's).
 *
 * @example
 * ```ts
 * import { DEFAULT_PIPELINE_WORKERS } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_PIPELINE_WORKERS); // 4
 * ```
 */
export const DEFAULT_PIPELINE_WORKERS = 4;
/**
 * Default of {@link PipelineOptions.queueSize} (etcd's).
 *
 * @example
 * ```ts
 * import { DEFAULT_PIPELINE_QUEUE_SIZE } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_PIPELINE_QUEUE_SIZE); // 64
 * ```
 */
export const DEFAULT_PIPELINE_QUEUE_SIZE = 64;
/**
 * Default of {@link PipelineOptions.timeoutMs}.
 *
 * @example
 * ```ts
 * import { DEFAULT_PIPELINE_TIMEOUT_MS } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_PIPELINE_TIMEOUT_MS); // 30000
 * ```
 */
export const DEFAULT_PIPELINE_TIMEOUT_MS = 30_000;
/**
 * Default of {@link PipelineOptions.maxBodySize}, bytes.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_PIPELINE_BODY_SIZE } from "@rafthttp/rafthttp";
 * console.log(DEFAULT_MAX_PIPELINE_BODY_SIZE / 2 ** 20); // 64
 * ```
 */
export const DEFAULT_MAX_PIPELINE_BODY_SIZE = 64 * 1024 * 1024;

/**
 * Checks `pipeline` and fills in its defaults: RangeError naming the option
 * (`pipeline.workers`), its value and the range.
 *
 * @example
 * ```ts
 * import { resolvePipeline } from "./pipeline.ts";
 * console.log(resolvePipeline(undefined).pipelineQueueSize); // 64
 * ```
 */
export function resolvePipeline(options: PipelineOptions | undefined): PipelineConfig {
  const o = group("pipeline", options);
  return {
    pipelineWorkers: count("pipeline.workers", o.workers, DEFAULT_PIPELINE_WORKERS),
    pipelineQueueSize: count("pipeline.queueSize", o.queueSize, DEFAULT_PIPELINE_QUEUE_SIZE),
    pipelineTimeoutMs: duration("pipeline.timeoutMs", o.timeoutMs, DEFAULT_PIPELINE_TIMEOUT_MS),
    maxPipelineBodySize: count(
      "pipeline.maxBodySize",
      o.maxBodySize,
      DEFAULT_MAX_PIPELINE_BODY_SIZE,
    ),
  };
}
