/**
 * The campaign's verdicts on a run: the history, final reads included, is
 * linearizable key by key (tests/kv/linearizability.ts, with its budget and
 * "could not decide"); every acknowledged write of a key nobody overwrites
 * is readable after the last heal; and how long the cluster took, after
 * each heal, to acknowledge a write again.
 *
 * @module
 */

import { checkKvByKey, formatResult, type Operation } from "../kv/linearizability.ts";
import type { FaultRecord } from "./timeline.ts";
import { witness } from "./witness.ts";

/** One key whose history is not linearizable. */
export interface IllegalKey {
  key: string;
  /** The key is one client's own (written once): its acknowledged write was lost. */
  own: boolean;
  explanation: string;
}

/** What the checks found. */
export interface Verdicts {
  keys: number;
  illegal: IllegalKey[];
  /** Keys the checker could not decide within its budget. */
  undecided: { key: string; reason: string }[];
  /** Acknowledged writes of own keys that the final read did not find. */
  lostWrites: { key: string; value: string; found: string | null }[];
  /** Own keys whose final read failed: their write could not be checked. */
  unverified: string[];
}

/** Per-key budget of the checker, ms. */
const KEY_BUDGET_MS = 5000;

/**
 * Checks `history` (which ends with the final reads) and the own keys:
 * `ackedOwn` their acknowledged values, `finalOwn` what the final reads found
 * (undefined: the read failed).
 *
 * @example
 * ```ts
 * import { checkRun } from "./check.ts";
 * const v = checkRun(
 *   [
 *     { client: 1, input: { op: "put", key: "/own-1", value: "x" }, call: 0, return: 1 },
 *     { client: 0, input: { op: "get", key: "/own-1" }, call: 5, return: 6, output: undefined },
 *   ],
 *   new Map([["/own-1", "x"]]),
 *   new Map([["/own-1", null]]),
 * );
 * console.log(v.lostWrites.length, v.illegal.length); // 1 1
 * ```
 */
export function checkRun(
  history: readonly Operation[],
  ackedOwn: ReadonlyMap<string, string>,
  finalOwn: ReadonlyMap<string, string | null | undefined>,
): Verdicts {
  const v: Verdicts = { keys: 0, illegal: [], undecided: [], lostWrites: [], unverified: [] };
  for (const [key, r] of checkKvByKey(history, { timeoutMs: KEY_BUDGET_MS })) {
    v.keys++;
    if (r.result === "illegal") {
      const why = witness(r.operations);
      const explanation = why === undefined
        ? formatResult(r, 30)
        : `illegal on key "${key}": ${why}`;
      v.illegal.push({ key, own: ackedOwn.has(key), explanation });
    } else if (r.result === "unknown") v.undecided.push({ key, reason: r.reason });
  }
  for (const [key, value] of ackedOwn) {
    const found = finalOwn.get(key);
    if (found === undefined) v.unverified.push(key);
    else if (found !== value) v.lostWrites.push({ key, value, found });
  }
  return v;
}

/** The time from a fault's heal to the first write acknowledged after it. */
export interface Recovery {
  n: number;
  kind: string;
  healAt: number;
  /** null: no write was acknowledged after the heal until the end. */
  ms: number | null;
}

/**
 * For every applied fault that had a heal: how long until a write was
 * acknowledged again.
 *
 * @example
 * ```ts
 * import { recoveries } from "./check.ts";
 * const r = recoveries(
 *   [{ n: 1, kind: "kill", plannedAt: 0, start: 0, end: 10, slots: [1], outcome: "applied", detail: "" }],
 *   [{ client: 1, input: { op: "put", key: "k", value: "v" }, call: 8, return: 14 }],
 * );
 * console.log(r[0].ms); // 4
 * ```
 */
export function recoveries(
  faults: readonly FaultRecord[],
  history: readonly Operation[],
): Recovery[] {
  const acks = history.filter((o) => o.input.op === "put" && o.return !== undefined)
    .map((o) => o.return!).sort((a, b) => a - b);
  return faults.filter((f) => f.outcome === "applied" && f.end !== undefined && f.end > f.start)
    .map((f) => {
      const i = lowerBound(acks, f.end!);
      return {
        n: f.n,
        kind: f.kind,
        healAt: f.end!,
        ms: i < acks.length ? acks[i] - f.end! : null,
      };
    });
}

function lowerBound(sorted: number[], x: number): number {
  let [lo, hi] = [0, sorted.length];
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Median, 90th percentile and maximum of the known recovery times, ms. */
export function recoveryStats(
  r: Recovery[],
): { count: number; never: number; p50?: number; p90?: number; max?: number } {
  const ms = r.flatMap((x) => x.ms === null ? [] : [x.ms]).sort((a, b) => a - b);
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))];
  return ms.length === 0 ? { count: 0, never: r.length } : {
    count: ms.length,
    never: r.length - ms.length,
    p50: at(0.5),
    p90: at(0.9),
    max: ms[ms.length - 1],
  };
}
