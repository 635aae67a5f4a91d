import { assertEquals, assertInstanceOf, assertRejects, assertThrows } from "@std/assert";
import { create } from "npm:@bufbuild/protobuf@2.17.0";
import { DecodeError, FrameTooLargeError, TruncatedFrameError } from "../errors.ts";
import {
  encodeMessageFrame,
  MessageDecoderStream,
  MessageEncoderStream,
  MessageFrameDecoder,
} from "./message.ts";
import { type Message, MessageSchema, MessageType } from "../../raftpb/raft_pb.ts";
import { hex, MESSAGE_VECTORS, plainMessage, toHex } from "./testdata/vectors.ts";
import { concat } from "../testdata/bytes.ts";

const LINK_HEARTBEAT_FRAME = "000000000000001e" +
  "08081000180020002800300040004a0a12080a0228001000180050005800";

function decodeAll(chunks: Uint8Array[], max?: number): Message[] {
  const d = new MessageFrameDecoder({ maxFrameSize: max });
  const out: Message[] = [];
  for (const c of chunks) d.push(c, (m) => out.push(m));
  d.finish();
  return out;
}

Deno.test("message frame: the link heartbeat frame matches etcd's bytes both ways", () => {
  const frame = encodeMessageFrame(
    create(MessageSchema, { type: MessageType.MsgHeartbeat }),
  );
  assertEquals(toHex(frame), LINK_HEARTBEAT_FRAME);
  const [m] = decodeAll([hex(LINK_HEARTBEAT_FRAME)]);
  assertEquals(m.type, MessageType.MsgHeartbeat);
  assertEquals([m.to, m.from], [0n, 0n]);
});

Deno.test("message frame: the live-captured heartbeat frame (details §6.5) decodes", () => {
  const bytes = hex("0000000000000030" + MESSAGE_VECTORS[4].hex);
  const [m] = decodeAll([bytes]);
  assertEquals(plainMessage(m), plainMessage(MESSAGE_VECTORS[4].message));
  assertEquals(
    toHex(encodeMessageFrame(MESSAGE_VECTORS[4].message)),
    toHex(bytes),
  );
});

Deno.test("message frame: every vector survives being split at every byte", () => {
  const all = concat(MESSAGE_VECTORS.map((v) => encodeMessageFrame(v.message)));
  const expected = MESSAGE_VECTORS.map((v) => plainMessage(v.message));
  for (let cut = 0; cut <= all.length; cut++) {
    const got = decodeAll([all.subarray(0, cut), all.subarray(cut)]);
    assertEquals(got.map(plainMessage), expected);
  }
  // One byte per chunk, and everything in one chunk.
  assertEquals(
    decodeAll(Array.from(all, (b) => new Uint8Array([b]))).map(plainMessage),
    expected,
  );
  assertEquals(decodeAll([all]).map(plainMessage), expected);
});

Deno.test("message frame: a length prefix over the limit fails before allocating", () => {
  const d = new MessageFrameDecoder({ maxFrameSize: 1024 });
  const e = assertThrows(
    () => d.push(hex("0000000000000401"), () => {}),
    FrameTooLargeError,
  );
  assertEquals([e.size, e.limit, e.offset], [1025, 1024, 0]);
  // The default limit is etcd's 512 MiB; a 2^60 claim is refused at once.
  const big = assertThrows(
    () => new MessageFrameDecoder().push(hex("1000000000000000"), () => {}),
    FrameTooLargeError,
  );
  assertEquals(big.limit, 512 * 1024 * 1024);
});

Deno.test("message frame: the error offset counts from the start of the stream", () => {
  const good = hex(LINK_HEARTBEAT_FRAME);
  const d = new MessageFrameDecoder({ maxFrameSize: 100 });
  const out: Message[] = [];
  d.push(good, (m) => out.push(m));
  const e = assertThrows(
    () => d.push(hex("00000000000000ff"), () => {}),
    FrameTooLargeError,
  );
  assertEquals(e.offset, 38);
  assertEquals(out.length, 1);
});

Deno.test("message frame: a stream that ends mid-frame is a TruncatedFrameError", () => {
  const frame = hex(LINK_HEARTBEAT_FRAME);
  for (const cut of [1, 7, 8, 20, 37]) {
    const e = assertThrows(
      () => decodeAll([frame.subarray(0, cut)]),
      TruncatedFrameError,
    );
    assertEquals(e.received, cut);
    assertEquals(e.needed, cut < 8 ? 8 : 38);
  }
});

Deno.test("message frame: garbage protobuf gives a DecodeError at its stream offset", () => {
  const bad = concat([
    hex(LINK_HEARTBEAT_FRAME),
    hex("0000000000000002 3a 05"),
  ]);
  const e = assertThrows(() => decodeAll([bad]), DecodeError);
  assertEquals(e.offset, 38 + 8 + 1);
});

Deno.test("message frame: streams round-trip many messages and surface errors", async () => {
  const msgs = Array.from({ length: 500 }, (_, i) =>
    create(MessageSchema, {
      type: MessageType.MsgApp,
      to: 2n,
      from: 1n,
      index: BigInt(i),
      entries: [{ index: BigInt(i + 1), data: new Uint8Array(i % 50) }],
    }));
  const out = await Array.fromAsync(
    ReadableStream.from(msgs).pipeThrough(new MessageEncoderStream())
      .pipeThrough(
        new MessageDecoderStream(),
      ),
  );
  assertEquals(out.map(plainMessage), msgs.map(plainMessage));

  const truncated = ReadableStream.from([hex("00000000000000")]).pipeThrough(
    new MessageDecoderStream(),
  );
  const err = await assertRejects(
    () => Array.fromAsync(truncated),
    TruncatedFrameError,
  );
  assertInstanceOf(err, DecodeError);
});
