// The stream reader alone: it dials a fake dialer whose response bodies the
// test feeds chunk by chunk; its dial timeout, read deadline and redial
// backoff run on a fake clock.
import { assert, assertEquals, assertInstanceOf, assertMatch } from "@std/assert";
import { create, MessageSchema } from "../../raftpb/schemas.ts";
import { type Message, MessageType } from "../../raftpb/raft_pb.ts";
import { encodeMessageFrame } from "../codec/message.ts";
import { linkHeartbeat } from "../codec/msgappv2.ts";
import { MemberRemovedError } from "../errors.ts";
import { concat } from "../testdata/bytes.ts";
import { settle } from "../testdata/fake_clock.ts";
import type { FakeBody, FakeCall } from "../testdata/fake_dialer.ts";
import { LOCAL, PEER, type TestPeer, testPeer } from "../testdata/peer_context.ts";
import { StreamReader } from "./reader.ts";
import type { StreamType } from "./types.ts";

const VERSION = { "X-Server-Version": "3.4.23" };

const msg = (index: number): Message =>
  create(MessageSchema, { type: MessageType.MsgApp, from: PEER, to: LOCAL, index: BigInt(index) });

/** A reader of `type` on `t`'s context, started, with what it delivered. */
function startReader(t: TestPeer, type: StreamType = "message") {
  const got: Message[] = [];
  const reader = new StreamReader(type, t.ctx, (m) => got.push(m));
  reader.start();
  return { reader, got };
}

/** Answers `call` as a peer with a stream does: 200, headers now, the body to feed. */
const accept = (call: FakeCall): FakeBody => call.answer(200, VERSION);

/** Steps the clock 1 ms at a time until the reader dials again; the time it took. */
async function untilDialled(t: TestPeer, limitMs: number): Promise<number> {
  const start = t.clock.now();
  while (t.dialer.untaken === 0) {
    if (t.clock.now() - start >= limitMs) throw new Error(`no dial within ${limitMs} ms`);
    await t.clock.advance(1);
  }
  return t.clock.now() - start;
}

Deno.test("StreamReader: dials etcd's stream path and decodes frames split across chunks, in order", async () => {
  using t = testPeer();
  const { reader, got } = startReader(t);
  const call = await t.dialer.next();
  assertEquals(call.request.method, "GET");
  assertEquals(call.url, `http://peer-a:2380/raft/stream/message/${LOCAL.toString(16)}`);
  assertEquals(call.header("X-Raft-To"), PEER.toString(16));
  assertEquals(call.header("X-Server-From"), LOCAL.toString(16));
  const body = accept(call);
  await settle();
  assertEquals(reader.connected, true);
  assertEquals(t.ctx.status.active, true);

  const wire = concat([1, 2, 3].map((i) => encodeMessageFrame(msg(i))));
  const cut = encodeMessageFrame(msg(1)).length + 5; // inside the second frame
  body.push(wire.subarray(0, 3)); // inside the first frame's length
  await settle();
  assertEquals(got, []);
  body.push(wire.subarray(3, cut));
  await settle();
  assertEquals(got.map((m) => m.index), [1n]);
  body.push(wire.subarray(cut));
  await settle();
  assertEquals(got.map((m) => m.index), [1n, 2n, 3n]);
  assertEquals(t.ctx.stats.receivedBytes, wire.length);
  assertEquals(t.ctx.stats.receivedChunks, 3);
  assertEquals(t.ctx.link.lastHeard, t.clock.now());

  await reader.stop();
  assert(call.request.signal!.aborted, "stop aborts the stream");
  assertEquals(reader.connected, false);
});

Deno.test("StreamReader: a malformed frame closes only its own stream, is reported, and is redialled after backoff", async () => {
  using t = testPeer({ stream: { redialMinMs: 100, redialMaxMs: 500 } });
  let deadLinks = 0;
  t.ctx.link.onDead(() => deadLinks++);
  const { reader, got } = startReader(t, "message");
  const body = accept(await t.dialer.next());
  const other = startReader(t, "msgappv2");
  const otherBody = accept(await t.dialer.next());
  await settle();
  assertEquals([reader.connected, other.reader.connected], [true, true]);

  // A good frame, then one whose protobuf is cut short.
  body.push(
    concat([encodeMessageFrame(msg(1)), new Uint8Array([0, 0, 0, 0, 0, 0, 0, 2, 0x08, 0xff])]),
  );
  await settle();
  assertEquals(got.map((m) => m.index), [1n], "what came before is delivered");
  assertEquals(reader.connected, false);
  assertEquals(t.ctx.status.active, false);
  const lost = t.lines.find((l) => l.msg === "lost the stream from the peer");
  assertEquals(lost?.level, "warn");
  assertEquals(lost?.fields?.["stream-type"], "message");
  assertMatch(lost?.fields?.error as string, /invalid raft message protobuf/);
  assertEquals(other.reader.connected, true, "the other stream goes on");
  assertEquals(otherBody.cancelled, undefined);
  assertEquals(deadLinks, 0, "a bad frame is not a dead link");

  // The stream worked for less than a second: redialled after 100 ms +-20 %.
  const waited = await untilDialled(t, 1000);
  assert(waited >= 80 && waited <= 121, `redialled after ${waited} ms`);
  await Promise.all([reader.stop(), other.reader.stop()]);
  assertEquals(t.clock.pending, 0, "no timer left");
});

