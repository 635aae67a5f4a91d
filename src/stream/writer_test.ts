// The stream writer alone: its response body is read directly, its timers
// run on a fake clock.
import { assert, assertEquals } from "@std/assert";
import { create, MessageSchema } from "../../raftpb/schemas.ts";
import { type Message, MessageType } from "../../raftpb/raft_pb.ts";
import { encodeMessageFrame } from "../codec/message.ts";
import { linkHeartbeat, MsgAppV2FrameDecoder } from "../codec/msgappv2.ts";
import { CH, DR, DROP_REASONS } from "../metrics/peer_metrics.ts";
import { CONFIRM_MS } from "../peer/link.ts";
import { concat } from "../testdata/bytes.ts";
import { settle } from "../testdata/fake_clock.ts";
import { LOCAL, PEER, testPeer } from "../testdata/peer_context.ts";
import { StreamWriter } from "./writer.ts";

const HEARTBEAT = encodeMessageFrame(linkHeartbeat());

/** Messages of one encoded size (small terms), so that chunk sizes can be counted in frames. */
const msg = (term: number): Message =>
  create(MessageSchema, {
    type: MessageType.MsgHeartbeat,
    from: LOCAL,
    to: PEER,
    term: BigInt(term),
  });
const FRAME = encodeMessageFrame(msg(1)).length;

const frames = (...ms: Message[]) => concat(ms.map(encodeMessageFrame));

/** The count of messages dropped on the message stream for `reason`. */
const dropped = (t: ReturnType<typeof testPeer>, reason: number) =>
  t.ctx.metrics.sendDrops[CH.message * DROP_REASONS.length + reason];

Deno.test("StreamWriter: opens with a link heartbeat, then coalesces queued messages into chunks up to the chunk size", async () => {
  using t = testPeer({ stream: { chunkSize: 2 * FRAME } });
  const w = new StreamWriter("message", t.ctx);
  const body = w.attach().getReader();
  assertEquals((await body.read()).value, HEARTBEAT);
  // A lone message goes out at once, alone.
  w.send(msg(1));
  assertEquals((await body.read()).value, frames(msg(1)));
  // Five queued while nobody reads: two frames fill a chunk, so 2 + 2 + 1.
  for (let i = 2; i <= 6; i++) assert(w.send(msg(i)));
  assertEquals((await body.read()).value, frames(msg(2), msg(3)));
  assertEquals((await body.read()).value, frames(msg(4), msg(5)));
  assertEquals((await body.read()).value, frames(msg(6)));
  assertEquals(w.queued, 0);
  assertEquals(t.ctx.stats.sentMessages, 6);
  assertEquals(t.ctx.stats.sentChunks, 5);
  w.stop();
  assertEquals((await body.read()).done, true);
});

Deno.test("StreamWriter: msgappv2 frames decode back in order on the peer's side", async () => {
  using t = testPeer();
  const w = new StreamWriter("msgappv2", t.ctx);
  const body = w.attach().getReader();
  const apps = [1, 2, 3].map((i) =>
    create(MessageSchema, {
      type: MessageType.MsgApp,
      from: LOCAL,
      to: PEER,
      term: 2n,
      logTerm: 2n,
      index: BigInt(i),
      commit: BigInt(i),
      entries: [{ term: 2n, index: BigInt(i + 1), data: new Uint8Array([i]) }],
    })
  );
  for (const m of apps) w.send(m);
  const got: Message[] = [];
  // The peer decodes what we (LOCAL) write to it.
  const decoder = new MsgAppV2FrameDecoder(PEER, LOCAL);
  decoder.push((await body.read()).value!, (m) => got.push(m));
  assertEquals(got.map((m) => [m.type, m.index, m.entries[0]?.data[0]]), [
    [MessageType.MsgHeartbeat, 0n, undefined],
    ...apps.map((m) => [MessageType.MsgApp, m.index, m.entries[0].data[0]]),
  ]);
  w.stop();
});

