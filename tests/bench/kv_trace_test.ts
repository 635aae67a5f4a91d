import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import {
  clientFigures,
  formatTraceTables,
  parseTraceFlags,
  TraceFlagError,
} from "../../bench/kv_trace.ts";
import {
  parseTraceLines,
  type StepSummary,
  summarize,
  tracePuts,
  type TraceRecord,
} from "../../bench/trace_analysis.ts";

Deno.test("kv-trace flags: defaults, both spellings, and errors that name the flag", () => {
  assertEquals(parseTraceFlags([]), {
    puts: 2000,
    warmup: 200,
    via: "leader",
    floorN: 1000,
    json: undefined,
    dir: undefined,
  });
  const o = parseTraceFlags(["--puts=500", "--warmup", "0", "--via", "follower", "--floor-n=50"]);
  assertEquals([o.puts, o.warmup, o.via, o.floorN], [500, 0, "follower", 50]);
  assertEquals(parseTraceFlags(["--json", "t.json", "--dir=/d"]).json, "t.json");
  const bad: [string[], string][] = [
    [["--puts", "0"], "--puts"],
    [["--via", "candidate"], "--via takes leader or follower"],
    [["--floor-n"], "--floor-n needs a value"],
    [["--rounds", "2"], "unknown flag --rounds"],
  ];
  for (const [argv, says] of bad) {
    const e = assertThrows(() => parseTraceFlags(argv), TraceFlagError);
    assert(e.message.includes(says), `${argv.join(" ")}: ${e.message}`);
  }
});

type Rec = [number, string, number, Partial<TraceRecord>?];
const records = (list: Rec[]): TraceRecord[] =>
  list.map(([member, step, t, more]) => ({ member, step, t, ...more }) as TraceRecord);

// PUT /t-a on the leader (1): its own fsync ends after the first ack (from 2), so it decides.
const putA: Rec[] = [
  [1, "httpIn", 1000, { req: "/t-a" }],
  [1, "propose", 1000.1, { req: "/t-a", key: "kA" }],
  [1, "ready", 1000.2, { index: 10 }],
  [1, "sendApp", 1000.3, { index: 10, peer: 2 }],
  [1, "sendApp", 1000.31, { index: 10, peer: 3 }],
  [1, "walWrite", 1000.35, { index: 10 }],
  [1, "fsyncStart", 1000.4, { index: 10 }],
  [2, "appIn", 1000.5, { index: 10, peer: 1 }],
  [2, "ready", 1000.55, { index: 10 }],
  [2, "walWrite", 1000.6, { index: 10 }],
  [3, "appIn", 1000.6, { index: 10, peer: 1 }],
  [2, "fsyncStart", 1000.65, { index: 10 }],
  [3, "ready", 1000.65, { index: 10 }],
  [3, "walWrite", 1000.7, { index: 10 }],
  [3, "fsyncStart", 1000.75, { index: 10 }],
  [1, "ackIn", 1000.9, { index: 9, peer: 2 }], // an older entry's ack: not this one's
  [2, "fsyncEnd", 1001.0, { index: 10 }],
  [2, "ackOut", 1001.05, { index: 10, peer: 1 }],
  [1, "ackIn", 1001.1, { index: 10, peer: 2 }],
  [3, "fsyncEnd", 1001.2, { index: 10 }],
  [3, "ackOut", 1001.25, { index: 10, peer: 1 }],
  [1, "ackIn", 1001.3, { index: 10, peer: 3 }],
  [1, "fsyncEnd", 1001.4, { index: 10 }],
  [1, "commit", 1001.5, { index: 10 }],
  [1, "apply", 1001.6, { index: 10, key: "kA" }],
  [1, "reply", 1001.7, { req: "/t-a" }],
];

