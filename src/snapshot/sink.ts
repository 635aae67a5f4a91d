/**
 * Where received snapshot data goes.
 *
 * @module
 */

import type { Message } from "../raftpb/raft_pb.ts";

/**
 * Where received snapshot data goes. `save` gets the MsgSnap and the data
 * that followed it, and must read `data` to its end and resolve only once
 * the data is durably stored; the transport then passes the MsgSnap to
 * `Raft.process`. If the sender fails midway, `data` errors (and `signal`
 * aborts): the sink must then discard what it wrote and reject, so that
 * nothing partial is ever taken for a complete snapshot.
 *
 * @example
 * ```ts
 * import type { Message, SnapshotSink } from "@rafthttp/rafthttp";
 * // Keeps only a byte count, for tests.
 * const sizes = new Map<bigint, number>();
 * const sink: SnapshotSink = {
 *   async save(m: Message, data: ReadableStream<Uint8Array>) {
 *     let n = 0;
 *     for await (const chunk of data) n += chunk.length;
 *     sizes.set(m.snapshot?.metadata?.index ?? 0n, n);
 *   },
 * };
 * await sink.save({} as Message, ReadableStream.from([new Uint8Array(3)]), AbortSignal.timeout(1000));
 * console.log(sizes.get(0n)); // 3
 * ```
 */
export interface SnapshotSink {
  /** Stores the snapshot data; see the interface description. */
  save(m: Message, data: ReadableStream<Uint8Array>, signal: AbortSignal): Promise<void>;
}
