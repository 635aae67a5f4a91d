/**
 * Where received snapshot data goes.
 *
 * @module
 */

import type { Message } from "../../raftpb/raft_pb.ts";

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
  /**
   * Optional: the sink keeps broken transfers itself (see
   * {@link SnapshotPartials}), so that an extension continuing them writes
   * each byte once. Without it such an extension keeps its own copy.
   */
  readonly partial?: SnapshotPartials;
}

/**
 * The partial snapshots a sink holds of broken transfers, one per transfer
 * `key` (a file-name-safe string), for an extension that continues a
 * transfer where it broke (one is on by default). The extension
 * writes the verified data into them and keeps the index (offsets, digests,
 * bounds, expiry); the sink only stores bytes. A partial is never a
 * snapshot until {@link SnapshotPartial.commit} succeeded.
 *
 * @example
 * ```ts
 * import { FileSnapshotSink, type SnapshotPartials } from "@rafthttp/rafthttp";
 * const dir = await Deno.makeTempDir();
 * const partials: SnapshotPartials = new FileSnapshotSink(dir).partial;
 * const p = await partials.open("t1", 0);
 * await p.write(new Uint8Array([1, 2, 3]), 0);
 * await p.close(); // kept: a later attempt opens it at offset 3
 * await partials.remove("t1");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface SnapshotPartials {
  /**
   * Opens the partial of `key` cut to its first `offset` bytes; 0 starts a
   * new, empty one. Rejects if fewer than `offset` bytes are held.
   */
  open(key: string, offset: number): Promise<SnapshotPartial>;
  /** Deletes the partial of `key` (nothing if there is none). */
  remove(key: string): Promise<void>;
  /** Deletes every partial of this sink, also those of an earlier process. */
  removeAll(): Promise<void>;
}

/**
 * One open partial snapshot; see {@link SnapshotPartials}.
 *
 * @example
 * ```ts
 * import { create, FileSnapshotSink, MessageSchema, MessageType } from "@rafthttp/rafthttp";
 * const dir = await Deno.makeTempDir();
 * const p = await new FileSnapshotSink(dir).partial.open("t1", 0);
 * await p.write(new Uint8Array([1, 2, 3]), 0);
 * const m = create(MessageSchema, { type: MessageType.MsgSnap, snapshot: { metadata: { index: 11n } } });
 * await p.commit(m, 3); // now <dir>/000000000000000b.snap.db
 * console.log((await Deno.stat(`${dir}/000000000000000b.snap.db`)).size); // 3
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface SnapshotPartial {
  /** Reads held bytes at `pos` into `buf[off, off + len)`; the count read (0 at the end). */
  read(buf: Uint8Array, off: number, len: number, pos: number): Promise<number>;
  /** Writes all of `data` at `pos`. */
  write(data: Uint8Array, pos: number): Promise<void>;
  /**
   * Makes the partial the snapshot of `m` (durably, under its final name) if
   * it holds exactly `size` bytes; otherwise rejects and deletes it. Closes it.
   */
  commit(m: Message, size: number): Promise<void>;
  /** Closes it, keeping the data (the transfer broke). */
  close(): Promise<void>;
}
