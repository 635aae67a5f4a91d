import { assertEquals, assertInstanceOf, assertThrows } from "@std/assert";
import { create, equals, fromBinary, toBinary } from "npm:@bufbuild/protobuf@2.17.0";
import { DecodeError } from "../errors.ts";
import { decodeMessage, encodeMessage, messageSize } from "./protobuf.ts";
import { type Message, MessageSchema, MessageType } from "../../raftpb/raft_pb.ts";
import { hex, MESSAGE_VECTORS, plainMessage, toHex } from "./testdata/vectors.ts";
import { mulberry32, randomFullMessage } from "./testdata/random.ts";

function assertSameMessage(actual: Message, expected: Message) {
  assertEquals(toHex(encodeMessage(actual)), toHex(encodeMessage(expected)));
  assertEquals(plainMessage(actual), plainMessage(expected));
}

for (const v of MESSAGE_VECTORS) {
  Deno.test(`protobuf: encodes ${v.name} exactly as etcd`, () => {
    assertEquals(toHex(encodeMessage(v.message)), toHex(hex(v.hex)));
    assertEquals(messageSize(v.message), hex(v.hex).length);
  });
  Deno.test(`protobuf: decodes etcd's bytes of ${v.name}`, () => {
    assertSameMessage(decodeMessage(hex(v.hex)), v.message);
  });
}

Deno.test("protobuf: keeps an empty-but-present entry data distinct from absent", () => {
  const present = decodeMessage(hex(MESSAGE_VECTORS[9].hex));
  const absent = decodeMessage(hex(MESSAGE_VECTORS[10].hex));
  assertEquals(Object.hasOwn(present.entries[0], "data"), true);
  assertEquals(Object.hasOwn(absent.entries[0], "data"), false);
});

Deno.test("protobuf: re-emits unknown fields at the end of their message, as Go does", () => {
  const m = decodeMessage(hex("08 08 68 05 10 02 18 01"));
  assertEquals(m.type, MessageType.MsgHeartbeat);
  assertEquals(m.to, 2n);
  assertEquals(m.from, 1n);
  assertEquals(
    toHex(encodeMessage(m)),
    "0808100218012000280030004000" + "4a0a12080a0228001000180050005800" +
      "6805",
  );
});

Deno.test("protobuf: accepts packed voters and re-encodes them unpacked", () => {
  // snapshot { metadata { conf_state { voters packed [1,2,3] } } }
  const m = decodeMessage(hex("08 07 4a 09 12 07 0a 05 0a 03 01 02 03"));
  assertEquals(m.snapshot?.metadata?.confState?.voters, [1n, 2n, 3n]);
  const out = toHex(encodeMessage(m));
  assertEquals(out.includes("0a080801080208032800"), true, out);
});

Deno.test("protobuf: accepts messages that omit zero fields", () => {
  const m = decodeMessage(hex("08 03 10 02"));
  assertEquals(m.type, MessageType.MsgApp);
  assertEquals(m.to, 2n);
  assertEquals(m.commit, 0n);
  assertEquals(m.snapshot, undefined);
});

Deno.test("protobuf: agrees byte for byte with @bufbuild/protobuf's toBinary when every field is set", () => {
  const rnd = mulberry32(7);
  for (let i = 0; i < 2000; i++) {
    const m = randomFullMessage(rnd);
    const ours = encodeMessage(m);
    assertEquals(toHex(ours), toHex(toBinary(MessageSchema, m)));
    const back = decodeMessage(ours);
    assertEquals(toHex(encodeMessage(back)), toHex(ours));
    if (!equals(MessageSchema, fromBinary(MessageSchema, ours), back)) {
      throw new Error(`decode differs from fromBinary for ${toHex(ours)}`);
    }
  }
});

Deno.test("protobuf: malformed input gives a DecodeError naming the offset", () => {
  const cases: [string, string, number][] = [
    ["08", "truncated varint", 1],
    ["08 80 80", "truncated varint", 1],
    ["10 ff ff ff ff ff ff ff ff ff ff 01", "longer than 10 bytes", 1],
    ["3a 05 08 00", "runs past the end", 1],
    ["0a 01 00", "wrong wire type 2 for Message", 0],
    ["3a 02 0a 00", "wrong wire type 2 for Entry", 2],
    ["00 00", "field number 0", 1],
    ["6f", "unknown wire type 7", 0],
  ];
  for (const [input, text, offset] of cases) {
    const e = assertThrows(() => decodeMessage(hex(input)), DecodeError);
    assertInstanceOf(e, DecodeError);
    if (!e.message.includes(text)) {
      throw new Error(`${input}: "${e.message}" lacks "${text}"`);
    }
    assertEquals(e.offset, offset, `${input}: ${e.message}`);
  }
});

Deno.test("protobuf: rejects uint64 values out of range when encoding", () => {
  assertThrows(
    () => encodeMessage(create(MessageSchema, { to: -1n })),
    RangeError,
  );
  assertThrows(
    () => encodeMessage(create(MessageSchema, { to: 1n << 64n })),
    RangeError,
  );
});

Deno.test("protobuf: round-trips the largest uint64", () => {
  const max = (1n << 64n) - 1n;
  const m = create(MessageSchema, {
    to: max,
    from: 1n << 63n,
    term: (1n << 53n) + 1n,
  });
  const back = decodeMessage(encodeMessage(m));
  assertEquals([back.to, back.from, back.term], [
    max,
    1n << 63n,
    (1n << 53n) + 1n,
  ]);
  assertEquals(
    toHex(encodeMessage(m)),
    toHex(toBinary(MessageSchema, fullyPresent(m))),
  );
});

function fullyPresent(m: Message): Message {
  return create(MessageSchema, {
    type: m.type,
    to: m.to,
    from: m.from,
    term: m.term,
    logTerm: m.logTerm,
    index: m.index,
    commit: m.commit,
    entries: m.entries,
    snapshot: {
      metadata: { confState: { autoLeave: false }, index: 0n, term: 0n },
    },
    reject: m.reject,
    rejectHint: m.rejectHint,
  });
}