// PUT /t-b on follower 2, forwarded; follower 3's round decides the commit.
const putB: Rec[] = [
  [2, "httpIn", 2000, { req: "/t-b" }],
  [2, "propose", 2000.1, { req: "/t-b", key: "kB" }],
  [2, "forwardOut", 2000.15, { key: "kB", peer: 1 }],
  [1, "forwardIn", 2000.3, { key: "kB", peer: 2 }],
  [1, "ready", 2000.35, { index: 11 }],
  [1, "sendApp", 2000.4, { index: 11, peer: 2 }],
  [1, "sendApp", 2000.4, { index: 11, peer: 3 }],
  [1, "walWrite", 2000.45, { index: 11 }],
  [1, "fsyncStart", 2000.5, { index: 11 }],
  [3, "appIn", 2000.5, { index: 11, peer: 1 }],
  [3, "ready", 2000.52, { index: 11 }],
  [3, "walWrite", 2000.55, { index: 11 }],
  [2, "appIn", 2000.55, { index: 11, peer: 1 }],
  [3, "fsyncStart", 2000.6, { index: 11 }],
  [2, "ready", 2000.6, { index: 11 }],
  [2, "walWrite", 2000.62, { index: 11 }],
  [2, "fsyncStart", 2000.65, { index: 11 }],
  [1, "fsyncEnd", 2000.7, { index: 11 }],
  [3, "fsyncEnd", 2000.95, { index: 11 }],
  [3, "ackOut", 2001.0, { index: 11, peer: 1 }],
  [1, "ackIn", 2001.05, { index: 11, peer: 3 }],
  [1, "commit", 2001.1, { index: 11 }],
  [2, "fsyncEnd", 2001.3, { index: 11 }],
  [2, "ackOut", 2001.35, { index: 11, peer: 1 }],
  [1, "ackIn", 2001.4, { index: 11, peer: 2 }],
  [2, "apply", 2001.5, { index: 11, key: "kB" }],
  [2, "reply", 2001.6, { req: "/t-b" }],
];

const others: Rec[] = [
  [1, "httpIn", 3000, { req: "/t-c" }], // proposed, never applied
  [1, "propose", 3000.1, { req: "/t-c", key: "kC" }],
  [1, "httpIn", 500, { req: "/w-1" }], // a warm-up PUT: another prefix
];

const byStep = (steps: StepSummary[]) => new Map(steps.map((s) => [s.step, s]));

Deno.test("trace analysis: each PUT's steps, its leader, quorum follower and critical path", () => {
  const shuffled = records([...putB, ...others, ...putA].reverse());
  const { puts, incomplete } = tracePuts(shuffled, "/t-");
  assertEquals(incomplete, [{ req: "/t-c", missing: "apply" }]);
  assertEquals(puts.map((p) => [p.req, p.index, p.proposer, p.leader, p.follower]), [
    ["/t-a", 10, 1, 1, 2],
    ["/t-b", 11, 2, 1, 3],
  ]);
  const [a, b] = puts;
  assertEquals([a.at.ackIn, a.at.sendApp, a.at["follower.appIn"]], [1001.1, 1000.3, 1000.5]);
  assertEquals(a.from.commit, "leader.fsyncEnd");
  assertEquals(b.from.commit, "ackIn");
  assertEquals(b.from.ready, "forwardIn");
  assertEquals(a.at.forwardOut, undefined);
  assert(a.critical.includes("leader.fsyncStart") && !a.critical.includes("follower.appIn"));
  assert(b.critical.includes("follower.ackOut") && !b.critical.includes("leader.walWrite"));
  assertEquals(b.at["follower.fsyncEnd"], 2000.95); // follower 3's, not 2's
});

Deno.test("trace analysis: per step, time from its predecessor and its share on the critical path", () => {
  const { puts } = tracePuts(records([...putA, ...putB, ...others]), "/t-");
  const s = summarize(puts);
  assertEquals(s.puts, 2);
  assertAlmostEquals(s.total.meanMs, 1.65, 1e-9);
  assertAlmostEquals(s.total.p99Ms, 1.7, 1e-9);
  assertEquals(s.leaderLaneCritical, 0.5);
  const st = byStep(s.steps);
  assertEquals(st.get("forwardOut")?.n, 1);
  assertAlmostEquals(st.get("forwardIn")!.p50Ms, 0.15, 1e-9);
  assertEquals(st.get("ready")?.n, 2);
  assertAlmostEquals(st.get("ready")!.minMs, 0.05, 1e-9); // B: from forwardIn
  const fsync = st.get("leader.fsyncEnd")!;
  assertEquals([fsync.n, fsync.critical], [2, 1]);
  assertAlmostEquals(fsync.share, 1.0 / 3.3, 1e-9); // only A's second is on its path
  assertAlmostEquals(st.get("follower.fsyncEnd")!.share, 0.35 / 3.3, 1e-9);
  const total = s.steps.reduce((n, x) => n + x.share, 0);
  assertAlmostEquals(total, 1, 1e-9); // the critical path's steps add up to the whole
  assertEquals(st.get("httpIn")?.from, undefined);
  assertEquals(st.get("reply")?.from, "apply");
});

