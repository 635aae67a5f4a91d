import { assert, assertEquals, assertInstanceOf, assertRejects } from "@std/assert";
import { create } from "../../raftpb/schemas.ts";
import { MessageSchema } from "../../raftpb/schemas.ts";
import { MessageType } from "../../raftpb/raft_pb.ts";
import { encodeMessageFrame } from "./message.ts";
import { readSnapshotEnvelope } from "./envelope.ts";
import { DecodeError, FrameTooLargeError, TruncatedFrameError } from "../errors.ts";
import { plainMessage } from "./testdata/vectors.ts";
import { concat } from "../testdata/bytes.ts";

const LIMIT = 1 << 20;

const SNAP = create(MessageSchema, {
  type: MessageType.MsgSnap,
  to: 2n,
  from: 1n,
  term: 7n,
  snapshot: {
    metadata: { index: 3393n, term: 6n, confState: { voters: [1n, 2n, 3n] } },
  },
});

const DATA = Uint8Array.from({ length: 37 }, (_, i) => (i * 13 + 5) & 0xff);

/** A stream yielding `chunks` one per pull; `pulls` counts the reads it served. */
function source(chunks: Uint8Array[]) {
  const state = { pulls: 0 };
  let i = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i === chunks.length) {
        controller.close();
        return;
      }
      state.pulls++;
      controller.enqueue(chunks[i++]);
    },
  }, { highWaterMark: 0 });
  return { stream, state };
}

/** Everything left in the reader. */
async function drain(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return concat(parts);
    parts.push(value);
  }
}

Deno.test("readSnapshotEnvelope: the message and the data rest, split at every byte", async () => {
  const frame = encodeMessageFrame(SNAP);
  const body = concat([frame, DATA]);
  for (let cut = 0; cut <= body.length; cut++) {
    const { stream } = source([body.slice(0, cut), body.slice(cut)].filter((c) => c.length > 0));
    const reader = stream.getReader();
    const env = await readSnapshotEnvelope(reader, LIMIT);
    assertEquals(plainMessage(env.message), plainMessage(SNAP), `cut ${cut}`);
    // The rest is what the chunks read so far carried past the frame, no more.
    const expectRest = cut >= frame.length ? body.slice(frame.length, cut) : DATA;
    assertEquals(Array.from(env.rest), Array.from(expectRest), `rest at cut ${cut}`);
    const tail = await drain(reader);
    assertEquals(Array.from(concat([env.rest, tail])), Array.from(DATA), `data at cut ${cut}`);
  }
});

Deno.test("readSnapshotEnvelope: one byte per chunk, and a three-way split", async () => {
  const frame = encodeMessageFrame(SNAP);
  const body = concat([frame, DATA]);
  {
    const { stream, state } = source(Array.from(body, (b) => new Uint8Array([b])));
    const reader = stream.getReader();
    const env = await readSnapshotEnvelope(reader, LIMIT);
    assertEquals(plainMessage(env.message), plainMessage(SNAP));
    assertEquals(env.rest.length, 0);
    assertEquals(state.pulls, frame.length, "read past the frame");
    assertEquals(Array.from(await drain(reader)), Array.from(DATA));
  }
  for (let a = 0; a <= body.length; a += 5) {
    for (let b = a; b <= body.length; b += 7) {
      const chunks = [body.slice(0, a), body.slice(a, b), body.slice(b)];
      const reader = source(chunks.filter((c) => c.length > 0)).stream.getReader();
      const env = await readSnapshotEnvelope(reader, LIMIT);
      assertEquals(plainMessage(env.message), plainMessage(SNAP));
      const tail = await drain(reader);
      assertEquals(Array.from(concat([env.rest, tail])), Array.from(DATA), `cuts ${a},${b}`);
    }
  }
});

Deno.test("readSnapshotEnvelope: the message alone (no data) gives an empty rest", async () => {
  const reader = source([encodeMessageFrame(SNAP)]).stream.getReader();
  const env = await readSnapshotEnvelope(reader, LIMIT);
  assertEquals(plainMessage(env.message), plainMessage(SNAP));
  assertEquals(env.rest.length, 0);
});

Deno.test("readSnapshotEnvelope: too large a length prefix fails before reading further", async () => {
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, 5000n);
  const { stream, state } = source([prefix, new Uint8Array(5000)]);
  const e = await assertRejects(
    () => readSnapshotEnvelope(stream.getReader(), 4096),
    FrameTooLargeError,
  );
  assertInstanceOf(e, FrameTooLargeError);
  assertEquals((e as FrameTooLargeError).size, 5000);
  assertEquals((e as FrameTooLargeError).limit, 4096);
  assertEquals(state.pulls, 1, "read the frame body although its size was refused");
});

Deno.test("readSnapshotEnvelope: a huge 64-bit prefix split across chunks is refused", async () => {
  const prefix = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf0]);
  const { stream, state } = source([prefix.slice(0, 3), prefix.slice(3), new Uint8Array(10)]);
  const e = await assertRejects(
    () => readSnapshotEnvelope(stream.getReader(), LIMIT),
    FrameTooLargeError,
  );
  assert((e as FrameTooLargeError).size > 2 ** 63);
  assertEquals(state.pulls, 2);
});

Deno.test("readSnapshotEnvelope: a prefix exactly at the limit is accepted", async () => {
  const frame = encodeMessageFrame(SNAP);
  const size = frame.length - 8;
  const env = await readSnapshotEnvelope(source([frame]).stream.getReader(), size);
  assertEquals(env.message.type, MessageType.MsgSnap);
  await assertRejects(
    () => readSnapshotEnvelope(source([frame]).stream.getReader(), size - 1),
    FrameTooLargeError,
  );
});

Deno.test("readSnapshotEnvelope: a body ending early is a TruncatedFrameError", async () => {
  const frame = encodeMessageFrame(SNAP);
  for (const n of [0, 1, 7, 8, 9, frame.length - 1]) {
    const chunks = n === 0 ? [] : [frame.slice(0, n)];
    const e = await assertRejects(
      () => readSnapshotEnvelope(source(chunks).stream.getReader(), LIMIT),
      TruncatedFrameError,
    );
    const t = e as TruncatedFrameError;
    assertEquals(t.received, n, `cut at ${n}`);
    assertEquals(t.needed, n < 8 ? 8 : frame.length, `cut at ${n}`);
  }
});

Deno.test("readSnapshotEnvelope: garbage inside the frame is a DecodeError", async () => {
  const garbage = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 5, 0xff, 0xff, 0xff, 0xff, 0xff]);
  const e = await assertRejects(
    () => readSnapshotEnvelope(source([garbage, DATA]).stream.getReader(), LIMIT),
    DecodeError,
  );
  assert(!(e instanceof TruncatedFrameError), "a complete frame is not truncated");
  assert(!(e instanceof FrameTooLargeError));
  // A field with wire type 7 (invalid) inside a complete frame.
  const bad = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 2, 0x0f, 0x00]);
  await assertRejects(
    () => readSnapshotEnvelope(source([bad]).stream.getReader(), LIMIT),
    DecodeError,
  );
});
