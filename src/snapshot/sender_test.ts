// A snapshot send alone: the POST goes to a fake dialer, whose side of the
// request body the test reads chunk by chunk; the progress and answer
// deadlines run on a fake clock. The snapshot extension is off (etcd's
// plain body); the snapshot extension has its own tests.
import { assert, assertEquals, assertMatch } from "@std/assert";
import { create, MessageSchema } from "../../raftpb/schemas.ts";
import { MessageType } from "../../raftpb/raft_pb.ts";
import { encodeMessageFrame } from "../codec/message.ts";
import { SnapshotStatus } from "../../raftpb/snapshot_status.ts";
import { settle } from "../testdata/fake_clock.ts";
import type { FakeCall } from "../testdata/fake_dialer.ts";
import { LOCAL, PEER, type TestPeer, testPeer } from "../testdata/peer_context.ts";
import { SnapshotMessage } from "./message.ts";
import { sendSnapshot } from "./sender.ts";

const SNAP = create(MessageSchema, {
  type: MessageType.MsgSnap,
  from: LOCAL,
  to: PEER,
  snapshot: { metadata: { index: 42n, term: 2n } },
});
const HEAD = encodeMessageFrame(SNAP);

/** Snapshot data that yields `chunks` one pull at a time, and nothing at all after `stallAfter` of them. */
function data(chunks: Uint8Array[], stallAfter = Infinity) {
  const s = {
    pulls: 0,
    cancelled: false,
    stream: undefined as unknown as ReadableStream<Uint8Array>,
  };
  s.stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (s.pulls++ >= stallAfter) return new Promise<void>(() => {});
      const next = chunks.shift();
      if (next === undefined) c.close();
      else c.enqueue(next);
    },
    cancel() {
      s.cancelled = true;
    },
  }, { highWaterMark: 0 });
  return s;
}

/** Starts sending `snap` on `t`; the dialer's call, the send, and a reader of the request body. */
async function start(t: TestPeer, snap: SnapshotMessage, stop = new AbortController()) {
  const sent = sendSnapshot(snap, t.ctx, stop.signal);
  const call: FakeCall = await t.dialer.next();
  const body = (call.request.body as ReadableStream<Uint8Array>).getReader();
  return { sent, call, body, stop };
}

const chunk = (n: number, fill: number) => new Uint8Array(n).fill(fill);

Deno.test("sendSnapshot: streams the MsgSnap frame then the data as the connection takes it; 204 reports Finish", async () => {
  using t = testPeer();
  const src = data([chunk(10, 1), chunk(20, 2), chunk(5, 3)]);
  const snap = new SnapshotMessage(SNAP, src.stream, 35);
  const { sent, call, body } = await start(t, snap);
  assertEquals(call.url, "http://peer-a:2380/raft/snapshot");
  assertEquals(call.header("Content-Type"), "application/octet-stream");
  assertEquals((await body.read()).value, HEAD);
  assertEquals(src.pulls, 0, "no data read before the connection asks");
  assertEquals((await body.read()).value, chunk(10, 1));
  assertEquals(src.pulls, 1, "one chunk at a time, never ahead");
  assertEquals((await body.read()).value, chunk(20, 2));
  assertEquals((await body.read()).value, chunk(5, 3));
  assertEquals((await body.read()).done, true);
  call.reply(204);
  await sent;
  assertEquals(await snap.done, true);
  assertEquals(t.raft.snapshots, [[PEER, SnapshotStatus.Finish]]);
  assertEquals(t.raft.unreachable, []);
  assertEquals(t.ctx.stats.sentBytes, HEAD.length + 35);
  assertEquals(t.ctx.metrics.snapshotSendSuccess, 1);
  assertEquals(t.ctx.metrics.snapshotSendInflight, 0);
  assert(t.lines.some((l) => l.msg === "sent a snapshot" && l.fields?.["snapshot-index"] === "42"));
  assertEquals(t.clock.pending, 0, "the deadline is released");
});

