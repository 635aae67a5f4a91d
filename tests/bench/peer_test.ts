// bench/peer.ts end to end: a sink and a sender as two processes on
// 127.0.0.1 play each role of the peer benchmark protocol with small
// counts; with etcd's own transport (etcdpeer, bench/etcdpeer/) on the
// other side too. The etcdpeer binary is .tools/etcdpeer/etcdpeer (built
// here if missing and Go with Debian's etcd sources is installed), or
// $ETCDPEER_BIN; without one those tests are skipped.
import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { parseFlags } from "../../bench/peer.ts";
import { payload, PayloadStream, payloadYielding, verifyPayloadFile } from "../../bench/payload.ts";
import { ensureEtcdpeer, EtcdpeerUnavailable } from "../../bench/etcdpeer/build.ts";

import { freePorts } from "../../bench/ports.ts";

const PEER_TS = new URL("../../bench/peer.ts", import.meta.url).pathname;

/** The etcdpeer binary, or undefined (with the reason on stderr) when there is none. */
async function findEtcdpeer(): Promise<string | undefined> {
  const given = Deno.env.get("ETCDPEER_BIN");
  if (given !== undefined) {
    try {
      if (Deno.statSync(given).isFile) return given;
    } catch { /* below */ }
    console.error(`peer_test: skipping the etcdpeer tests: ETCDPEER_BIN=${given} is not a file`);
    return undefined;
  }
  try {
    return await ensureEtcdpeer(undefined, "peer_test");
  } catch (e) {
    if (!(e instanceof EtcdpeerUnavailable)) throw e;
    console.error(`peer_test: skipping the etcdpeer tests: ${e.message}`);
    return undefined;
  }
}

const ETCDPEER = await findEtcdpeer();
/** Set to 1 (as CI does) to fail instead of skipping when the Go peer cannot be built. */
const REQUIRE_GO = Deno.env.get("RAFTHTTP_REQUIRE_GO") === "1";

type Impl = "deno" | "go";
// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

function spawn(impl: Impl, args: string[]): Deno.ChildProcess {
  const [bin, pre] = impl === "go" ? [ETCDPEER!, []] : [Deno.execPath(), ["run", "-A", PEER_TS]];
  return new Deno.Command(bin, { args: [...pre, ...args], stdout: "piped", stderr: "piped" })
    .spawn();
}

async function waitPort(port: number): Promise<void> {
  const end = Date.now() + 20000;
  for (;;) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

function parse(out: Deno.CommandOutput, who: string): Json {
  const text = new TextDecoder().decode(out.stdout).trim();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(
      `${who}: no JSON result (exit ${out.code}): ${text}\n${new TextDecoder().decode(out.stderr)}`,
    );
  }
}

/** Runs a sink and a sender; returns both result lines. */
async function pair(
  sinkImpl: Impl,
  senderImpl: Impl,
  sinkArgs: string[],
  senderArgs: string[],
): Promise<{ sender: Json; sink: Json; senderExit: number; sinkExit: number }> {
  const [p1, p2] = freePorts(2);
  const common = ["-cluster", "c1", "-json", "-log", "error"];
  const sink = spawn(sinkImpl, [
    "-mode",
    "sink",
    "-id",
    "a1",
    "-listen",
    `127.0.0.1:${p1}`,
    "-peer",
    `b2=http://127.0.0.1:${p2}`,
    "-timeout",
    "60",
    ...common,
    ...sinkArgs,
  ]);
  const sinkOut = sink.output();
  try {
    await waitPort(p1);
    const senderOut = await spawn(senderImpl, [
      "-id",
      "b2",
      "-listen",
      `127.0.0.1:${p2}`,
      "-peer",
      `a1=http://127.0.0.1:${p1}`,
      "-timeout",
      "30",
      ...common,
      ...senderArgs,
    ]).output();
    sink.kill("SIGTERM");
    const sinkDone = await sinkOut;
    return {
      sender: parse(senderOut, `${senderImpl} sender`),
      sink: parse(sinkDone, `${sinkImpl} sink`),
      senderExit: senderOut.code,
      sinkExit: sinkDone.code,
    };
  } finally {
    try {
      sink.kill("SIGKILL");
    } catch { /* already exited */ }
    await sinkOut;
  }
}

