/**
 * A short reason a key's history is not linearizable, when the key's puts
 * write distinct values: a read that returned a value although another
 * write was acknowledged after that value was written and before the read
 * began (a stale read, or at the end a lost write), or a read of a value
 * written only after the read returned, or of a value never written.
 *
 * @module
 */

import type { Operation } from "../kv/linearizability.ts";

const show = (o: Operation) =>
  `client ${o.client} [${o.call.toFixed(1)}, ${o.return?.toFixed(1) ?? "no answer"}] ` +
  (o.input.op === "put"
    ? `put ${JSON.stringify(o.input.value)}`
    : `get -> ${o.output === undefined ? "not found" : JSON.stringify(o.output)}`);

/**
 * The first violation found in one key's operations, or undefined (none of
 * these shapes; the full search still decides).
 *
 * @example
 * ```ts
 * import { witness } from "./witness.ts";
 * const w = witness([
 *   { client: 1, input: { op: "put", key: "a", value: "1" }, call: 0, return: 1 },
 *   { client: 1, input: { op: "put", key: "a", value: "2" }, call: 2, return: 3 },
 *   { client: 2, input: { op: "get", key: "a" }, call: 4, return: 5, output: "1" },
 * ]);
 * console.log(w?.startsWith("stale read")); // true
 * ```
 */
export function witness(ops: readonly Operation[]): string | undefined {
  const writer = new Map<string, Operation>();
  for (const o of ops) if (o.input.op === "put") writer.set(o.input.value, o);
  // Acknowledged puts by call time, with the earliest return among those called at or after each.
  const acked = ops.filter((o) => o.input.op === "put" && o.return !== undefined)
    .sort((a, b) => a.call - b.call);
  const minReturnFrom = new Array<number>(acked.length + 1).fill(Infinity);
  for (let i = acked.length - 1; i >= 0; i--) {
    minReturnFrom[i] = Math.min(acked[i].return!, minReturnFrom[i + 1]);
  }
  const reads = ops.filter((o) => o.input.op === "get" && o.return !== undefined)
    .sort((a, b) => a.call - b.call);
  for (const g of reads) {
    const w = g.output === undefined ? undefined : writer.get(g.output);
    if (g.output !== undefined && w === undefined) {
      return `read of a value never written: ${show(g)}`;
    }
    if (w !== undefined && w.call > g.return!) {
      return `read from the future: ${show(g)} before ${show(w)}`;
    }
    const after = w === undefined ? -Infinity : w.return ?? Infinity;
    let i = acked.findIndex((p) => p.call > after);
    if (i < 0 || minReturnFrom[i] >= g.call) continue;
    while (acked[i].return! >= g.call) i++;
    const p = acked[i];
    const what = w === undefined ? "nothing" : show(w);
    return `stale read: ${show(g)}; it returned ${what}, but ${
      show(p)
    } was acknowledged after that and before the read began`;
  }
  return undefined;
}