Deno.test("StreamReader: failed dials back off doubling up to the cap, failing over URLs; a stream that worked is redialled at once", async () => {
  using t = testPeer({ stream: { redialMinMs: 100, redialMaxMs: 500, readTimeoutMs: 10_000 } });
  const { reader } = startReader(t);
  const urls: string[] = [];
  const waits: number[] = [];
  for (let i = 0; i < 5; i++) {
    const call = await t.dialer.next();
    urls.push(new URL(call.url).host);
    call.reply(503, "busy", VERSION);
    waits.push(await untilDialled(t, 1000));
  }
  for (const [i, base] of [100, 200, 400, 500, 500].entries()) {
    assert(waits[i] >= 0.8 * base && waits[i] <= 1.2 * base + 1, `wait ${i}: ${waits}`);
  }
  assertEquals(urls, ["peer-a:2380", "peer-b:2380", "peer-a:2380", "peer-b:2380", "peer-a:2380"]);
  assertMatch(
    t.lines.find((l) => l.msg === "stream dial refused")!.fields!.error as string,
    /unexpected 503 busy/,
  );

  // A stream that lasted past a second ends: no backoff at all.
  const body = accept(await t.dialer.next());
  await t.clock.advance(1500);
  body.end();
  await settle();
  assertEquals(t.dialer.untaken, 1, "dialled again without the clock moving");
  await reader.stop();
});

Deno.test("StreamReader: a stream silent past the read timeout on the clock is aborted and the link declared dead", async () => {
  using t = testPeer({ stream: { readTimeoutMs: 3000 } });
  const dead: string[] = [];
  t.ctx.link.onDead((why) => dead.push(why));
  const { reader, got } = startReader(t);
  const call = await t.dialer.next();
  const body = accept(call);
  await t.clock.advance(2000);
  body.push(encodeMessageFrame(linkHeartbeat())); // a sign of life at 2000
  await t.clock.advance(2999);
  assertEquals(reader.connected, true, "silent for 2999 ms only");
  assertEquals(got.length, 1, "the heartbeat is handed on too");
  await t.clock.advance(1);
  assertEquals(reader.connected, false);
  assertEquals(dead.length, 1);
  assertMatch(dead[0], /no data \(not even a link heartbeat\) for 3000 ms/);
  assert(call.request.signal!.aborted);
  assertEquals(t.ctx.status.active, false);
  await reader.stop();
});

Deno.test("StreamReader: a dial with no answer times out; 410 tells the application; a peer without streams is skipped", async () => {
  using t = testPeer({ stream: { dialTimeoutMs: 2000, redialMinMs: 100, redialMaxMs: 100 } });
  const { reader } = startReader(t);
  const hung = await t.dialer.next();
  await t.clock.advance(1999);
  assertEquals(hung.request.signal!.aborted, false);
  await t.clock.advance(1);
  assertMatch(String(hung.request.signal!.reason), /dial timeout after 2000 ms/);
  const dialWarn = t.lines.find((l) => l.msg === "failed to dial the peer's stream");
  assertMatch(dialWarn!.fields!.error as string, /dial timeout after 2000 ms/);

  await untilDialled(t, 200);
  (await t.dialer.next()).reply(410, "removed", VERSION);
  await settle();
  assertEquals(t.errors.length, 1);
  assertInstanceOf(t.errors[0], MemberRemovedError);
  assertEquals((t.errors[0] as MemberRemovedError).peer, PEER, "it names the peer that refused us");

  await untilDialled(t, 200);
  const old = await t.dialer.next();
  const oldBody = old.answer(200, { "X-Server-Version": "2.0.0" });
  await settle();
  assertEquals(reader.connected, false, "an etcd 2.0 peer has no streams");
  assert(oldBody.cancelled !== undefined);
  assert(t.lines.some((l) => l.msg === "peer does not support this stream type"));
  await reader.stop();
  assertEquals(t.clock.pending, 0);
});
