/**
 * etcd's msgappv2 codec, used on `/raft/stream/msgapp`. A frame is one type
 * byte and then:
 * - `0x00` link heartbeat: nothing more;
 * - `0x01` compact MsgApp: u64 entry count, each entry as u64 size +
 *   protobuf Entry, then u64 commit; type, from, to, term, logTerm and index
 *   are implied by the connection and the codec state;
 * - `0x02` full MsgApp: u64 length + protobuf Message.
 *
 * Encoder and decoder keep the same state (term, index), reset only by a new
 * connection, and update it identically, so the compact form can leave
 * fields out.
 *
 * @module
 */

import { create } from "npm:@bufbuild/protobuf@2.17.0";
import { type Entry, type Message, MessageSchema, MessageType } from "../../raftpb/raft_pb.ts";
import { DecodeError, FrameTooLargeError, TruncatedFrameError } from "../errors.ts";
import { ByteWriter } from "./byte_writer.ts";
import { ChunkQueue } from "./chunk_queue.ts";
import {
  decodeEntryAt,
  decodeMessageAt,
  newMessage,
  writeEntry,
  writeMessage,
} from "./protobuf.ts";
import { DEFAULT_MAX_FRAME_SIZE, type FrameDecoderOptions } from "./message.ts";

const LINK_HEARTBEAT = 0;
const APP_ENTRIES = 1;
const FULL_MSGAPP = 2;

/** The big-endian 32-bit unsigned integer at `b[p, p + 4)`. */
function u32be(b: Uint8Array, p: number): number {
  return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
}

/** True for the link heartbeat: MsgHeartbeat with from and to both 0. */
export function isLinkHeartbeat(m: Message): boolean {
  return m.type === MessageType.MsgHeartbeat && m.from === 0n && m.to === 0n;
}

/** The link heartbeat message that streams send to keep idle links alive. */
export function linkHeartbeat(): Message {
  return create(MessageSchema, { type: MessageType.MsgHeartbeat });
}

/**
 * The encoding state of one msgappv2 connection. Write messages with
 * {@link write}; a new connection needs a new encoder.
 */
export class MsgAppV2Encoder {
  /** Term of the last full MsgApp. */
  term = 0n;
  /** Index the next compact MsgApp must start at. */
  index = 0n;

  /** Appends the frame for `m` to `w`, choosing the form as etcd does. */
  write(w: ByteWriter, m: Message): void {
    if (isLinkHeartbeat(m)) {
      w.ensure(1);
      w.buf[w.pos++] = LINK_HEARTBEAT;
      return;
    }
    const entries = m.entries;
    if (
      m.index === this.index && m.logTerm === this.term && m.term === m.logTerm
    ) {
      w.ensure(17 + 8 * entries.length);
      w.buf[w.pos++] = APP_ENTRIES;
      w.u64(entries.length);
      for (let i = 0; i < entries.length; i++) {
        w.ensure(8);
        const at = w.pos;
        w.pos += 8;
        writeEntry(w, entries[i]);
        w.patchU64(at, w.pos - at - 8);
      }
      w.ensure(8);
      w.u64big(m.commit);
      this.index += BigInt(entries.length);
      return;
    }
    w.ensure(9);
    w.buf[w.pos++] = FULL_MSGAPP;
    const at = w.pos;
    w.pos += 8;
    writeMessage(w, m);
    w.patchU64(at, w.pos - at - 8);
    this.term = m.term;
    this.index = entries.length > 0 ? entries[entries.length - 1].index : m.index;
  }
}

/**
 * Decodes a msgappv2 byte stream, synchronously. `local` and `remote` are the
 * ids of this node and of the peer that writes the stream: compact frames
 * leave `to` and `from` implied.
 */
export class MsgAppV2FrameDecoder {
  #q = new ChunkQueue();
  #max: number;
  #local: bigint;
  #remote: bigint;
  #term = 0n;
  #index = 0n;
  #commit = 0n;
  #commitHi = 0;
  #commitLo = 0;
  // Resumable scan of a compact frame whose entries have not all arrived:
  // offset of the next entry header, and entries left to scan.
  #scanAt = 0;
  #scanLeft = -1;
  #need = 1;

  /** Creates a decoder for the stream `remote` writes to `local`. */
  constructor(
    local: bigint,
    remote: bigint,
    options: FrameDecoderOptions = {},
  ) {
    this.#local = local;
    this.#remote = remote;
    this.#max = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
  }

  /** Bytes buffered that do not yet form a whole frame. */
  get buffered(): number {
    return this.#q.length;
  }

  /**
   * Decodes every whole frame now available, calling `emit` for each (link
   * heartbeats included). Throws a DecodeError on bad input.
   */
  push(chunk: Uint8Array, emit: (m: Message) => void): void {
    const q = this.#q;
    q.push(chunk);
    while (q.length >= this.#need) {
      const total = this.#frameLength();
      if (total < 0) return;
      q.contiguous(total);
      const m = this.#decode(q.parts[0], q.head, total, q.consumed - q.head);
      q.skip(total);
      this.#need = 1;
      emit(m);
    }
  }

