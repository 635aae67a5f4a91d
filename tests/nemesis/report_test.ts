import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { timelineData } from "./artifacts.ts";
import type { RunResult } from "./campaign.ts";
import { checkRun, recoveries } from "./check.ts";
import type { Operation } from "../kv/linearizability.ts";
import { markdown, sideBySide } from "./report_md.ts";
import { summarize } from "./report.ts";
import { timelineSvg } from "./svg.ts";
import { Timeline } from "./timeline.ts";

/** A small run: one kill healed, one leader change, one lost own write, one member exit. */
function fakeRun(lose: boolean): RunResult {
  const history: Operation[] = [
    { client: 1, input: { op: "put", key: "/k1", value: "c1-1" }, call: 100, return: 120 },
    { client: 2, input: { op: "get", key: "/k1" }, call: 130, return: 140, output: "c1-1" },
    { client: 1, input: { op: "put", key: "/own-1-5", value: "o1-5" }, call: 150, return: 160 },
    { client: 2, input: { op: "put", key: "/k1", value: "c2-2" }, call: 2000 },
    {
      client: 0,
      input: { op: "get", key: "/own-1-5" },
      call: 5000,
      return: 5010,
      output: lose ? undefined : "o1-5",
    },
  ];
  const timeline = new Timeline();
  timeline.faults.push(
    {
      n: 1,
      kind: "kill",
      plannedAt: 1000,
      start: 1000,
      end: 3000,
      slots: [2],
      outcome: "applied",
      detail: "SIGKILL member 2 <leader>",
    },
    {
      n: 2,
      kind: "joint",
      plannedAt: 1500,
      start: 1500,
      end: 1500,
      slots: [],
      outcome: "skipped",
      detail: "not supported by the target",
    },
  );
  timeline.leaders.push({ t: 50, id: 2, slot: 2 }, { t: 1800, id: 3, slot: 3 });
  timeline.exits.push({ t: 2500, id: 4, slot: 4, code: 1, tail: [] });
  const ackedOwn = new Map([["/own-1-5", "o1-5"]]);
  const found = new Map([["/own-1-5", lose ? null : "o1-5"]]);
  return {
    target: "ours",
    seed: 7,
    members: 3,
    runMs: 4000,
    net: "loopback",
    supports: ["kill", "pause"],
    plans: [],
    timeline,
    history,
    meta: [{ slot: 1, own: false }, { slot: 2, own: false }, { slot: 3, own: true }, {
      slot: 1,
      own: false,
    }, { slot: 1, own: true }],
    counts: { putOk: 2, putUnknown: 1, getOk: 2, getFailed: 0 },
    ackedOwn: 1,
    verdicts: checkRun(history, ackedOwn, found),
    recovery: recoveries(timeline.faults, history),
    slotMembers: [[1], [2], [3], [4, 6], []],
    healedAt: 3000,
    liveness: [],
    wallMs: 9000,
  };
}

const T = { readKind: "GET (ReadIndex)" };

Deno.test("report: the summary counts operations, faults by kind, anomalies, recovery; says how to reproduce", () => {
  const s = summarize(fakeRun(true), T, {
    seconds: 4,
    faults: "kill,joint",
    memberFlags: "--lazy-disk",
  });
  assertEquals(s.operations, {
    total: 5,
    putOk: 2,
    putUnknown: 1,
    getOk: 2,
    getFailed: 0,
    ownAcked: 1,
  });
  assertEquals(s.faults, {
    kill: { applied: 1, skipped: 0, failed: 0 },
    joint: { applied: 0, skipped: 1, failed: 0 },
  });
  assertEquals([s.anomalies.count, s.anomalies.lostWrites.length, s.leaderChanges], [1, 1, 1]);
  // No write was acknowledged after the heal at 3 s.
  assertEquals(s.recovery.list, [{ n: 1, kind: "kill", healAt: 3000, ms: null }]);
  assertEquals(s.recovery.never, 1);
  assertEquals(s.clean, false);
  assertEquals(
    s.reproduce,
    'deno task nemesis --target ours --seed 7 --seconds 4 --members 3 --faults kill,joint --member-flags "--lazy-disk"',
  );
  const ok = summarize(fakeRun(false), T, { seconds: 4 });
  assertEquals([ok.anomalies.count, ok.anomalies.lostWrites.length], [0, 0]);
  assertEquals(ok.clean, false, "a member that exited on its own is a failure");
});

Deno.test("report: the markdown page and the side-by-side table", () => {
  const s = summarize(fakeRun(true), T, { seconds: 4 });
  const md = markdown(s, "timeline-ours.svg");
  assertStringIncludes(md, "# Nemesis: ours, seed 7");
  assertStringIncludes(
    md,
    "acknowledged writes lost (own keys not found after the last heal): **1** of 1",
  );
  assertStringIncludes(md, "| kill | 1 | 0 | 0 |");
  assertStringIncludes(md, "stale read");
  assertStringIncludes(md, "[timeline-ours.svg](timeline-ours.svg)");
  const table = sideBySide([s, { ...s, target: "etcd" }]);
  assertStringIncludes(table, "| | ours | etcd |");
  assertStringIncludes(table, "| lost acknowledged writes | 1 of 1 | 1 of 1 |");
});

Deno.test("svg: lanes per slot, ops by outcome, fault bands, leader, exit and lost-write marks; text escaped", () => {
  const d = timelineData(fakeRun(true));
  assertEquals(d.lanes, [
    "slot 1: member 1",
    "slot 2: member 2",
    "slot 3: member 3",
    "slot 4: member 4, 6",
    "slot 5: spare",
  ]);
  assertEquals(d.ops.map((o) => o.outcome), ["ok", "ok", "ok", "unknown", "ok"]);
  assertEquals(d.lost, [{ slot: 3, t: 160, key: "/own-1-5" }]);
  const svg = timelineSvg(d);
  assert(svg.startsWith("<svg") && svg.trimEnd().endsWith("</svg>"));
  assertEquals(svg.match(/<text x="8" y="\d+" font-size="12">slot /g)?.length, 5);
  assertStringIncludes(svg, "SIGKILL member 2 &lt;leader&gt;"); // the band's title, escaped
  assertEquals(svg.includes("<leader>"), false);
  assertEquals(svg.match(/<polygon /g)?.length, 2); // two leader marks
  assertEquals(svg.match(/<circle /g)?.length, 1); // one lost write
  assertStringIncludes(svg, "member 4 exited (code 1)");
  assertStringIncludes(svg, 'fill="#ffaa00"'); // the unknown put's bar
  assertStringIncludes(svg, "all healed");
  // Every element opened is closed: tags balance.
  const opened = (svg.match(/<(rect|text|polygon|circle|title|line)\b/g) ?? []).length;
  const closed = (svg.match(/<\/(rect|text|polygon|circle|title|line)>|\/>/g) ?? []).length;
  assertEquals(opened, closed);
});

Deno.test("svg: a 60-minute history (400,000 operations) is drawn without running out of stack", () => {
  const r = fakeRun(false);
  const op = r.history[1];
  const history = Array.from({ length: 400_000 }, (_, i) => ({ ...op, call: i, return: i + 5 }));
  const d = timelineData({ ...r, history, meta: history.map(() => ({ slot: 1, own: false })) });
  assertEquals(d.endMs, 400_004);
  assert(timelineSvg(d).startsWith("<svg"));
});
