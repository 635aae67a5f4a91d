/**
 * The options of 0.1 that moved into a group in 0.2. TypeScript flags them
 * in an object literal, but not in a spread or in JavaScript, where they
 * would be ignored without a word: the transport refuses them instead, and
 * says where each went.
 *
 * @module
 */

/**
 * Each option of 0.1 that moved, and its path in 0.2.
 *
 * @example
 * ```ts
 * import { MOVED_OPTIONS } from "./moved.ts";
 * console.log(MOVED_OPTIONS.streamQueueSize); // stream.queueSize
 * ```
 */
export const MOVED_OPTIONS: Readonly<Record<string, string>> = {
  dialTimeoutMs: "stream.dialTimeoutMs",
  linkHeartbeatIntervalMs: "stream.linkHeartbeatIntervalMs",
  streamReadTimeoutMs: "stream.readTimeoutMs",
  streamWriteTimeoutMs: "stream.writeTimeoutMs",
  redialMinMs: "stream.redialMinMs",
  redialMaxMs: "stream.redialMaxMs",
  streamQueueSize: "stream.queueSize",
  streamChunkSize: "stream.chunkSize",
  pipelineWorkers: "pipeline.workers",
  pipelineQueueSize: "pipeline.queueSize",
  pipelineTimeoutMs: "pipeline.timeoutMs",
  maxPipelineBodySize: "pipeline.maxBodySize",
  snapshotSink: "snapshot.sink",
  snapshotDir: "snapshot.dir",
  snapshotSpoolSize: "snapshot.spoolSize",
  snapshotProgressTimeoutMs: "snapshot.progressTimeoutMs",
  snapshotResponseTimeoutMs: "snapshot.responseTimeoutMs",
  maxConcurrentSnapshotReceives: "snapshot.maxConcurrentReceives",
  maxSnapshotEnvelopeSize: "snapshot.maxEnvelopeSize",
  tls: "security.tls",
  auth: "security.auth",
  maxFrameSize: "limits.maxFrameSize",
  maxRemotes: "limits.maxRemotes",
  receiveQueueSize: "limits.receiveQueueSize",
};

/**
 * The message for the first option of 0.1 in `options`, naming where it
 * moved; undefined when there is none.
 *
 * @example
 * ```ts
 * import { movedOption } from "./moved.ts";
 * console.log(movedOption({ pipelineWorkers: 8 })); // pipelineWorkers moved to pipeline.workers in 0.2: pass { pipeline: { workers: ... } }
 * console.log(movedOption({ pipeline: { workers: 8 } })); // undefined
 * ```
 */
export function movedOption(options: object): string | undefined {
  if (Object.hasOwn(options, "snapshotResume")) {
    return "snapshotResume moved to the extensions option in 0.2: pass " +
      "{ extensions: [snapshotResume({ ... })] } (it is on by default; [] turns it off)";
  }
  for (const old of Object.keys(options)) {
    const path = Object.hasOwn(MOVED_OPTIONS, old) ? MOVED_OPTIONS[old] : undefined;
    if (path === undefined) continue;
    const [group, name] = path.split(".");
    return `${old} moved to ${path} in 0.2: pass { ${group}: { ${name}: ... } }`;
  }
  return undefined;
}
