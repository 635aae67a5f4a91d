/**
 * Where to cut the log after a snapshot: keep `keep` entries behind the
 * applied index for followers that are a little behind (raftexample's
 * `snapshotCatchUpEntriesN`), so that only those far behind need the
 * snapshot.
 *
 * @module
 */

/**
 * The index to compact the log to, or undefined if the log already starts
 * after it.
 *
 * @example
 * ```ts
 * import { compactIndexFor } from "./snapshot_policy.ts";
 * console.log(compactIndexFor(25000n, 10000, 1n)); // 15000n
 * console.log(compactIndexFor(500n, 10000, 1n)); // undefined
 * ```
 */
export function compactIndexFor(
  applied: bigint,
  keep: number,
  firstIndex: bigint,
): bigint | undefined {
  const target = applied - BigInt(keep);
  return target >= firstIndex ? target : undefined;
}
