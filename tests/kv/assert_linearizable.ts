// The check both KV process tests end with: the clients' history is
// linearizable, and the same history with one answered read changed to a
// value never written is refused, so the check has teeth on this very history.
import { assertEquals } from "@std/assert";
import { checkKv, formatResult, type Operation } from "./linearizability.ts";

/** Asserts `ops` linearizable, and a one-read mutation of it not. */
export function assertLinearizable(ops: readonly Operation[]): void {
  const verdict = checkKv(ops, { timeoutMs: 20_000 });
  assertEquals(verdict.result, "ok", formatResult(verdict));
  const i = ops.findLastIndex((o) => o.input.op === "get" && o.return !== undefined);
  const bad = ops.map((o, j) => j === i ? { ...o, output: "never-written" } : o);
  assertEquals(checkKv(bad, { timeoutMs: 20_000 }).result, "illegal");
}
