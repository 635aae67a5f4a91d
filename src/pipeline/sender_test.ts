// The pipeline alone: its POSTs go to a fake dialer the test answers, its
// POST timeout runs on a fake clock.
import { assert, assertEquals, assertInstanceOf, assertMatch } from "@std/assert";
import { create, MessageSchema } from "../../raftpb/schemas.ts";
import { type Message, MessageType } from "../../raftpb/raft_pb.ts";
import { encodeMessage } from "../codec/protobuf.ts";
import { CH, DR, DROP_REASONS } from "../metrics/peer_metrics.ts";
import { SnapshotStatus } from "../../raftpb/snapshot_status.ts";
import { MemberRemovedError, StoppedError } from "../errors.ts";
import { settle } from "../testdata/fake_clock.ts";
import { LOCAL, PEER, type TestPeer, testPeer } from "../testdata/peer_context.ts";
import { Pipeline } from "./sender.ts";

const msg = (type: MessageType, index = 1): Message =>
  create(MessageSchema, { type, from: LOCAL, to: PEER, index: BigInt(index) });

/** Messages of the pipeline dropped for `reason`. */
const dropped = (t: TestPeer, reason: number) =>
  t.ctx.metrics.sendDrops[CH.pipeline * DROP_REASONS.length + reason];

Deno.test("Pipeline: each message is one POST /raft of its bare protobuf; a 204 counts it and reports a snapshot finished", async () => {
  using t = testPeer({ pipeline: { workers: 1 } });
  const p = new Pipeline(t.ctx);
  p.start();
  const app = msg(MessageType.MsgApp, 5);
  assert(p.send(app));
  const call = await t.dialer.next();
  assertEquals(call.request.method, "POST");
  assertEquals(call.url, "http://peer-a:2380/raft");
  assertEquals(call.header("Content-Type"), "application/protobuf");
  assertEquals(call.header("X-Server-From"), LOCAL.toString(16));
  assertEquals(await call.body(), encodeMessage(app));
  call.reply(204);
  await settle();
  assertEquals(t.ctx.stats.sentMessages, 1);
  assertEquals(t.ctx.stats.sentOn.pipeline, 1);
  assertEquals(t.ctx.stats.sentBytes, encodeMessage(app).length);
  assertEquals(t.ctx.status.active, true);

  p.send(msg(MessageType.MsgSnap));
  (await t.dialer.next()).reply(204);
  await settle();
  assertEquals(t.raft.snapshots, [[PEER, SnapshotStatus.Finish]]);
  assertEquals(t.raft.unreachable, []);
  await p.stop();
});

Deno.test("Pipeline: a refused or failed POST drops the message, reports it unreachable, and fails over to the next URL", async () => {
  using t = testPeer({ pipeline: { workers: 1 } });
  const p = new Pipeline(t.ctx);
  p.start();
  t.ctx.status.activate();
  p.send(msg(MessageType.MsgApp));
  const refused = await t.dialer.next();
  refused.reply(500, "internal error\n");
  await settle();
  assertEquals(dropped(t, DR.post_failed), 1);
  assertEquals(t.ctx.stats.sendDrops, 1);
  assertEquals(t.raft.unreachable, [PEER]);
  assertEquals(t.ctx.status.active, false);
  const warn = t.lines.find((l) => l.msg === "failed to send a message on the pipeline");
  assertEquals(warn?.fields?.type, "MsgApp");
  assertMatch(warn?.fields?.error as string, /unexpected http status 500 internal error/);

  // No answer at all (refused connection): the same path, on the next URL.
  p.send(msg(MessageType.MsgSnap));
  const broken = await t.dialer.next();
  assertEquals(broken.url, "http://peer-b:2380/raft");
  broken.fail(new TypeError("connection refused"));
  await settle();
  assertEquals(dropped(t, DR.post_failed), 2);
  assertEquals(t.raft.unreachable, [PEER, PEER]);
  assertEquals(t.raft.snapshots, [[PEER, SnapshotStatus.Failure]]);

  // 403: this member was removed; the application hears it.
  p.send(msg(MessageType.MsgApp));
  (await t.dialer.next()).reply(403, "removed");
  await settle();
  assertEquals(t.errors.length, 1);
  assertInstanceOf(t.errors[0], MemberRemovedError);
  assertEquals((t.errors[0] as MemberRemovedError).peer, PEER, "it names the peer that refused us");
  await p.stop();
});

Deno.test("Pipeline: the queue is bounded, and at most pipelineWorkers POSTs are in flight", async () => {
  using t = testPeer({ pipeline: { queueSize: 3, workers: 2 } });
  const p = new Pipeline(t.ctx);
  for (let i = 1; i <= 3; i++) assert(p.send(msg(MessageType.MsgApp, i)));
  assertEquals(p.send(msg(MessageType.MsgApp, 4)), false, "the queue holds 3");
  assertEquals(p.pending, 3);
  p.start();
  const first = await t.dialer.next();
  const second = await t.dialer.next();
  await settle();
  assertEquals(t.dialer.calls.length, 2, "two workers, two POSTs");
  assertEquals(p.pending, 3);
  assert(p.send(msg(MessageType.MsgApp, 5)), "room again once the workers took two");
  first.reply(204);
  const third = await t.dialer.next();
  second.reply(204);
  third.reply(204);
  (await t.dialer.next()).reply(204);
  await settle();
  assertEquals(t.ctx.stats.sentMessages, 4);
  assertEquals(p.pending, 0);
  await p.stop();
});

Deno.test("Pipeline: a POST with no answer fails after pipelineTimeoutMs on the clock", async () => {
  using t = testPeer({ pipeline: { workers: 1, timeoutMs: 1000 } });
  const p = new Pipeline(t.ctx);
  p.start();
  p.send(msg(MessageType.MsgApp));
  const call = await t.dialer.next();
  await t.clock.advance(999);
  assertEquals(call.request.signal!.aborted, false);
  assertEquals(t.raft.unreachable, []);
  await t.clock.advance(1);
  assertEquals(call.request.signal!.aborted, true);
  assertEquals(dropped(t, DR.post_failed), 1);
  assertEquals(t.raft.unreachable, [PEER]);
  await p.stop();
});

Deno.test("Pipeline: stop cancels POSTs in flight unreported and drops the queue as stopped", async () => {
  using t = testPeer({ pipeline: { workers: 1 } });
  const p = new Pipeline(t.ctx);
  p.start();
  for (let i = 1; i <= 3; i++) p.send(msg(MessageType.MsgApp, i));
  const inFlight = await t.dialer.next();
  await p.stop();
  assertInstanceOf(inFlight.request.signal!.reason, StoppedError);
  assertEquals(dropped(t, DR.post_failed), 0, "a stop is no failure");
  assertEquals(t.raft.unreachable, []);
  assertEquals(dropped(t, DR.stopped), 2);
  assertEquals(p.send(msg(MessageType.MsgApp)), false, "nothing after stop");
});
