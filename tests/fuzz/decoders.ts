// Throws random and mutated byte streams at both stream decoders: each must
// end in messages or a typed DecodeError, never anything else, and never
// buffer more than it was given. Used by the test run and by `deno task fuzz`.
import { assert } from "@std/assert";
import { DecodeError } from "../../src/errors.ts";
import { ByteWriter } from "../../src/codec/byte_writer.ts";
import { MessageFrameDecoder, writeMessageFrame } from "../../src/codec/message.ts";
import { MsgAppV2Encoder, MsgAppV2FrameDecoder } from "../../src/codec/msgappv2.ts";
import { randomFullMessage } from "../../src/codec/testdata/random.ts";
import { type Message, MessageType } from "../../raftpb/raft_pb.ts";

function seedStreams(rnd: () => number) {
  const messageStream = new ByteWriter();
  const appStream = new ByteWriter();
  const enc = new MsgAppV2Encoder();
  let index = 10n;
  for (let i = 0; i < 40; i++) {
    const m = randomFullMessage(rnd);
    writeMessageFrame(messageStream, m);
    // A run of contiguous MsgApps, so the compact form appears too.
    m.type = MessageType.MsgApp;
    m.term = m.logTerm = 3n;
    m.index = index;
    index += BigInt(m.entries.length);
    enc.write(appStream, m);
    if (i % 7 === 0) {
      enc.write(
        appStream,
        { ...m, type: MessageType.MsgHeartbeat, from: 0n, to: 0n } as Message,
      );
    }
  }
  return [messageStream.take(), appStream.take()];
}

function mutate(rnd: () => number, base: Uint8Array): Uint8Array {
  const kind = Math.floor(rnd() * 6);
  const start = Math.floor(rnd() * base.length);
  const len = Math.min(base.length - start, 1 + Math.floor(rnd() * 400));
  const b = base.slice(start, start + len);
  switch (kind) {
    case 0: // flip bits
      for (let i = 0, n = 1 + Math.floor(rnd() * 4); i < n; i++) {
        b[Math.floor(rnd() * b.length)] ^= 1 << Math.floor(rnd() * 8);
      }
      return b;
    case 1: // random bytes
      return b.map(() => Math.floor(rnd() * 256));
    case 2: { // a huge length prefix or count somewhere
      const out = new Uint8Array(b.length + 9);
      out.set(b);
      out[b.length] = [0, 1, 2][Math.floor(rnd() * 3)];
      for (let i = 1; i < 9; i++) out[b.length + i] = Math.floor(rnd() * 256);
      return out;
    }
    case 3: // frame-aligned valid prefix, truncated
      return base.slice(0, Math.floor(rnd() * Math.min(base.length, 600)));
    case 4: // insert a byte
      return Uint8Array.from([
        ...b.subarray(0, 3),
        Math.floor(rnd() * 256),
        ...b.subarray(3),
      ]);
    default:
      return b;
  }
}

function run(
  decoder: {
    push(c: Uint8Array, emit: (m: Message) => void): void;
    finish(): void;
    buffered: number;
  },
  input: Uint8Array,
  rnd: () => number,
): "ok" | "error" {
  let fed = 0;
  try {
    let at = 0;
    while (at < input.length) {
      const n = 1 + Math.floor(rnd() * 64);
      const chunk = input.subarray(at, at + n);
      at += n;
      fed += chunk.length;
      decoder.push(chunk, (m) => assert(typeof m.type === "number"));
      assert(
        decoder.buffered <= fed,
        "decoder buffered more than it was given",
      );
    }
    decoder.finish();
    return "ok";
  } catch (e) {
    if (e instanceof DecodeError) return "error";
    throw new Error(`non-DecodeError on input of ${input.length} bytes: ${e}`, {
      cause: e,
    });
  }
}

/** Outcomes per decoder. */
export interface DecoderOutcomes {
  message: { ok: number; error: number };
  msgappv2: { ok: number; error: number };
}

/** Runs `n` inputs (alternating decoders) drawn from `rnd`; throws on anything but a DecodeError. */
export function fuzzDecoders(rnd: () => number, n: number, out: DecoderOutcomes): void {
  const [messageStream, appStream] = seedStreams(rnd);
  for (let i = 0; i < n; i++) {
    const useApp = i % 2 === 1;
    const input = mutate(rnd, useApp ? appStream : messageStream);
    const max = rnd() < 0.5 ? 4096 : undefined;
    if (useApp) {
      out.msgappv2[run(new MsgAppV2FrameDecoder(2n, 1n, { maxFrameSize: max }), input, rnd)]++;
    } else {
      out.message[run(new MessageFrameDecoder({ maxFrameSize: max }), input, rnd)]++;
    }
  }
}
