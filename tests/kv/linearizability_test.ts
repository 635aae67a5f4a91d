import { assert, assertEquals } from "@std/assert";
import { checkKv, checkKvByKey, formatResult, type Operation } from "./linearizability.ts";
import { History } from "./history.ts";
import { get, put } from "./op_builders.ts";

const verdict = (h: Operation[]) => checkKv(h).result;

Deno.test("linearizability: sequential and correctly concurrent histories pass", () => {
  assertEquals(verdict([]), "ok");
  assertEquals(verdict([get(1, "a", undefined, 0, 1)]), "ok"); // never written: not found
  assertEquals(
    verdict([
      put(1, "a", "1", 0, 1),
      get(1, "a", "1", 2, 3),
      put(1, "a", "2", 4, 5),
      get(2, "a", "2", 6, 7),
    ]),
    "ok",
  );
  // A read overlapping a write may see the old or the new value.
  for (const seen of [undefined, "1"]) {
    assertEquals(verdict([put(1, "a", "1", 0, 10), get(2, "a", seen, 1, 2)]), "ok");
  }
  // Two overlapping writes may take effect in either order, and readers agree on one.
  const both = [put(1, "a", "x", 0, 10), put(2, "a", "y", 1, 9)];
  assertEquals(verdict([...both, get(3, "a", "x", 11, 12), get(3, "a", "x", 13, 14)]), "ok");
  assertEquals(verdict([...both, get(3, "a", "y", 11, 12)]), "ok");
  // Reads concurrent with the writes may see y then x (y first, then x).
  assertEquals(verdict([...both, get(3, "a", "y", 2, 3), get(4, "a", "x", 4, 12)]), "ok");
  // Operations that touch at one instant count as concurrent.
  assertEquals(verdict([put(1, "a", "1", 0, 5), get(2, "a", undefined, 5, 6)]), "ok");
});

Deno.test("linearizability: stale read, lost write and invented value are caught", () => {
  const stale = [put(1, "a", "1", 0, 1), put(1, "a", "2", 2, 3), get(2, "a", "1", 4, 5)];
  const lost = [put(1, "a", "1", 0, 1), get(2, "a", undefined, 2, 3)];
  const invented = [put(1, "a", "1", 0, 1), get(2, "a", "zzz", 2, 3)];
  const flipBack = [
    put(1, "a", "x", 0, 10),
    put(2, "a", "y", 1, 9),
    get(3, "a", "x", 11, 12),
    get(3, "a", "y", 13, 14),
  ];
  const readersDisagree = [ // once a reader saw the new value, a later reader cannot see the old
    put(1, "a", "1", 0, 100),
    get(2, "a", "1", 10, 20),
    get(3, "a", undefined, 30, 40),
  ];
  for (const [name, h] of Object.entries({ stale, lost, invented, flipBack, readersDisagree })) {
    const r = checkKv(h);
    assertEquals(r.result, "illegal", name);
    if (r.result === "illegal") {
      assertEquals(r.key, "a");
      assert(r.longestPrefix.length < h.length, name);
    }
  }
});

Deno.test("linearizability: a put with no answer may or may not have taken effect", () => {
  const pending = put(1, "a", "1", 0);
  assertEquals(verdict([pending, get(2, "a", "1", 5, 6)]), "ok");
  assertEquals(verdict([pending, get(2, "a", undefined, 5, 6)]), "ok");
  assertEquals(verdict([pending, get(2, "a", "1", 5, 6), get(2, "a", undefined, 7, 8)]), "illegal");
  // Not before its call, though.
  assertEquals(verdict([get(2, "a", "1", 0, 1), put(1, "a", "1", 2)]), "illegal");
  // An unanswered get constrains nothing.
  assertEquals(verdict([put(1, "a", "1", 0, 1), get(2, "a", "wrong", 2)]), "ok");
});

Deno.test("linearizability: keys are independent; one bad key fails the history", () => {
  const ok = [
    put(1, "a", "1", 0, 1),
    put(1, "b", "2", 0, 1),
    get(2, "a", "1", 2, 3),
    get(2, "b", "2", 2, 3),
  ];
  const r = checkKv(ok);
  assertEquals(r.result === "ok" && r.keys, 2);
  const bad = checkKv([...ok, get(3, "b", "1", 4, 5)]);
  assertEquals(bad.result === "illegal" && bad.key, "b");
});

// A real sequential execution: each operation takes effect atomically at a random instant
// inside its own [call, return] interval, which is what a linearizable store does.
function randomHistory(seed: number, n: number, keys: number, clients: number): Operation[] {
  let s = seed >>> 0;
  const rand = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const store = new Map<string, string>();
  const ops: (Operation & { at: number })[] = [];
  const busyUntil = new Array(clients).fill(0);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(rand() * clients);
    const call = busyUntil[c] + rand() * 5;
    const ret = call + 1 + rand() * 20;
    busyUntil[c] = ret;
    const key = `k${Math.floor(rand() * keys)}`;
    const input = rand() < 0.5
      ? { op: "put" as const, key, value: `v${i}` }
      : { op: "get" as const, key };
    // Some puts are never answered: they took effect (at `at`) or were lost.
    const unknown = input.op === "put" && rand() < 0.1;
    const at = unknown && rand() < 0.5 ? Infinity : call + rand() * (ret - call);
    ops.push({ client: c, input, call, return: unknown ? undefined : ret, at });
  }
  for (const o of [...ops].sort((a, b) => a.at - b.at)) {
    if (o.at === Infinity) continue;
    if (o.input.op === "put") store.set(o.input.key, o.input.value);
    else o.output = store.get(o.input.key);
  }
  return ops.map(({ at: _at, ...o }) => o);
}