function checkSend(r: Awaited<ReturnType<typeof pair>>, n: number, size: number): void {
  const { sender, sink } = r;
  assertEquals([r.senderExit, r.sinkExit], [0, 0], JSON.stringify(sender));
  assertEquals([sender.ok, sink.ok], [true, true]);
  assertEquals([sender.sent, sender.acked], [n, n]);
  assertEquals([sender.drops, sink.drops, sink.index_gaps], [0, 0, 0]);
  assertEquals(sink.recv.MsgApp, n, "every MsgApp processed exactly once");
  assertEquals([sink.entries, sink.entry_bytes, sink.last_index], [n, n * size, n]);
  assertEquals(sink.replies.MsgAppResp, n / 250);
  assertEquals(sender.recv.MsgAppResp, n / 250);
  // MsgApp on msgappv2, MsgAppResp on the message stream, no pipeline
  assertEquals(sender.http_requests.pipeline ?? 0, 0);
  assertEquals(sink.http_requests.pipeline ?? 0, 0);
  assert(sender.stream_bytes_out.msgappv2 > n * size);
  // Nothing but link heartbeats (a Deno stream opens with one: 38 bytes) on the message stream.
  assertEquals(sender.stream_bytes_out.message % 38, 0);
  assert(sender.stream_bytes_out.message <= 2 * 38, `${sender.stream_bytes_out.message} bytes`);
  assert(sink.stream_bytes_out.message > 0);
}

const SEND = ["-mode", "send", "-n", "2500", "-size", "100", "-k", "250", "-w", "1024"];
const PING = ["-mode", "ping", "-n", "50", "-warmup", "5"];
const SNAP_SIZE = 3 * 1024 * 1024 + 3; // not a multiple of 4: the last word is cut
const SNAP = ["-mode", "snap", "-size", `${SNAP_SIZE}`];

function checkPing(r: Awaited<ReturnType<typeof pair>>): void {
  const { sender, sink } = r;
  assertEquals([r.senderExit, r.sinkExit, sender.ok, sink.ok], [0, 0, true, true]);
  assertEquals(sender.ping, "MsgHeartbeat");
  assertEquals([sink.recv.MsgHeartbeat, sender.recv.MsgHeartbeatResp], [55, 55]);
  assert(sender.min_us > 0 && sender.min_us <= sender.p50_us && sender.p50_us <= sender.p99_us);
  assert(sender.p99_us <= sender.max_us);
  assertEquals([sender.drops, sink.drops], [0, 0]);
}

function checkSnap(r: Awaited<ReturnType<typeof pair>>): void {
  const { sender, sink } = r;
  assertEquals([r.senderExit, r.sinkExit], [0, 0], JSON.stringify({ sender, sink }));
  assertEquals([sender.status, sender.report_snapshot], ["finish", ["finish"]]);
  assertEquals(sink.snapshots.length, 1);
  const s = sink.snapshots[0];
  assertEquals([s.from, s.index, s.term, s.voters], ["b2", 1000, 1, ["b2", "a1"]]);
  assertEquals([s.db_size, s.size_ok, s.verified], [SNAP_SIZE, true, true]);
  assertEquals(sink.recv.MsgSnap, 1);
  assertEquals(sink.http_requests.snapshot, 1);
}

Deno.test("peer.ts: deno -> deno send, ping and snap follow the protocol", async () => {
  checkSend(await pair("deno", "deno", ["-k", "250"], SEND), 2500, 100);
  checkPing(await pair("deno", "deno", [], PING));
  checkSnap(await pair("deno", "deno", ["-size", `${SNAP_SIZE}`], SNAP));
});

for (const [sinkImpl, senderImpl] of [["go", "deno"], ["deno", "go"]] as const) {
  Deno.test({
    name: `peer.ts with etcdpeer: ${senderImpl} -> ${sinkImpl} send, ping and snap`,
    ignore: ETCDPEER === undefined && !REQUIRE_GO,
    async fn() {
      assert(ETCDPEER !== undefined, "RAFTHTTP_REQUIRE_GO=1 but etcdpeer cannot be built (above)");
      checkSend(await pair(sinkImpl, senderImpl, ["-k", "250"], SEND), 2500, 100);
      checkPing(await pair(sinkImpl, senderImpl, [], PING));
      checkSnap(await pair(sinkImpl, senderImpl, ["-size", `${SNAP_SIZE}`], SNAP));
    },
  });
}