Deno.test("StreamWriter: a full queue refuses (the caller drops); a failed stream drops and reports what waited", async () => {
  using t = testPeer({ stream: { queueSize: 3 } });
  const w = new StreamWriter("message", t.ctx);
  for (let i = 1; i <= 3; i++) assert(w.send(msg(i)));
  assertEquals(w.send(msg(4)), false, "the fourth does not fit");
  assertEquals(w.queued, 3);
  assertEquals(w.working, false);
  // Queued messages wait for a body and go out on it.
  const body = w.attach().getReader();
  assertEquals(w.working, true);
  assertEquals((await body.read()).value, concat([HEARTBEAT, frames(msg(1), msg(2), msg(3))]));
  // The peer's reader goes away with messages queued: they are dropped and reported.
  w.send(msg(5));
  w.send(msg(6));
  await body.cancel("gone");
  assertEquals(w.working, false);
  assertEquals(dropped(t, DR.stream_closed), 2);
  assertEquals(t.ctx.stats.sendDrops, 2);
  assertEquals(t.raft.unreachable, [PEER]);
  assertEquals(t.ctx.status.active, false);
});

Deno.test("StreamWriter: an idle body gets a link heartbeat each interval on the clock; a send wakes it at once", async () => {
  using t = testPeer({ stream: { linkHeartbeatIntervalMs: 1000 } });
  const w = new StreamWriter("message", t.ctx);
  const body = w.attach().getReader();
  assertEquals((await body.read()).value, HEARTBEAT);
  let next: Uint8Array | undefined;
  const reading = body.read().then((r) => next = r.value);
  await t.clock.advance(999);
  assertEquals(next, undefined, "nothing before the interval");
  await t.clock.advance(1);
  assertEquals(next, HEARTBEAT, "a heartbeat at the interval");
  await reading;
  // A message does not wait for the clock.
  next = undefined;
  const second = body.read().then((r) => next = r.value);
  await settle();
  assertEquals(next, undefined);
  w.send(msg(7));
  await settle();
  assertEquals(next, frames(msg(7)));
  await second;
  w.stop();
});

Deno.test("StreamWriter: a reader that takes nothing past the write timeout while data waits fails the stream", async () => {
  using t = testPeer({ stream: { linkHeartbeatIntervalMs: 1000, writeTimeoutMs: 5000 } });
  const w = new StreamWriter("message", t.ctx);
  const body = w.attach().getReader();
  await body.read(); // the last pull, at time 0
  w.send(msg(1));
  w.send(msg(2));
  await t.clock.advance(5000);
  assertEquals(w.working, true, "5000 ms without a pull is not past the timeout");
  await t.clock.advance(1000);
  assertEquals(w.working, false);
  assertEquals(t.ctx.status.active, false);
  assertEquals(dropped(t, DR.stream_closed), 2);
  assertEquals(t.raft.unreachable, [PEER]);
  assertEquals((await body.read()).done, true, "the body is ended");
  assertEquals(t.clock.pending, 0, "the heartbeat timer is released");
});

Deno.test("StreamWriter: a dead link counts what nothing confirmed as dropped and ends the body", async () => {
  using t = testPeer();
  const w = new StreamWriter("message", t.ctx);
  const body = w.attach().getReader();
  for (let i = 1; i <= 3; i++) w.send(msg(i));
  await body.read(); // written now; nothing heard from the peer since
  w.send(msg(4)); // still queued
  t.ctx.link.dead("silent");
  assertEquals(dropped(t, DR.link_dead), 3 + 1);
  assertEquals(w.working, false);
  assertEquals((await body.read()).done, true);

  // On a new body, writes the peer's later bytes confirm are not counted.
  const again = w.attach().getReader();
  w.send(msg(5));
  await again.read();
  await t.clock.advance(CONFIRM_MS);
  t.ctx.link.lastHeard = t.clock.now();
  t.ctx.link.dead("silent again");
  assertEquals(dropped(t, DR.link_dead), 4, "nothing more");
});

Deno.test("StreamWriter: a new body ends the old one cleanly and takes over its queue; stop ends all", async () => {
  using t = testPeer();
  const w = new StreamWriter("message", t.ctx);
  const first = w.attach().getReader();
  await first.read();
  w.send(msg(1));
  const second = w.attach().getReader();
  assertEquals((await first.read()).done, true);
  assertEquals((await second.read()).value, concat([HEARTBEAT, frames(msg(1))]));
  assertEquals(t.ctx.stats.sendDrops, 0, "a replaced body drops nothing");
  w.send(msg(2));
  w.stop();
  assertEquals((await second.read()).done, true);
  assertEquals(dropped(t, DR.stopped), 1);
  assertEquals((await w.attach().getReader().read()).done, true, "no body after stop");
  assertEquals(t.clock.pending, 0);
});