Deno.test("trace analysis: trace files' lines, dropped counts and what is not a record", () => {
  const text = '{"member":1,"step":"commit","t":5,"index":3}\n\n{"member":1,"dropped":4}\n';
  const { records: r, dropped } = parseTraceLines(text);
  assertEquals([r.length, r[0].index, dropped], [1, 3, 4]);
  assertThrows(() => parseTraceLines('{"member":1}'), SyntaxError, "not a trace record");
});

Deno.test("kv-trace: the client's figures and the tables", () => {
  const { puts } = tracePuts(records([...putA, ...putB]), "/t-");
  const times = new Map([
    ["/t-a", { send: 999.9, recv: 1001.9 }], // 0.1 in, 0.2 out
    ["/t-b", { send: 1999.6, recv: 2001.7 }], // 0.4 in, 0.1 out
    ["/t-x", { send: 5000, recv: 5009 }], // not traced: in the round trips only
  ]);
  const c = clientFigures(puts, times, 1);
  assertAlmostEquals(c.requestPath.p50Ms, 0.4, 1e-9); // the upper of two
  assertAlmostEquals(c.requestPath.p99Ms, 0.4, 1e-9);
  assertAlmostEquals(c.responsePath.p50Ms, 0.2, 1e-9);
  assertAlmostEquals(c.roundTrip.p99Ms, 9, 1e-9);
  assertEquals(c.errors, 1);
  const floors = [
    { name: "fdatasync of a 4 KiB write", n: 3, p50Ms: 0.25, p99Ms: 1 },
    { name: "TCP ping-pong, 64 B", n: 3, p50Ms: 0.02, p99Ms: 0.1 },
    { name: "HTTP PUT round trip, Deno.serve server", n: 3, p50Ms: 0.08, p99Ms: 1 },
  ];
  const out = formatTraceTables(summarize(puts), c, floors);
  assert(out.includes("| HTTP in: the PUT reaches the handler | proposer | (start) |"), out);
  assert(out.includes("| fdatasync ends | leader | leader.fsyncStart |"), out);
  assert(out.includes("alone 0.250"), out);
  assert(out.includes("½ TCP round trip 0.010"), out);
  assert(out.includes("| TCP ping-pong, 64 B | 0.020 | 0.100 | 3 |"), out);
});

Deno.test("kv-trace end to end: three traced members, every step of 20 PUTs, floors, all removed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kv_trace_test_" });
  try {
    const main = new URL("../../bench/kv_trace.ts", import.meta.url).pathname;
    const json = `${dir}/out.json`;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", main, "--puts", "20", "--warmup", "5", "--floor-n", "20"]
        .concat(["--json", json, "--dir", dir]),
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 0, err);
    const doc = JSON.parse(await Deno.readTextFile(json));
    assertEquals([doc.summary.puts, doc.incomplete, doc.client.errors], [20, 0, 0]);
    const steps = new Map(doc.summary.steps.map((s: StepSummary) => [s.step, s.n]));
    for (const step of ["propose", "sendApp", "leader.fsyncEnd", "follower.ackOut", "reply"]) {
      assertEquals(steps.get(step), 20, step);
    }
    assertEquals(steps.has("forwardOut"), false); // sent to the leader: nothing forwarded
    assertEquals(doc.floors.length, 5);
    assert(doc.floors.every((f: { p50Ms: number }) => f.p50Ms > 0));
    const left = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name);
    assertEquals(left, ["out.json"]); // the cluster's directory is gone
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