Deno.test("sendSnapshot: a refusal reports Failure and unreachable, settles done false and cancels the data", async () => {
  using t = testPeer();
  const src = data([chunk(10, 1)]);
  const snap = new SnapshotMessage(SNAP, src.stream, 10);
  const { sent, call, body } = await start(t, snap);
  await body.read();
  call.reply(500, "failed to save KV snapshot (disk full)\n");
  await sent;
  assertEquals(await snap.done, false);
  assertEquals(t.raft.snapshots, [[PEER, SnapshotStatus.Failure]]);
  assertEquals(t.raft.unreachable, [PEER]);
  assert(src.cancelled, "the data is released");
  assertEquals(t.ctx.picker.pick(), "http://peer-b:2380", "the next try uses the next URL");
  assertEquals(t.ctx.metrics.snapshotSendFailures, 1);
  const warn = t.lines.find((l) => l.msg === "failed to send a snapshot");
  assertMatch(
    warn?.fields?.error as string,
    /unexpected http status 500 failed to save KV snapshot/,
  );
});

Deno.test("sendSnapshot: data that stops moving fails after the progress timeout on the clock, not while it moves", async () => {
  using t = testPeer({ snapshot: { progressTimeoutMs: 1000 } });
  const src = data([chunk(10, 1), chunk(10, 2)], 2);
  const snap = new SnapshotMessage(SNAP, src.stream, 30);
  const { sent, call, body } = await start(t, snap);
  await body.read(); // the head, at 0
  await t.clock.advance(600);
  await body.read(); // bytes move at 600
  await t.clock.advance(600);
  assertEquals(call.request.signal!.aborted, false, "moving data never times out");
  await body.read(); // and at 1200
  void body.read().catch(() => {}); // the data source stalls here
  await t.clock.advance(999);
  assertEquals(call.request.signal!.aborted, false);
  await t.clock.advance(1);
  assertMatch(String(call.request.signal!.reason), /no snapshot bytes moved for 1000 ms/);
  await sent;
  assertEquals(await snap.done, false);
  assertEquals(t.raft.snapshots, [[PEER, SnapshotStatus.Failure]]);
  const warn = t.lines.find((l) => l.msg === "failed to send a snapshot");
  assertMatch(warn?.fields?.error as string, /failed after \d+ bytes: no snapshot bytes moved/);
  assert(src.cancelled);
});

Deno.test("sendSnapshot: once all data is handed over, the answer has its own, longer limit", async () => {
  using t = testPeer({
    snapshot: { progressTimeoutMs: 1000, responseTimeoutMs: 5000 },
  });
  const snap = new SnapshotMessage(SNAP, data([chunk(10, 1)]).stream, 10);
  const { sent, call, body } = await start(t, snap);
  while (!(await body.read()).done); // the whole body, at once
  await t.clock.advance(4999);
  assertEquals(call.request.signal!.aborted, false, "the receiver is still saving");
  await t.clock.advance(1);
  assertMatch(String(call.request.signal!.reason), /no answer 5000 ms after the whole snapshot/);
  await sent;
  assertEquals(t.raft.snapshots, [[PEER, SnapshotStatus.Failure]]);
});

Deno.test("sendSnapshot: a stop aborts the POST and reports Failure without counting a failed send", async () => {
  using t = testPeer();
  const snap = new SnapshotMessage(SNAP, data([chunk(10, 1)]).stream, 10);
  const { sent, call, stop } = await start(t, snap);
  stop.abort();
  await settle();
  assert(call.request.signal!.aborted);
  await sent;
  assertEquals(await snap.done, false);
  assertEquals(t.raft.snapshots, [[PEER, SnapshotStatus.Failure]]);
  assertEquals(t.ctx.metrics.snapshotSendFailures, 0);
  assertEquals(t.clock.pending, 0);
});
