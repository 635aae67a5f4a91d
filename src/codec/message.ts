/**
 * The message stream codec (`/raft/stream/message`, and the head of a
 * snapshot POST body): each frame is an 8-byte big-endian length followed by
 * that many bytes of protobuf Message.
 *
 * @module
 */

import type { Message } from "../../raftpb/raft_pb.ts";
import { FrameTooLargeError, TruncatedFrameError } from "../errors.ts";
import { allocBytes, ByteWriter } from "./byte_writer.ts";
import { ChunkQueue } from "./chunk_queue.ts";
import { decodeMessageAt, encodeMessage, writeMessage } from "./protobuf.ts";

/** etcd's limit on one message-stream frame: 512 MiB. */
export const DEFAULT_MAX_FRAME_SIZE = 512 * 1024 * 1024;

/** Options of the frame decoders. */
export interface FrameDecoderOptions {
  /**
   * Largest frame accepted, in bytes; a larger length prefix fails the
   * stream before anything is allocated. Default 512 MiB, as etcd.
   */
  maxFrameSize?: number;
}

/** Appends one length-prefixed frame of `m` to `w`. */
export function writeMessageFrame(w: ByteWriter, m: Message): void {
  w.ensure(8);
  const at = w.pos;
  w.pos += 8;
  writeMessage(w, m);
  w.patchU64(at, w.pos - at - 8);
}

/**
 * Encodes one Message as a frame: 8-byte big-endian length + protobuf.
 *
 * @example
 * ```ts
 * import { create } from "@rafthttp/rafthttp";
 * import { encodeMessageFrame, MessageSchema, MessageType } from "@rafthttp/rafthttp";
 * const frame = encodeMessageFrame(create(MessageSchema, { type: MessageType.MsgHeartbeat }));
 * console.log(frame.length); // 38
 * ```
 */
export function encodeMessageFrame(m: Message): Uint8Array<ArrayBuffer> {
  const bytes = encodeMessage(m);
  const out = allocBytes(8 + bytes.length);
  new ByteWriter(0, out).u64(bytes.length);
  out.set(bytes, 8);
  return out;
}

/**
 * Splits a byte stream into frames and decodes each, synchronously: feed it
 * chunks with {@link push}; call {@link finish} at the end of the stream.
 */
export class MessageFrameDecoder {
  #q = new ChunkQueue();
  #max: number;

  /** Creates a decoder; see {@link FrameDecoderOptions}. */
  constructor(options: FrameDecoderOptions = {}) {
    this.#max = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
  }

  /** Bytes buffered that do not yet form a whole frame. */
  get buffered(): number {
    return this.#q.length;
  }

  /**
   * Decodes every whole frame now available, calling `emit` for each.
   * Throws a DecodeError (and must not be used again) on bad input.
   */
  push(chunk: Uint8Array, emit: (m: Message) => void): void {
    this.#q.push(chunk);
    for (let m = this.#next(); m !== undefined; m = this.#next()) emit(m);
  }

  /**
   * Adds `chunk` and decodes at most one frame: the first whole one, or
   * undefined while it is incomplete. What follows it stays buffered (see
   * {@link rest}): a snapshot body is one frame and then raw data.
   */
  pushOne(chunk: Uint8Array): Message | undefined {
    this.#q.push(chunk);
    return this.#next();
  }

  /** Takes the buffered bytes that follow the frames decoded so far. */
  rest(): Uint8Array {
    const q = this.#q;
    if (q.length === 0) return new Uint8Array(0);
    q.contiguous(q.length);
    const out = q.parts[0].subarray(q.head, q.head + q.length);
    q.skip(q.length);
    return out;
  }

  /** The next whole frame's message, or undefined until one is buffered. */
  #next(): Message | undefined {
    const q = this.#q;
    if (q.length < 8) return undefined;
    const size = q.u64At(0);
    if (size > this.#max) throw new FrameTooLargeError(q.consumed, size, this.#max);
    const total = 8 + size;
    if (q.length < total) return undefined;
    q.contiguous(total);
    const start = q.head + 8;
    const m = decodeMessageAt(q.parts[0], start, start + size, q.consumed - q.head);
    q.skip(total);
    return m;
  }

  /** Checks that the stream did not end inside a frame. */
  finish(): void {
    const q = this.#q;
    if (q.length === 0) return;
    const needed = q.length >= 8 ? 8 + q.u64At(0) : 8;
    throw new TruncatedFrameError(q.consumed, needed, q.length);
  }
}

/**
 * Encodes raft Messages into length-prefixed frames, one chunk per message.
 *
 * @example
 * ```ts
 * import { create } from "@rafthttp/rafthttp";
 * import { MessageDecoderStream, MessageEncoderStream, MessageSchema, MessageType } from "@rafthttp/rafthttp";
 * const out = ReadableStream.from([create(MessageSchema, { type: MessageType.MsgVote, to: 2n })])
 *   .pipeThrough(new MessageEncoderStream())
 *   .pipeThrough(new MessageDecoderStream());
 * for await (const m of out) console.log(m.to); // 2n
 * ```
 */
export class MessageEncoderStream extends TransformStream<Message, Uint8Array> {
  /** Creates the stream. */
  constructor() {
    super({
      transform(m, controller) {
        controller.enqueue(encodeMessageFrame(m));
      },
    });
  }
}

/**
 * Decodes a byte stream of length-prefixed frames into raft Messages. Frames
 * may be split across chunks or packed many per chunk. Bad input errors the
 * stream with a {@link DecodeError} subclass naming the byte offset.
 *
 * @example
 * ```ts
 * import { MessageDecoderStream } from "@rafthttp/rafthttp";
 * const hb = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 30, 8, 8, 16, 0, 24, 0, 32, 0, 40, 0, 48, 0,
 *   64, 0, 74, 10, 18, 8, 10, 2, 40, 0, 16, 0, 24, 0, 80, 0, 88, 0]);
 * for await (const m of ReadableStream.from([hb]).pipeThrough(new MessageDecoderStream())) {
 *   console.log(m.type); // 8 (MsgHeartbeat)
 * }
 * ```
 */
export class MessageDecoderStream extends TransformStream<Uint8Array, Message> {
  /** Creates the stream; see {@link FrameDecoderOptions}. */
  constructor(options: FrameDecoderOptions = {}) {
    const decoder = new MessageFrameDecoder(options);
    super({
      transform(chunk, controller) {
        decoder.push(chunk, (m) => controller.enqueue(m));
      },
      flush() {
        decoder.finish();
      },
    });
  }
}
