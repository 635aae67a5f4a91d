/**
 * The head of a `POST /raft/snapshot` body: an 8-byte big-endian length and
 * the MsgSnap it frames, followed by the snapshot data. Read with the same
 * frame rules as the message stream, from a reader that keeps the rest.
 *
 * @module
 */

import type { Message } from "../raftpb/raft_pb.ts";
import { ChunkQueue } from "./chunk_queue.ts";
import { decodeMessageAt } from "./protobuf.ts";
import { DecodeError, FrameTooLargeError, TruncatedFrameError } from "../errors.ts";

/** The MsgSnap at the head of a snapshot body, and the data bytes read with it. */
export interface SnapshotEnvelope {
  /** The decoded MsgSnap. */
  message: Message;
  /** Bytes of the last chunk read that already belong to the data. */
  rest: Uint8Array;
}

/**
 * Reads the envelope from `reader`; throws {@link FrameTooLargeError}
 * (before buffering it) when it claims more than `limit` bytes,
 * {@link TruncatedFrameError} if the body ends first, {@link DecodeError}
 * for a bad message.
 */
export async function readSnapshotEnvelope(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  limit: number,
): Promise<SnapshotEnvelope> {
  const q = new ChunkQueue();
  let size = -1;
  for (;;) {
    if (size < 0 && q.length >= 8) {
      size = q.u64At(0);
      if (size > limit) throw new FrameTooLargeError(0, size, limit);
    }
    if (size >= 0 && q.length >= 8 + size) break;
    const { done, value } = await reader.read();
    if (done) throw new TruncatedFrameError(0, size < 0 ? 8 : 8 + size, q.length);
    q.push(value);
  }
  q.contiguous(8 + size);
  const buf = q.parts[0];
  const start = q.head + 8;
  let message: Message;
  try {
    message = decodeMessageAt(buf, start, start + size, -q.head);
  } catch (e) {
    if (e instanceof DecodeError) throw e;
    throw new DecodeError(String(e), 8);
  }
  q.skip(8 + size);
  if (q.length === 0) return { message, rest: new Uint8Array(0) };
  q.contiguous(q.length);
  return { message, rest: q.parts[0].subarray(q.head) };
}