  /** Checks that the stream did not end inside a frame. */
  finish(): void {
    const q = this.#q;
    if (q.length === 0) return;
    throw new TruncatedFrameError(q.consumed, this.#need, q.length);
  }

  /**
   * Length of the frame at the queue's head, or -1 when more bytes are
   * needed (then `#need` says how many, counted from the frame start).
   */
  #frameLength(): number {
    const q = this.#q;
    const type = q.byteAt(0);
    if (type === LINK_HEARTBEAT) return 1;
    if (type === FULL_MSGAPP) {
      if (q.length < 9) return this.#wait(9);
      const size = q.u64At(1);
      if (size > this.#max - 9) {
        throw new FrameTooLargeError(q.consumed, 9 + size, this.#max);
      }
      return q.length >= 9 + size ? 9 + size : this.#wait(9 + size);
    }
    if (type !== APP_ENTRIES) {
      throw new DecodeError(
        `failed to parse type ${type} in msgappv2 stream`,
        q.consumed,
      );
    }
    if (this.#scanLeft < 0) {
      if (q.length < 9) return this.#wait(9);
      const n = q.u64At(1);
      // Every entry needs at least its 8-byte size, so n is bounded.
      if (17 + 8 * n > this.#max) {
        throw new FrameTooLargeError(q.consumed, 17 + 8 * n, this.#max);
      }
      this.#scanAt = 9;
      this.#scanLeft = n;
    }
    while (this.#scanLeft > 0) {
      if (q.length < this.#scanAt + 8) return this.#wait(this.#scanAt + 8);
      const size = q.u64At(this.#scanAt);
      const next = this.#scanAt + 8 + size;
      if (next + 8 * this.#scanLeft > this.#max) {
        throw new FrameTooLargeError(
          q.consumed,
          next + 8 * this.#scanLeft,
          this.#max,
        );
      }
      this.#scanAt = next;
      this.#scanLeft--;
    }
    const total = this.#scanAt + 8;
    if (q.length < total) return this.#wait(total);
    this.#scanLeft = -1;
    return total;
  }

  #wait(need: number): number {
    this.#need = need;
    return -1;
  }

  /**
   * The commit index at `buf[p, p + 8)`. It repeats from frame to frame
   * while nothing commits, so the last one is kept rather than a new bigint.
   */
  #commitAt(buf: Uint8Array, p: number): bigint {
    const hi = u32be(buf, p);
    const lo = u32be(buf, p + 4);
    if (hi !== this.#commitHi || lo !== this.#commitLo) {
      this.#commitHi = hi;
      this.#commitLo = lo;
      this.#commit = (BigInt(hi) << 32n) | BigInt(lo);
    }
    return this.#commit;
  }

  /** Decodes the whole frame at `buf[at, at + total)`. */
  #decode(buf: Uint8Array, at: number, total: number, base: number): Message {
    const end = at + total;
    if (buf[at] === LINK_HEARTBEAT) return linkHeartbeat();
    if (buf[at] === FULL_MSGAPP) {
      const m = decodeMessageAt(buf, at + 9, end, base);
      this.#term = m.term;
      const entries = m.entries;
      this.#index = entries.length > 0 ? entries[entries.length - 1].index : m.index;
      return m;
    }
    // Read by hand: a DataView per frame was garbage for every message.
    const n = u32be(buf, at + 1) * 0x100000000 + u32be(buf, at + 5);
    const entries: Entry[] = [];
    let p = at + 9;
    for (let i = 0; i < n; i++) {
      const size = u32be(buf, p) * 0x100000000 + u32be(buf, p + 4);
      p += 8;
      entries.push(decodeEntryAt(buf, p, p + size, base));
      p += size;
    }
    const m = newMessage(
      MessageType.MsgApp,
      this.#local,
      this.#remote,
      this.#term,
      this.#term,
      this.#index,
      entries,
      this.#commitAt(buf, p),
    );
    m.reject = false;
    m.rejectHint = 0n;
    this.#index += n === 1 ? 1n : BigInt(n);
    return m;
  }
}

/**
 * Encodes MsgApp messages (and link heartbeats) into msgappv2 frames for one
 * connection, one chunk per message. Only MsgApp belongs on this stream.
 *
 * @example
 * ```ts
 * import { create } from "@rafthttp/rafthttp";
 * import { MessageSchema, MessageType, MsgAppV2DecoderStream, MsgAppV2EncoderStream } from "@rafthttp/rafthttp";
 * const app = (index: bigint) =>
 *   create(MessageSchema, { type: MessageType.MsgApp, from: 1n, to: 2n, term: 5n, logTerm: 5n, index,
 *     entries: [{ term: 5n, index: index + 1n, data: new Uint8Array([1]) }] });
 * const out = ReadableStream.from([app(10n), app(11n)])
 *   .pipeThrough(new MsgAppV2EncoderStream())
 *   .pipeThrough(new MsgAppV2DecoderStream(2n, 1n));
 * for await (const m of out) console.log(m.index); // 10n, then 11n
 * ```
 */
export class MsgAppV2EncoderStream extends TransformStream<Message, Uint8Array> {
  /** Creates the stream with fresh codec state. */
  constructor() {
    const encoder = new MsgAppV2Encoder();
    const w = new ByteWriter(256);
    super({
      transform(m, controller) {
        encoder.write(w, m);
        controller.enqueue(w.take());
      },
    });
  }
}

/**
 * Decodes a msgappv2 byte stream written by peer `remote` to this node
 * `local` into Messages (link heartbeats included, as MsgHeartbeat with from
 * and to 0). Bad input errors the stream with a {@link DecodeError}.
 *
 * @example
 * ```ts
 * import { MsgAppV2DecoderStream } from "@rafthttp/rafthttp";
 * const heartbeat = new Uint8Array([0]);
 * for await (const m of ReadableStream.from([heartbeat]).pipeThrough(new MsgAppV2DecoderStream(2n, 1n))) {
 *   console.log(m.type); // 8 (MsgHeartbeat)
 * }
 * ```
 */
export class MsgAppV2DecoderStream extends TransformStream<Uint8Array, Message> {
  /** Creates the stream for the connection from `remote` to `local`. */
  constructor(
    local: bigint,
    remote: bigint,
    options: FrameDecoderOptions = {},
  ) {
    const decoder = new MsgAppV2FrameDecoder(local, remote, options);
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
