import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import { create } from "npm:@bufbuild/protobuf@2.17.0";
import { DecodeError, FrameTooLargeError, TruncatedFrameError } from "../errors.ts";
import { ByteWriter } from "./byte_writer.ts";
import {
  linkHeartbeat,
  MsgAppV2DecoderStream,
  MsgAppV2Encoder,
  MsgAppV2EncoderStream,
  MsgAppV2FrameDecoder,
} from "./msgappv2.ts";
import { type Message, MessageSchema, MessageType } from "../../raftpb/raft_pb.ts";
import { hex, plainMessage, toHex } from "./testdata/vectors.ts";

const te = new TextEncoder();

function app(
  f: {
    term: bigint;
    logTerm: bigint;
    index: bigint;
    commit: bigint;
    entries: [bigint, bigint, string?][];
  },
  from = 1n,
  to = 2n,
): Message {
  return create(MessageSchema, {
    type: MessageType.MsgApp,
    from,
    to,
    term: f.term,
    logTerm: f.logTerm,
    index: f.index,
    commit: f.commit,
    entries: f.entries.map(([term, index, data]) =>
      data === undefined ? { term, index } : { term, index, data: te.encode(data) }
    ),
  });
}

function encodeEach(
  msgs: Message[],
): { frames: string[]; states: [bigint, bigint][] } {
  const enc = new MsgAppV2Encoder();
  const w = new ByteWriter();
  const frames: string[] = [];
  const states: [bigint, bigint][] = [];
  for (const m of msgs) {
    enc.write(w, m);
    frames.push(toHex(w.take()));
    states.push([enc.term, enc.index]);
  }
  return { frames, states };
}

function decodeAll(
  chunks: Uint8Array[],
  local = 2n,
  remote = 1n,
  max?: number,
): Message[] {
  const d = new MsgAppV2FrameDecoder(local, remote, { maxFrameSize: max });
  const out: Message[] = [];
  for (const c of chunks) d.push(c, (m) => out.push(m));
  d.finish();
  return out;
}

// etcd-wire.md §4, verified example.
const WIRE_M1 = app({
  term: 5n,
  logTerm: 5n,
  index: 10n,
  commit: 9n,
  entries: [[5n, 11n, "a"]],
});
const WIRE_M2 = app({
  term: 5n,
  logTerm: 5n,
  index: 11n,
  commit: 11n,
  entries: [[5n, 12n, "b"]],
});
const WIRE_M1_HEX = "02" + "0000000000000029" +
  "08031002180120052805300a3a0908001005180b22016140094a0a12080a0228001000180050005800";
const WIRE_M2_HEX = "01" + "0000000000000001" + "0000000000000009" +
  "08001005180c220162" + "000000000000000b";

Deno.test("msgappv2: encodes etcd-wire.md §4 example exactly", () => {
  const { frames, states } = encodeEach([WIRE_M1, WIRE_M2, linkHeartbeat()]);
  assertEquals(frames, [WIRE_M1_HEX, WIRE_M2_HEX, "00"]);
  assertEquals(states, [[5n, 11n], [5n, 12n], [5n, 12n]]);
});

Deno.test("msgappv2: decodes etcd-wire.md §4 example, filling implied fields", () => {
  const out = decodeAll([hex(WIRE_M1_HEX + WIRE_M2_HEX + "00")]);
  assertEquals(
    out.map(plainMessage),
    [WIRE_M1, WIRE_M2, linkHeartbeat()].map(plainMessage),
  );
});

// etcd-wire-details.md §8.2: a real Go encoder, fresh state.
const ROWS = [
  app({
    term: 1n,
    logTerm: 1n,
    index: 5n,
    commit: 5n,
    entries: [[1n, 6n, "abc"]],
  }),
  app({
    term: 1n,
    logTerm: 1n,
    index: 6n,
    commit: 6n,
    entries: [[1n, 7n, "de"], [1n, 8n, "f"]],
  }),
  linkHeartbeat(),
  app({ term: 1n, logTerm: 1n, index: 8n, commit: 8n, entries: [] }),
  app({ term: 2n, logTerm: 1n, index: 8n, commit: 8n, entries: [[2n, 9n]] }),
  app({ term: 2n, logTerm: 1n, index: 9n, commit: 9n, entries: [] }),
];
const ROW0 =
  "02 000000000000002b 080310021801200128013005 3a0b0800100118062203616263 40054a0a12080a0228001000180050005800";
const ROW1 =
  "01 0000000000000002 000000000000000a 08001001180722026465 0000000000000009 080010011808220166 0000000000000006";
