// Codec speed: our hand-written codec next to @bufbuild/protobuf's
// reflection path (toBinary / fromBinary), and the stream decoders'
// throughput over a large buffer of frames. Run: deno task bench
import { create, fromBinary, toBinary } from "npm:@bufbuild/protobuf@2.17.0";
import { type Message, MessageSchema, MessageType } from "../raftpb/raft_pb.ts";
import { decodeMessage, encodeMessage } from "../src/codec/protobuf.ts";
import { ByteWriter } from "../src/codec/byte_writer.ts";
import {
  MessageDecoderStream,
  MessageFrameDecoder,
  writeMessageFrame,
} from "../src/codec/message.ts";
import { MsgAppV2Encoder, MsgAppV2FrameDecoder } from "../src/codec/msgappv2.ts";

// Real-looking 64-bit member ids.
const FROM = 0x91bc3c398fb3c146n;
const TO = 0x8e9e05c52164694dn;
const payload = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31) & 0xff);

function msgApp(entries: number, index = 1000n): Message {
  return create(MessageSchema, {
    type: MessageType.MsgApp,
    from: FROM,
    to: TO,
    term: 7n,
    logTerm: 7n,
    index,
    commit: index - 3n,
    entries: Array.from({ length: entries }, (_, i) => ({
      term: 7n,
      index: index + 1n + BigInt(i),
      data: payload(64),
    })),
  });
}

const cases: [string, Message][] = [
  ["MsgApp, 1 x 64 B entry", msgApp(1)],
  ["MsgApp, 64 x 64 B entries", msgApp(64)],
  [
    "MsgHeartbeat",
    create(MessageSchema, {
      type: MessageType.MsgHeartbeat,
      from: FROM,
      to: TO,
      term: 7n,
      commit: 900n,
    }),
  ],
];

// fromBinary/toBinary only emit set fields; a decoded etcd message has all
// of them set, which is the fair input for both encoders.
for (const [name, m] of cases) {
  const decoded = fromBinary(MessageSchema, encodeMessage(m));
  const bytes = encodeMessage(m);
  Deno.bench(`encode ${name}: ours`, { group: `encode ${name}`, baseline: true }, () => {
    encodeMessage(decoded);
  });
  Deno.bench(`encode ${name}: @bufbuild toBinary`, { group: `encode ${name}` }, () => {
    toBinary(MessageSchema, decoded);
  });
  Deno.bench(`decode ${name}: ours`, { group: `decode ${name}`, baseline: true }, () => {
    decodeMessage(bytes);
  });
  Deno.bench(`decode ${name}: @bufbuild fromBinary`, { group: `decode ${name}` }, () => {
    fromBinary(MessageSchema, bytes);
  });
}

// 10k MsgApps (1 x 64 B entry) as one buffer of frames, cut into 64 KiB chunks
// the way a fetch body delivers them.
const N = 10_000;
function chunked(buf: Uint8Array, size = 65536): Uint8Array[] {
  const out = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}
const messageFrames = (() => {
  const w = new ByteWriter(1 << 20);
  for (let i = 0; i < N; i++) writeMessageFrame(w, msgApp(1, BigInt(1000 + i)));
  return w.take();
})();
const appFrames = (() => {
  const w = new ByteWriter(1 << 20);
  const enc = new MsgAppV2Encoder();
  for (let i = 0; i < N; i++) enc.write(w, msgApp(1, BigInt(1000 + i)));
  return w.take();
})();
const messageChunks = chunked(messageFrames);
const appChunks = chunked(appFrames);
const mb = (b: Uint8Array) => (b.length / 1e6).toFixed(2);

Deno.bench(
  `stream decode: message frames, ${N} MsgApps in ${mb(messageFrames)} MB (sync splitter)`,
  { group: "stream decode", baseline: true, n: 200 },
  () => {
    const d = new MessageFrameDecoder();
    let n = 0;
    for (const c of messageChunks) d.push(c, () => n++);
    if (n !== N) throw new Error(`decoded ${n}`);
  },
);
Deno.bench(
  `stream decode: msgappv2 frames, ${N} MsgApps in ${mb(appFrames)} MB (sync splitter)`,
  { group: "stream decode", n: 200 },
  () => {
    const d = new MsgAppV2FrameDecoder(TO, FROM);
    let n = 0;
    for (const c of appChunks) d.push(c, () => n++);
    if (n !== N) throw new Error(`decoded ${n}`);
  },
);
Deno.bench(
  `stream decode: message frames through MessageDecoderStream`,
  { group: "stream decode", n: 100 },
  async () => {
    let n = 0;
    for await (
      const _ of ReadableStream.from(messageChunks).pipeThrough(new MessageDecoderStream())
    ) n++;
    if (n !== N) throw new Error(`decoded ${n}`);
  },
);

// The stream writer's path: frames encoded straight into a reused buffer.
{
  const m = fromBinary(MessageSchema, encodeMessage(msgApp(1)));
  const w = new ByteWriter(1 << 16);
  Deno.bench("encode MsgApp, 1 x 64 B entry: ours, frame into a reused buffer", {
    group: "encode MsgApp, 1 x 64 B entry",
  }, () => {
    if (w.pos > 60000) w.reset();
    writeMessageFrame(w, m);
  });
}

// Frames that span chunks: Go's net/http writes a stream in 4 KiB pieces,
// which the node dialer hands over as they come, so every 16 KiB frame is
// gathered from several chunks (into the ChunkQueue's slab).
for (const size of [1024, 16384]) {
  const w = new ByteWriter();
  for (let i = 0; i < 64; i++) {
    const m = msgApp(1, BigInt(1000 + i));
    m.entries[0].data = payload(size);
    writeMessageFrame(w, m);
  }
  const all = w.take();
  const pieces: Uint8Array[] = [];
  for (let o = 0; o < all.length; o += 4096) pieces.push(all.slice(o, o + 4096));
  Deno.bench(`decode 64 MsgApps of ${size} B from 4 KiB chunks`, () => {
    const d = new MessageFrameDecoder({ maxFrameSize: 1 << 26 });
    let n = 0;
    for (const p of pieces) d.push(p, () => n++);
    if (n !== 64) throw new Error(`decoded ${n} of 64`);
  });
}
