/**
 * A fast linearizability test for one key when every put writes a distinct
 * value (Gibbons & Korach's zones): group each put with the reads that saw
 * its value (a cluster; reads of "not found" see a virtual put before all
 * time). A cluster's zone runs from the earliest return to the latest call
 * among its operations: "forward" when that return comes first, "backward"
 * otherwise. The history is linearizable iff every read's value was written
 * by a put called no later than the read returned, no two forward zones
 * overlap, and no backward zone lies inside a forward one. Linear after
 * sorting, where the general search is exponential in the worst case.
 *
 * @module
 */

import type { Operation } from "./operation.ts";

interface Zone {
  from: number;
  to: number;
  forward: boolean;
}

/**
 * The verdict for one key's operations (answered gets, puts possibly
 * unanswered), or undefined when two puts write the same value.
 *
 * @example
 * ```ts
 * import { zonesVerdict } from "./register_zones.ts";
 * const ok = zonesVerdict([
 *   { client: 1, input: { op: "put", key: "a", value: "1" }, call: 0, return: 2 },
 *   { client: 2, input: { op: "get", key: "a" }, call: 3, return: 4, output: "1" },
 * ]);
 * console.log(ok); // true
 * ```
 */
export function zonesVerdict(ops: readonly Operation[]): boolean | undefined {
  const clusters = new Map<string | undefined, { call: number; ret: number; ops: number }>();
  clusters.set(undefined, { call: -Infinity, ret: -Infinity, ops: 0 }); // the initial "not found"
  for (const o of ops) {
    if (o.input.op !== "put") continue;
    if (clusters.has(o.input.value)) return undefined;
    clusters.set(o.input.value, { call: o.call, ret: o.return ?? Infinity, ops: 0 });
  }
  const zones = new Map<string | undefined, { minReturn: number; maxCall: number }>();
  for (const [v, w] of clusters) zones.set(v, { minReturn: w.ret, maxCall: w.call });
  for (const o of ops) {
    if (o.input.op !== "get" || o.return === undefined) continue;
    const writer = clusters.get(o.output);
    if (writer === undefined || writer.call > o.return) return false; // never or not yet written
    writer.ops++;
    const z = zones.get(o.output)!;
    z.minReturn = Math.min(z.minReturn, o.return);
    z.maxCall = Math.max(z.maxCall, o.call);
  }
  const all: Zone[] = [];
  for (const [v, z] of zones) {
    const w = clusters.get(v)!;
    if (w.ops === 0 && (v === undefined || w.ret === Infinity)) continue; // constrains nothing
    const forward = z.minReturn < z.maxCall;
    all.push(
      forward
        ? { from: z.minReturn, to: z.maxCall, forward }
        : { from: z.maxCall, to: z.minReturn, forward },
    );
  }
  return zonesCompatible(all);
}

// No two forward zones overlap; no backward zone lies inside a forward one.
function zonesCompatible(zones: Zone[]): boolean {
  const forward = zones.filter((z) => z.forward).sort((a, b) => a.from - b.from);
  for (let i = 1; i < forward.length; i++) {
    if (forward[i].from < forward[i - 1].to) return false;
  }
  for (const b of zones) {
    if (b.forward) continue;
    // The forward zone starting last at or before b.from is the only one that can hold b.
    let lo = 0, hi = forward.length - 1, at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (forward[mid].from < b.from) {
        at = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (at >= 0 && b.to < forward[at].to) return false;
  }
  return true;
}
