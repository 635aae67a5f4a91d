/**
 * The two stream types and their URL paths, in one place for the reader
 * (which dials them) and the receiver (which answers them).
 *
 * @module
 */

/**
 * The two stream types: `message` (length-prefixed Messages, path
 * `/raft/stream/message`) and `msgappv2` (path `/raft/stream/msgapp`).
 *
 * @example
 * ```ts
 * import type { StreamType } from "@rafthttp/rafthttp";
 * const types: StreamType[] = ["message", "msgappv2"];
 * console.log(types.length); // 2
 * ```
 */
export type StreamType = "message" | "msgappv2";

/** Every stream type, in a fixed order. */
export const STREAM_TYPES: readonly StreamType[] = ["message", "msgappv2"];

/** The URL path prefix of all streams. */
export const STREAM_PREFIX = "/raft/stream/";

/** The path segment of each stream type (msgappv2 lives under "msgapp"). */
const SEGMENT: Record<StreamType, string> = { message: "message", msgappv2: "msgapp" };

/** The path a member dials to read `type` from a peer: `/raft/stream/<type>/<our id hex>`. */
export function streamPath(type: StreamType, localIdHex: string): string {
  return `${STREAM_PREFIX}${SEGMENT[type]}/${localIdHex}`;
}

/**
 * Splits a stream path into its type and the dialler's id text; undefined
 * type when the segment names no stream type.
 */
export function parseStreamPath(path: string): { type: StreamType | undefined; from: string } {
  const slash = path.lastIndexOf("/");
  const segment = slash > STREAM_PREFIX.length ? path.slice(STREAM_PREFIX.length, slash) : "";
  return { type: STREAM_TYPES.find((t) => SEGMENT[t] === segment), from: path.slice(slash + 1) };
}
