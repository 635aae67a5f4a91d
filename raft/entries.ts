/**
 * Small helpers over log entries: a bound of their encoded size and size-limited
 * slices, shared by the log, the storage and message building.
 *
 * @module
 */

import type { Entry } from "../raftpb/mod.ts";

/** Bytes of protobuf framing an entry adds beyond its data (tags and varints, bounded). */
const ENTRY_OVERHEAD = 24;

/**
 * An upper bound of the encoded size of `e`, cheap to compute. Size limits
 * (maxSizePerMsg) are soft, so a bound is enough.
 */
export function entrySizeBound(e: Entry): number {
  return e.data.length + ENTRY_OVERHEAD;
}

/**
 * The longest prefix of `ents` whose total size stays within `maxSize`,
 * always keeping at least one entry so that progress is possible.
 */
export function limitSize(ents: Entry[], maxSize: number): Entry[] {
  if (ents.length === 0) return ents;
  let size = entrySizeBound(ents[0]);
  let n = 1;
  for (; n < ents.length; n++) {
    size += entrySizeBound(ents[n]);
    if (size > maxSize) break;
  }
  return n === ents.length ? ents : ents.slice(0, n);
}

/** Unlimited size, for callers that want every entry. */
export const NO_LIMIT = Number.MAX_SAFE_INTEGER;