Deno.test("peer.ts: a sink that gets a snapshot of another size than -size fails", async () => {
  const r = await pair("deno", "deno", ["-size", "5"], SNAP);
  assertEquals(r.sender.ok, true);
  assertEquals([r.sink.ok, r.sinkExit], [false, 1]);
  assertEquals(r.sink.snapshots[0].size_ok, false);
});

Deno.test("peer.ts: a snap sender keeps its streams alive while it builds a large payload", async () => {
  // 512 MiB take ~0.5 s to build, more on a busy machine; link heartbeats
  // every 150 ms make the peer's read timeout 300 ms. Built in one
  // synchronous run, the payload silenced the sender's streams past it: the
  // sink declared the link dead (2 drops) though the snapshot arrived whole.
  const size = 512 * 1024 * 1024;
  const hb = ["-linkhb", "150"];
  const r = await pair("deno", "deno", ["-size", `${size}`, ...hb], [
    ...["-mode", "snap", "-size", `${size}`],
    ...hb,
  ]);
  const { sender, sink } = r;
  assertEquals([r.senderExit, r.sinkExit, sender.status], [0, 0, "finish"]);
  assertEquals(sink.snapshots[0].verified, true);
  assertEquals([sender.drops, sink.drops, sink.unreachable], [0, 0, 0]);
});

Deno.test("peer.ts: flags as etcdpeer takes them", () => {
  const c = parseFlags([
    "-mode",
    "send",
    "--id=b2",
    "-cluster",
    "C1",
    "--listen",
    "127.0.0.1:2380",
    "-peer",
    "a1=http://127.0.0.1:2381",
    "--peer=8e9e05c52164694d=http://127.0.0.1:2382",
    "-to",
    "8e9e05c52164694d",
    "-n",
    "500",
    "-k",
    "250",
    "-json",
    "--verify=false",
  ]);
  if (c === "help") throw new Error("parsed as -help");
  assertEquals([c.id, c.cluster, c.to], [0xb2n, 0xc1n, 0x8e9e05c52164694dn]);
  assertEquals(c.peers.map((p) => p.url), ["http://127.0.0.1:2381", "http://127.0.0.1:2382"]);
  assertEquals([c.n, c.k, c.w, c.size, c.json, c.verify], [500, 250, 1024, 64, true, false]);
  const base = ["-id", "b2", "-cluster", "c1", "-listen", "127.0.0.1:1", "-peer", "a1=http://h:1"];
  assertThrows(() => parseFlags([...base, "-mode", "send", "-n", "1000", "-k", "256"]));
  assertThrows(() => parseFlags([...base, "-mode", "send", "-n", "500", "-k", "250", "-w", "100"]));
  assertThrows(() => parseFlags([...base, "-mode", "ping", "-to", "b3"]));
  assertThrows(() => parseFlags([...base, "-bogus"]));
  assertThrows(() => parseFlags(["-id", "0", "-cluster", "c1", "-listen", "127.0.0.1:1"]));
  assertThrows(() => parseFlags(["-id", "a1", "-cluster", "c1", "-listen", "0.0.0.0:1"]));
});

Deno.test("payload: the xorshift32 stream as the protocol defines it", async () => {
  const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  assertEquals(hex(payload(16)), "634d1f2b7acbda94a059087b7e56b077");
  // filled piecewise, across cut words, it is the same stream
  const whole = payload(1001);
  const s = new PayloadStream();
  const parts = new Uint8Array(1001);
  let at = 0;
  for (const n of [3, 1, 5, 0, 64, 2, 926]) {
    s.fill(parts.subarray(at, at + n));
    at += n;
  }
  assertEquals(parts, whole);
  // built in slices with yields between them: the same bytes
  assertEquals(await payloadYielding(1001, 8), whole);
  await assertRejects(() => payloadYielding(16, 6), RangeError);
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/ok`, payload((1 << 20) + 7));
    assertEquals(await verifyPayloadFile(`${dir}/ok`), -1);
    const bad = payload((1 << 20) + 7);
    bad[(1 << 20) + 5] ^= 1;
    await Deno.writeFile(`${dir}/bad`, bad);
    assertEquals(await verifyPayloadFile(`${dir}/bad`), (1 << 20) + 5);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
