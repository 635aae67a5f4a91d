/**
 * A linearizability checker for histories of a key-value store (Wing & Gong's
 * search with Lowe's memoization, as Porcupine does it): is there one order
 * of the operations, each placed between its call and its return, in which
 * every get returns the latest put? Keys are independent registers, so the
 * history is checked key by key (P-compositionality), which keeps each
 * search small. When every put of a key writes a distinct value, a linear
 * test decides instead (Gibbons & Korach's zones, register_zones.ts); the
 * search then runs only to explain a failure.
 *
 * An operation whose outcome is unknown (the client gave up: timeout, a
 * killed member) has no return time: a put may have taken effect at any
 * point after its call, or never; a get without an answer constrains nothing.
 *
 * @module
 */

import type { Operation } from "./operation.ts";
import { zonesVerdict } from "./register_zones.ts";

export type { KvInput, Operation } from "./operation.ts";

/** The verdict: "ok", "illegal" (with the key and why), or "unknown" (budget exhausted). */
export type CheckResult =
  | { result: "ok"; keys: number; operations: number }
  | { result: "illegal"; key: string; operations: Operation[]; longestPrefix: Operation[] }
  | { result: "unknown"; reason: string };

/** Limits that make the checker answer "unknown" instead of running on. */
export interface CheckBudget {
  /** Wall-clock limit for the whole history, in milliseconds (default 10 000). */
  timeoutMs?: number;
  /** Search steps per key (default 5 000 000). */
  maxSteps?: number;
  /** Decide distinct-value keys with the zones test (default true; false: always search). */
  zones?: boolean;
}

interface Event {
  op: number; // index into the key's operations
  isCall: boolean;
  time: number;
  prev: Event | undefined;
  next: Event | undefined;
  match: Event | undefined; // call <-> return
}

/**
 * Checks `history` for linearizability with a key-value register per key.
 *
 * @example
 * ```ts
 * import { checkKv } from "./linearizability.ts";
 * const r = checkKv([
 *   { client: 1, input: { op: "put", key: "a", value: "1" }, call: 0, return: 2 },
 *   { client: 2, input: { op: "get", key: "a" }, call: 3, return: 4, output: undefined },
 * ]);
 * console.log(r.result); // "illegal": the read after the acknowledged write missed it
 * ```
 */
export function checkKv(history: readonly Operation[], budget: CheckBudget = {}): CheckResult {
  const deadline = performance.now() + (budget.timeoutMs ?? 10_000);
  const maxSteps = budget.maxSteps ?? 5_000_000;
  const byKey = groupByKey(history);
  for (const [key, ops] of byKey) {
    // Distinct written values (the usual test history): the linear zones test decides.
    const fast = budget.zones === false ? undefined : zonesVerdict(ops);
    if (fast === true) continue;
    const { prepared, original } = boundUnanswered(ops);
    const r = checkRegister(prepared, deadline, maxSteps);
    if (fast === false && typeof r === "string") { // the search only explains the failure
      return { result: "illegal", key, operations: ops, longestPrefix: [] };
    }
    if (r === "timeout") {
      return { result: "unknown", reason: `time budget exhausted on key ${key}` };
    }
    if (r === "steps") return { result: "unknown", reason: `step budget exhausted on key ${key}` };
    if (r !== true) {
      const longestPrefix = r.map((o) => original.get(o) ?? o);
      return { result: "illegal", key, operations: ops, longestPrefix };
    }
  }
  return { result: "ok", keys: byKey.size, operations: history.length };
}

// The operations of each key; unanswered reads constrain nothing and are left out.
function groupByKey(history: readonly Operation[]): Map<string, Operation[]> {
  const byKey = new Map<string, Operation[]>();
  for (const op of history) {
    if (op.input.op === "get" && op.return === undefined) continue;
    const list = byKey.get(op.input.key) ?? [];
    list.push(op);
    byKey.set(op.input.key, list);
  }
  return byKey;
}