const ROW3 = "01 0000000000000000 0000000000000008";

Deno.test("msgappv2: encodes etcd-wire-details.md §8.2 rows as Go did", () => {
  const { frames, states } = encodeEach(ROWS);
  assertEquals(
    frames.slice(0, 4),
    [ROW0, ROW1, "00", ROW3].map((h) => toHex(hex(h))),
  );
  assertEquals(frames.map((f) => f.length / 2), [52, 52, 1, 17, 47, 39]);
  assertEquals(frames[4].slice(0, 18), "020000000000000026");
  assertEquals(frames[5].slice(0, 2), "02");
  assertEquals(states, [[1n, 6n], [1n, 8n], [1n, 8n], [1n, 8n], [2n, 9n], [
    2n,
    9n,
  ]]);
});

Deno.test("msgappv2: decodes etcd-wire-details.md §8.2 rows back to the same messages", () => {
  const { frames } = encodeEach(ROWS);
  const out = decodeAll([hex(frames.join(""))]);
  assertEquals(out.map(plainMessage), ROWS.map(plainMessage));
  // Row 1 decodes with From/To from the connection.
  assertEquals([out[1].from, out[1].to, out[1].index, out[1].commit], [
    1n,
    2n,
    6n,
    6n,
  ]);
});

Deno.test("msgappv2: the compact form takes from/to from the connection, not the message", () => {
  const m = decodeAll([hex(ROW0 + ROW1)], 0xaan, 0xbbn)[1];
  assertEquals([m.from, m.to], [0xbbn, 0xaan]);
});

Deno.test("msgappv2: frames split at every byte decode the same", () => {
  const { frames } = encodeEach(ROWS);
  const all = hex(frames.join(""));
  const expected = ROWS.map(plainMessage);
  for (let cut = 0; cut <= all.length; cut++) {
    assertEquals(
      decodeAll([all.subarray(0, cut), all.subarray(cut)]).map(plainMessage),
      expected,
    );
  }
  assertEquals(
    decodeAll(Array.from(all, (b) => new Uint8Array([b]))).map(plainMessage),
    expected,
  );
});

Deno.test("msgappv2: an unknown type byte fails with etcd's wording", () => {
  const e = assertThrows(() => decodeAll([hex("00 00 03")]), DecodeError);
  assertEquals(
    e.message,
    "failed to parse type 3 in msgappv2 stream (at byte 2)",
  );
  assertEquals(e.offset, 2);
});

Deno.test("msgappv2: huge entry counts and sizes are refused before allocation", () => {
  const count = assertThrows(
    () => decodeAll([hex("01 0fffffffffffffff")]),
    FrameTooLargeError,
  );
  assertEquals(count.limit, 512 * 1024 * 1024);
  const size = assertThrows(
    () => decodeAll([hex("01 0000000000000002 00000000ffffffff")], 2n, 1n, 1 << 20),
    FrameTooLargeError,
  );
  assertEquals(size.limit, 1 << 20);
  assertThrows(
    () => decodeAll([hex("02 00000000ffffffff")], 2n, 1n, 1 << 20),
    FrameTooLargeError,
  );
});

Deno.test("msgappv2: a stream ending inside a frame is a TruncatedFrameError", () => {
  const { frames } = encodeEach(ROWS.slice(0, 2));
  const all = hex(frames.join(""));
  for (const cut of [1, 8, 9, 60, all.length - 1]) {
    assertThrows(() => decodeAll([all.subarray(0, cut)]), TruncatedFrameError);
  }
});

Deno.test("msgappv2: streams round-trip a long contiguous run and keep state across chunks", async () => {
  const msgs: Message[] = [];
  for (let i = 0; i < 300; i++) {
    const term = i < 150 ? 3n : 4n;
    msgs.push(app(
      {
        term,
        logTerm: term,
        index: BigInt(100 + i),
        commit: BigInt(90 + i),
        entries: [[term, BigInt(101 + i), "x".repeat(i % 40)]],
      },
      0x1234567890abcdefn,
      7n,
    ));
  }
  const out = await Array.fromAsync(
    ReadableStream.from(msgs).pipeThrough(new MsgAppV2EncoderStream())
      .pipeThrough(
        new MsgAppV2DecoderStream(7n, 0x1234567890abcdefn),
      ),
  );
  assertEquals(out.map(plainMessage), msgs.map(plainMessage));
  await assertRejects(
    () =>
      Array.fromAsync(
        ReadableStream.from([hex("09")]).pipeThrough(
          new MsgAppV2DecoderStream(1n, 2n),
        ),
      ),
    DecodeError,
  );
});