Deno.test("linearizability: random real executions (some puts unanswered) pass; a read of a future write fails", () => {
  let mutated = 0;
  for (let seed = 1; seed <= 30; seed++) {
    const h = randomHistory(seed, 300, 3, 6);
    assertEquals(verdict(h), "ok", `seed ${seed}`);
    // A get that returns a value first written after the get returned.
    const g = h.findIndex((o) =>
      o.input.op === "get" &&
      h.some((p) =>
        p.input.op === "put" && p.input.key === o.input.key && p.call > o.return! &&
        p.return !== undefined
      )
    );
    if (g < 0) continue;
    const future = h.find((p) =>
      p.input.op === "put" && p.input.key === h[g].input.key && p.call > h[g].return! &&
      p.return !== undefined
    )!;
    const bad = h.map((o, i) =>
      i === g ? { ...o, output: (future.input as { value: string }).value } : o
    );
    assertEquals(verdict(bad), "illegal", `mutated seed ${seed}`);
    mutated++;
  }
  assert(mutated >= 25, `only ${mutated} mutated histories`);
});

Deno.test("linearizability: an explosive history gives 'unknown' within the budget", () => {
  // 40 overlapping writes and a read of a value none of them wrote: the search must try
  // very many orders before it can say no. One value is written twice, so the zones
  // test (distinct values only) cannot decide and the search runs.
  const h: Operation[] = [put(99, "a", "v0", 0, 100)];
  for (let i = 0; i < 40; i++) h.push(put(i, "a", `v${i}`, 0, 100));
  for (let i = 0; i < 40; i++) h.push(get(100 + i, "a", `v${i}`, 1, 99));
  h.push(get(200, "a", "never", 101, 102));
  const t0 = performance.now();
  const r = checkKv(h, { timeoutMs: 200 });
  assertEquals(r.result, "unknown");
  assert(performance.now() - t0 < 2000);
  assertEquals(checkKv(h, { maxSteps: 1000 }).result, "unknown");
  // With distinct values the zones test answers at once.
  assertEquals(checkKv(h.slice(1), { timeoutMs: 200 }).result, "illegal");
});

Deno.test("history: records calls, answers and unknown outcomes", () => {
  let now = 0;
  const h = new History(() => now++);
  const a = h.begin(1, { op: "put", key: "a", value: "1" });
  const b = h.begin(2, { op: "get", key: "a" });
  const c = h.begin(3, { op: "put", key: "a", value: "2" }); // never answered
  h.end(a);
  h.end(b, "1");
  const ops = h.operations();
  assertEquals(ops.map((o) => [o.call, o.return, o.output]), [[0, 3, undefined], [1, 4, "1"], [
    2,
    undefined,
    undefined,
  ]]);
  assertEquals(h.acknowledgedPuts().length, 1);
  assertEquals(c, 2);
  assertEquals(checkKv(ops).result, "ok");
});

Deno.test("linearizability: formatResult explains each verdict", () => {
  const bad = checkKv([put(1, "a", "1", 0, 1), get(2, "a", undefined, 2, 3), put(3, "a", "2", 4)]);
  const text = formatResult(bad);
  assertEquals(text.split("\n")[0], 'illegal on key "a" (3 operations, 1 placed)');
  assert(text.includes('+ client 1 [0.0, 1.0] put "1"'), text);
  assert(text.includes("  client 2 [2.0, 3.0] get -> not found"), text);
  assert(text.includes("no answer"), text);
  assertEquals(formatResult(checkKv([put(1, "a", "1", 0, 1)])), "ok: 1 operations on 1 keys");
  assert(formatResult({ result: "unknown", reason: "r" }).startsWith("unknown"));
});

Deno.test("linearizability: checkKvByKey gives every key's verdict, not only the first bad one", () => {
  const h = [
    put(1, "a", "1", 0, 1),
    get(2, "a", undefined, 2, 3), // misses the acknowledged write
    put(1, "b", "2", 0, 1),
    get(2, "b", "2", 2, 3),
    put(1, "c", "3", 0, 1),
    get(2, "c", "4", 2, 3), // a value never written
  ];
  const v = checkKvByKey(h);
  assertEquals([...v].map(([k, r]) => [k, r.result]), [["a", "illegal"], ["b", "ok"], [
    "c",
    "illegal",
  ]]);
  assertEquals(checkKv(h).result, "illegal");
});
