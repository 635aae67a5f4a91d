import { assert, assertEquals } from "@std/assert";
import type { Operation } from "../kv/linearizability.ts";
import { get, put } from "../kv/op_builders.ts";
import { checkRun, recoveries, recoveryStats } from "./check.ts";
import { witness } from "./witness.ts";
import type { FaultRecord } from "./timeline.ts";

// A clean history: two writers, readers that see the latest, an unknown put, and final reads.
const clean: Operation[] = [
  put(1, "/k1", "a", 0, 10),
  put(2, "/k1", "b", 5, 20),
  get(3, "/k1", "b", 21, 25),
  put(1, "/k1", "c", 30), // no answer: it may or may not have applied
  get(3, "/k1", "b", 31, 33),
  put(2, "/own-2-5", "o2-5", 12, 18),
  get(0, "/k1", "c", 100, 101), // final reads
  get(0, "/own-2-5", "o2-5", 100, 102),
];

Deno.test("check: a clean history has no anomaly", () => {
  const v = checkRun(clean, new Map([["/own-2-5", "o2-5"]]), new Map([["/own-2-5", "o2-5"]]));
  assertEquals(v.illegal, []);
  assertEquals(v.lostWrites, []);
  assertEquals(v.keys, 2);
});

Deno.test("check: a lost acknowledged write is flagged, as a lost write and a non-linearizable key", () => {
  const lost = clean.map((o) =>
    o.input.key === "/own-2-5" && o.input.op === "get" ? { ...o, output: undefined } : o
  );
  const v = checkRun(lost, new Map([["/own-2-5", "o2-5"]]), new Map([["/own-2-5", null]]));
  assertEquals(v.lostWrites, [{ key: "/own-2-5", value: "o2-5", found: null }]);
  assertEquals(v.illegal.map((i) => [i.key, i.own]), [["/own-2-5", true]]);
  assert(v.illegal[0].explanation.includes("stale read"), v.illegal[0].explanation);
  // A final read that failed leaves the write unverified, not lost.
  const u = checkRun(clean, new Map([["/own-2-5", "o2-5"]]), new Map([["/own-2-5", undefined]]));
  assertEquals([u.lostWrites.length, u.unverified], [0, ["/own-2-5"]]);
});

Deno.test("check: a stale read is flagged with the write it missed", () => {
  const stale = [...clean, get(4, "/k1", "a", 26, 28)]; // "b" was acknowledged at 20
  const v = checkRun(stale, new Map(), new Map());
  assertEquals(v.illegal.map((i) => i.key), ["/k1"]);
  const text = v.illegal[0].explanation;
  assert(text.includes('get -> "a"') && text.includes('put "b"'), text);
});

Deno.test("witness: future reads, never-written values, reads of nothing after a write", () => {
  assert(witness([get(1, "k", "x", 0, 1)])?.startsWith("read of a value never written"));
  assert(
    witness([get(1, "k", "x", 0, 1), put(2, "k", "x", 2, 3)])?.startsWith("read from the future"),
  );
  assert(witness([put(1, "k", "x", 0, 1), get(2, "k", undefined, 2, 3)])?.startsWith("stale read"));
  // Concurrent operations are not a violation.
  assertEquals(
    witness([put(1, "k", "x", 0, 5), get(2, "k", undefined, 1, 2), get(2, "k", "x", 3, 4)]),
    undefined,
  );
  assertEquals(
    witness([put(1, "k", "x", 0, 1), put(2, "k", "y", 0, 3), get(3, "k", "x", 2, 4)]),
    undefined,
  );
});

Deno.test("recoveries: from each heal to the next acknowledged write; none when no write followed", () => {
  const f = (
    n: number,
    start: number,
    end: number,
    outcome: FaultRecord["outcome"] = "applied",
  ): FaultRecord => ({
    n,
    kind: "kill",
    plannedAt: start,
    start,
    end,
    slots: [1],
    outcome,
    detail: "",
  });
  const h = [
    put(1, "k", "1", 0, 5),
    put(1, "k", "2", 6, 40),
    put(1, "k", "3", 41),
    get(2, "k", "2", 50, 60),
  ];
  const r = recoveries(
    [f(1, 1, 2), f(2, 10, 30), f(3, 45, 50), f(4, 3, 3), f(5, 1, 9, "skipped")],
    h,
  );
  assertEquals(r.map((x) => [x.n, x.ms]), [[1, 3], [2, 10], [3, null]]);
  assertEquals(recoveryStats(r), { count: 2, never: 1, p50: 10, p90: 10, max: 10 });
});
