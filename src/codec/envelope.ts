/**
 * The head of a `POST /raft/snapshot` body: an 8-byte big-endian length and
 * the MsgSnap it frames, followed by the snapshot data. Read with the same
 * frame rules as the message stream, from a reader that keeps the rest.
 *
 * @module
 */

import type { Message } from "../../raftpb/raft_pb.ts";
import { MessageFrameDecoder } from "./message.ts";
import { TruncatedFrameError } from "../errors.ts";

/** The MsgSnap at the head of a snapshot body, and the data bytes read with it. */
export interface SnapshotEnvelope {
  /** The decoded MsgSnap. */
  message: Message;
  /** Bytes of the last chunk read that already belong to the data. */
  rest: Uint8Array;
  /** Bytes of the envelope itself: the 8-byte length and the MsgSnap. */
  size: number;
}

/**
 * Reads the envelope from `reader` with the message stream's frame decoder:
 * a `FrameTooLargeError` (before buffering it) when it claims more than
 * `limit` bytes, a `TruncatedFrameError` if the body ends first, a
 * `DecodeError` for a bad message.
 */
export async function readSnapshotEnvelope(
  reader: Pick<ReadableStreamDefaultReader<Uint8Array>, "read">,
  limit: number,
): Promise<SnapshotEnvelope> {
  const decoder = new MessageFrameDecoder({ maxFrameSize: limit });
  let read = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      decoder.finish(); // throws if the body ended inside the frame
      throw new TruncatedFrameError(0, 8, 0);
    }
    read += value.length;
    const message = decoder.pushOne(value);
    if (message !== undefined) {
      const rest = decoder.rest();
      return { message, rest, size: read - rest.length };
    }
  }
}
