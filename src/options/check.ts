/**
 * The checks every option group shares: a count, a duration, a group that
 * must be an object. Errors name the option's path (`stream.chunkSize`),
 * its value and the allowed range, so that a bad value is found at once.
 *
 * @module
 */

/**
 * The longest delay timers take (setTimeout fires at once beyond it).
 *
 * @example
 * ```ts
 * import { MAX_TIMER_MS } from "./check.ts";
 * console.log(MAX_TIMER_MS); // 2147483647
 * ```
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A count or size: an integer of at least 1, else a RangeError naming
 * `path`; `dflt` when not given.
 *
 * @example
 * ```ts
 * import { count } from "./check.ts";
 * console.log(count("stream.queueSize", undefined, 4096)); // 4096
 * try {
 *   count("stream.queueSize", 0, 4096);
 * } catch (e) {
 *   console.log((e as Error).message); // stream.queueSize must be an integer from 1 to 2^53-1, got 0
 * }
 * ```
 */
export function count(path: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v < 1) {
    throw new RangeError(`${path} must be an integer from 1 to 2^53-1, got ${v}`);
  }
  return v;
}

/**
 * A duration in ms: above 0 (or 0 where `zeroMeans` says what 0 does) and
 * within timer range, else a RangeError naming `path`; `dflt` when not given.
 *
 * @example
 * ```ts
 * import { duration } from "./check.ts";
 * console.log(duration("probeIntervalMs", 0, 4000, "no probing")); // 0
 * console.log(duration("pipeline.timeoutMs", undefined, 30_000)); // 30000
 * ```
 */
export function duration(
  path: string,
  v: number | undefined,
  dflt: number,
  zeroMeans?: string,
): number {
  if (v === undefined) return dflt;
  if (v === 0 && zeroMeans !== undefined) return 0;
  if (typeof v !== "number" || !(v > 0 && v <= MAX_TIMER_MS)) {
    const low = zeroMeans === undefined ? "above 0" : `0 (${zeroMeans}) or above`;
    throw new RangeError(
      `${path} must be a number of ms ${low}, at most ${MAX_TIMER_MS}, got ${v}`,
    );
  }
  return v;
}

/**
 * An option group (`stream`, `pipeline`, ...): an object or absent, else a
 * TypeError naming it. Absent reads as `{}`, every default.
 *
 * @example
 * ```ts
 * import { group } from "./check.ts";
 * console.log(group("stream", undefined)); // {}
 * console.log(group("stream", { queueSize: 8 }).queueSize); // 8
 * ```
 */
export function group<T extends object>(path: string, v: T | undefined): T {
  if (v === undefined) return {} as T;
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new TypeError(`${path} must be an object of options, got ${String(v)}`);
  }
  return v;
}