/**
 * Checks each key on its own (with `budget` for each) and gives every key's
 * verdict: {@link checkKv} stops at the first illegal key, a campaign report
 * counts them all.
 *
 * @example
 * ```ts
 * import { checkKvByKey } from "./linearizability.ts";
 * const verdicts = checkKvByKey([
 *   { client: 1, input: { op: "put", key: "a", value: "1" }, call: 0, return: 1 },
 *   { client: 1, input: { op: "get", key: "a" }, call: 2, return: 3, output: undefined },
 *   { client: 1, input: { op: "get", key: "b" }, call: 2, return: 3, output: undefined },
 * ]);
 * console.log(verdicts.get("a")?.result, verdicts.get("b")?.result); // illegal ok
 * ```
 */
export function checkKvByKey(
  history: readonly Operation[],
  budget: CheckBudget = {},
): Map<string, CheckResult> {
  const out = new Map<string, CheckResult>();
  for (const [key, ops] of groupByKey(history)) out.set(key, checkKv(ops, budget));
  return out;
}

// An unanswered put may take effect at any time after its call, which makes
// the search branch at every step. When its value is written by no other
// put of the key, two rewrites keep the verdict and remove that cost: if no
// read saw the value, the put is dropped (placed last, it explains the same
// history); otherwise it must precede every read that saw it, so it returns
// by the earliest such read's return.
function boundUnanswered(ops: Operation[]) {
  const writers = new Map<string, number>();
  const firstSeen = new Map<string, number>();
  for (const o of ops) {
    if (o.input.op === "put") writers.set(o.input.value, (writers.get(o.input.value) ?? 0) + 1);
    else if (o.output !== undefined && o.return !== undefined) {
      firstSeen.set(o.output, Math.min(firstSeen.get(o.output) ?? Infinity, o.return));
    }
  }
  const prepared: Operation[] = [];
  const original = new Map<Operation, Operation>();
  for (const o of ops) {
    if (o.input.op !== "put" || o.return !== undefined || writers.get(o.input.value) !== 1) {
      prepared.push(o);
      continue;
    }
    const seen = firstSeen.get(o.input.value);
    if (seen === undefined) continue;
    const bounded = { ...o, return: seen };
    original.set(bounded, o);
    prepared.push(bounded);
  }
  return { prepared, original };
}

// Call and return events in time order; at equal times calls come first, so
// operations that touch in time count as concurrent (the permissive reading).
function eventList(ops: readonly Operation[]): Event {
  const events: Event[] = [];
  ops.forEach((o, i) => {
    const call: Event = {
      op: i,
      isCall: true,
      time: o.call,
      prev: undefined,
      next: undefined,
      match: undefined,
    };
    const ret: Event = {
      op: i,
      isCall: false,
      time: o.return ?? Infinity,
      prev: undefined,
      next: undefined,
      match: call,
    };
    call.match = ret;
    events.push(call, ret);
  });
  events.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? 0 : a.isCall ? -1 : 1));
  const head: Event = {
    op: -1,
    isCall: false,
    time: -Infinity,
    prev: undefined,
    next: undefined,
    match: undefined,
  };
  let last = head;
  for (const e of events) {
    e.prev = last;
    last.next = e;
    last = e;
  }
  return head;
}

function lift(call: Event): void {
  call.prev!.next = call.next;
  if (call.next) call.next.prev = call.prev;
  const ret = call.match!;
  ret.prev!.next = ret.next;
  if (ret.next) ret.next.prev = ret.prev;
}

function unlift(call: Event): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next) ret.next.prev = ret;
  call.prev!.next = call;
  if (call.next) call.next.prev = call;
}

// The register model: a put always succeeds; a get must read the current value.
function step(state: string | undefined, op: Operation): [boolean, string | undefined] {
  if (op.input.op === "put") return [true, op.input.value];
  return [op.output === state, state];
}

