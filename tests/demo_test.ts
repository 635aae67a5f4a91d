// `deno task demo` as a new user runs it: a subprocess on free ports with
// the short timeline, judged by its exit code and what it prints.
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { formatBytes, progressBar, RateMeter } from "../examples/demo/view.ts";
import type { PeerStats } from "../src/peer/stats.ts";

const ROOT = new URL("..", import.meta.url);
const DEMO = new URL("../examples/demo.ts", import.meta.url);

/** A base port with it and the next two free on 127.0.0.1 (checked by listening; others may race). */
function freeBasePort(): number {
  for (let attempt = 0; attempt < 100; attempt++) {
    const first = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const base = first.addr.port;
    const held = [first];
    try {
      if (base > 65533) continue;
      held.push(Deno.listen({ hostname: "127.0.0.1", port: base + 1 }));
      held.push(Deno.listen({ hostname: "127.0.0.1", port: base + 2 }));
      return base;
    } catch {
      // one of the next two is taken: try another
    } finally {
      for (const l of held) l.close();
    }
  }
  throw new Error("found no three consecutive free ports");
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the demo with the task's permissions; kills it if it outlives `timeoutMs`. */
async function demo(args: string[], timeoutMs = 60_000): Promise<Run> {
  const start = Date.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net=127.0.0.1", DEMO.href, ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  try {
    const out = await child.output();
    const text = new TextDecoder();
    return {
      code: out.code,
      stdout: text.decode(out.stdout),
      stderr: text.decode(out.stderr),
      ms: Date.now() - start,
    };
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("demo --fast: elects member 1, replicates to all three members, snapshots member 3, which catches up; exit 0", async () => {
  const base = freeBasePort();
  const run = await demo(["--fast", "--base-port", String(base)]);
  const context = `exit ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
  assertEquals(run.code, 0, context);
  assert(run.ms < 30_000, `the short timeline took ${run.ms} ms\n${context}`);
  assertStringIncludes(run.stdout, `127.0.0.1:${base}-${base + 2}`);

  // Member 1 campaigns first and wins the election.
  assertMatch(run.stdout, /member 1 is the leader \(term \d+\)/);
  // The live view (line mode, since stdout is a pipe): the leader's links, per second.
  assertMatch(run.stdout, /1 → 2 msg ↑↓ app ↑↓ \| out \d+(\.\d)? msg\/s/);
  assertMatch(run.stdout, /member 1: transport reports member 3 unreachable/);
  assertMatch(run.stdout, /member 1 compacted its log to \d+, past member 3's match/);
  assertMatch(run.stdout, /member 1 sends member 3 a snapshot at index \d+/);
  // The first attempt breaks at 40 %; the retry resumes where member 3 stood, not at 0.
  assertMatch(run.stdout, /the retry resumed at [1-9][\d.]* (KiB|MiB), what member 3 had kept/);

  // The summary: every member holds the same log end, and member 3 got there from a snapshot.
  const summary = run.stdout.slice(run.stdout.indexOf("summary after"));
  assert(summary.length > 0, context);
  const rows = [
    ...summary.matchAll(
      /^([123])\s+(leader|follower)\s+(\d+)\s+(\d+)\.\.(\d+)\s+(\d+)\s+(.*)$/gm,
    ),
  ];
  assertEquals(rows.map((r) => r[1]), ["1", "2", "3"], summary);
  assertEquals(rows.map((r) => r[2]), ["leader", "follower", "follower"], summary);
  const last = Number(rows[0][5]);
  assert(last > 500, `the leader appended only ${last} entries`);
  for (const r of rows) {
    assertEquals(r[3], rows[0][3], `member ${r[1]}'s term\n${summary}`);
    assertEquals(Number(r[5]), last, `member ${r[1]}'s last index\n${summary}`);
    assertEquals(Number(r[6]), last, `member ${r[1]}'s commit index\n${summary}`);
  }
  const restored = Number(rows[2][7].match(/restored from snapshot (\d+)/)?.[1]);
  assert(restored > 0 && restored < last, `member 3 was not restored from a snapshot\n${summary}`);
  assertMatch(rows[2][7], /applied \d+ more, all checked/);
  assertMatch(summary, /^snapshot: 4\.0 MiB at index \d+ to member 3, finished in /m);
  assertMatch(summary, /^ok\s+entries replicated to all three members/m);
  assertMatch(summary, /^ok\s+snapshot to member 3 finished/m);
  assertMatch(summary, /^ok\s+member 3 caught up after the snapshot/m);
  assert(!/FAILED/.test(summary), summary);
  assertEquals(run.stderr, "", context);
});

Deno.test("demo: a taken port gives exit 1 and a clear message, without a stack trace", async () => {
  const base = freeBasePort();
  const squatter = Deno.listen({ hostname: "127.0.0.1", port: base + 1 });
  try {
    const run = await demo(["--fast", "--base-port", String(base)], 20_000);
    assertEquals(run.code, 1, run.stdout + run.stderr);
    assertEquals(
      run.stderr,
      `port ${base + 1} on 127.0.0.1 is taken; run with --base-port <another>\n`,
    );
    assert(!run.stdout.includes("summary"), run.stdout);
  } finally {
    squatter.close();
  }
});

Deno.test("demo: bad arguments give exit 2 and the usage", async () => {
  const run = await demo(["--base-port", "70000"], 20_000);
  assertEquals(run.code, 2);
  assertStringIncludes(run.stderr, "--base-port needs a port number from 1 to 65533, got 70000");
  assertStringIncludes(run.stderr, "usage: deno task demo");
});

Deno.test("demo view: progress bar, byte units, and rates from counter deltas", () => {
  assertEquals(progressBar(0, 100), "[....................]   0%");
  assertEquals(progressBar(45, 100), "[#########...........]  45%");
  assertEquals(progressBar(100, 100), "[####################] 100%");
  assertEquals(formatBytes(812), "812 B");
  assertEquals(formatBytes(18.4 * 1024), "18.4 KiB");
  assertEquals(formatBytes(64 * 1024 * 1024), "64.0 MiB");

  const stats = (sent: number, sentBytes: number, received: number): PeerStats => ({
    sentMessages: sent,
    sentOn: { message: 0, msgappv2: sent, pipeline: 0 },
    sentBytes,
    sentChunks: 0,
    sendDrops: 0,
    receivedMessages: received,
    receivedOn: { message: received, msgappv2: 0, pipeline: 0 },
    receivedBytes: received * 10,
    receivedChunks: 0,
    receiveDrops: 0,
    refusedLocal: 0,
  });
  const meter = new RateMeter(400);
  assertEquals(meter.rates("1 → 2", stats(100, 1000, 50), 0).outMsgs, 0, "no rate from one sample");
  const r = meter.rates("1 → 2", stats(150, 6000, 100), 500);
  assertEquals([r.outMsgs, r.outBytes, r.inMsgs, r.inBytes], [100, 10_000, 100, 1000]);
  assertEquals(meter.rates("1 → 2", stats(999, 9999, 999), 600), r, "too soon: the last rates");
  const restarted = meter.rates("1 → 2", stats(3, 30, 3), 1000);
  assertEquals(restarted.outMsgs, 0, "counters that went down (a restart) start over");
});