/** Searches one key's history: true, the longest linearizable prefix, or a budget reason. */
function checkRegister(
  ops: readonly Operation[],
  deadline: number,
  maxSteps: number,
): true | Operation[] | "timeout" | "steps" {
  const head = eventList(ops);
  const set = new LinearizedSet(ops.length);
  const seen = new Set<string>();
  const stack: { call: Event; state: string | undefined }[] = [];
  let best: Operation[] = [];
  let state: string | undefined = undefined;
  let entry = head.next;
  for (let steps = 0; entry !== undefined; steps++) {
    if (steps >= maxSteps) return "steps";
    if ((steps & 0x3ff) === 0 && performance.now() > deadline) return "timeout";
    if (!entry.isCall) {
      // A pending put's return: every answered operation is placed; the rest can go last.
      if (entry.time === Infinity) return true;
      // Backtracking: remember the deepest placement reached, for the report.
      if (stack.length > best.length) best = stack.map((s) => ops[s.call.op]);
      const top = stack.pop();
      if (top === undefined) return best;
      set.flip(top.call.op);
      state = top.state;
      unlift(top.call);
      entry = top.call.next;
      continue;
    }
    const [ok, next] = step(state, ops[entry.op]);
    if (ok) {
      set.flip(entry.op);
      const key = `${set.h1}:${set.h2}|${next === undefined ? "\u0000" : "=" + next}`;
      if (!seen.has(key)) {
        seen.add(key);
        stack.push({ call: entry, state });
        state = next;
        lift(entry);
        entry = head.next;
        continue;
      }
      set.flip(entry.op);
    }
    entry = entry.next;
  }
  return true;
}

// The set of linearized operations, identified by a 64-bit Zobrist hash
// (XOR of a random word pair per member) kept up to date in O(1) per flip.
// Two different sets colliding is a 1 in 2^64 event per comparison.
class LinearizedSet {
  h1 = 0;
  h2 = 0;
  #keys: Uint32Array;

  constructor(n: number) {
    this.#keys = new Uint32Array(2 * n);
    let x = 0x9e3779b9;
    for (let i = 0; i < this.#keys.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.#keys[i] = x >>> 0;
    }
  }

  flip(i: number): void {
    this.h1 = (this.h1 ^ this.#keys[2 * i]) >>> 0;
    this.h2 = (this.h2 ^ this.#keys[2 * i + 1]) >>> 0;
  }
}

/**
 * A readable account of a verdict: for "illegal", the key's operations in
 * call order (the first `limit`), each marked with whether the longest
 * linearization found could place it.
 *
 * @example
 * ```ts
 * import { checkKv, formatResult } from "./linearizability.ts";
 * const r = checkKv([{ client: 1, input: { op: "get", key: "a" }, call: 0, return: 1, output: "x" }]);
 * console.log(formatResult(r).split("\n")[0]); // illegal on key "a" (1 operations, 0 placed)
 * ```
 */
export function formatResult(r: CheckResult, limit = 40): string {
  if (r.result === "ok") return `ok: ${r.operations} operations on ${r.keys} keys`;
  if (r.result === "unknown") return `unknown: ${r.reason}`;
  const placed = new Set(r.longestPrefix);
  const ops = [...r.operations].sort((a, b) => a.call - b.call);
  const lines = [`illegal on key "${r.key}" (${ops.length} operations, ${placed.size} placed)`];
  for (const o of ops.slice(0, limit)) {
    const what = o.input.op === "put"
      ? `put ${JSON.stringify(o.input.value)}`
      : `get -> ${o.output === undefined ? "not found" : JSON.stringify(o.output)}`;
    const ret = o.return === undefined ? "no answer" : o.return.toFixed(1);
    lines.push(
      `  ${placed.has(o) ? "+" : " "} client ${o.client} [${o.call.toFixed(1)}, ${ret}] ${what}`,
    );
  }
  if (ops.length > limit) lines.push(`  ... ${ops.length - limit} more`);
  return lines.join("\n");
}
