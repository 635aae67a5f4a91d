/**
 * A snapshot on its way out: the MsgSnap and the data that follows it.
 *
 * @module
 */

import type { Message } from "../../raftpb/raft_pb.ts";
import { ProgressMeter, type SnapshotProgress } from "./progress.ts";

const meters = new WeakMap<SnapshotMessage, ProgressMeter>();

/** The progress meter of `snap`, for the sender. */
export function progressMeter(snap: SnapshotMessage): ProgressMeter {
  return meters.get(snap)!;
}

/**
 * Optional parts of a {@link SnapshotMessage}.
 *
 * @example
 * ```ts
 * import type { SnapshotMessageOptions } from "@rafthttp/rafthttp";
 * const data = new Uint8Array(1024);
 * const opts: SnapshotMessageOptions = {
 *   reopen: (offset) => ReadableStream.from([data.subarray(offset)]),
 *   onProgress: (p) => console.log(p.sent, p.total),
 * };
 * console.log(typeof opts.reopen);
 * ```
 */
export interface SnapshotMessageOptions {
  /**
   * Reads the data again from byte `offset` (to its end). With it a broken
   * send to a member of this library retries where the receiver stands (and
   * to an etcd member, from 0); without it a send is tried once. It must
   * yield the same bytes as `body`.
   */
  reopen?(offset: number): ReadableStream<Uint8Array>;
  /** Called as the data goes out (at most every 100 ms, and at the end of each attempt). */
  onProgress?(progress: SnapshotProgress): void;
}

/**
 * A MsgSnap together with the snapshot data that follows it in the
 * `POST /raft/snapshot` body (etcd's `snap.Message`). The data is streamed,
 * never held in memory as a whole. `done` settles when the transfer ends:
 * true once the peer accepted it, false if it failed.
 *
 * @example
 * ```ts
 * import { create } from "@rafthttp/rafthttp";
 * import { MessageSchema, MessageType, SnapshotMessage } from "@rafthttp/rafthttp";
 * const data = new Uint8Array(1024);
 * const snap = new SnapshotMessage(
 *   create(MessageSchema, { type: MessageType.MsgSnap, to: 2n, from: 1n, snapshot: { metadata: { index: 10n } } }),
 *   ReadableStream.from([data]),
 *   data.length,
 * );
 * snap.done.then((ok) => console.log(ok ? "sent" : "failed"));
 * snap.close(false); // what the transport does when it gives up
 * ```
 */
export class SnapshotMessage {
  /** The MsgSnap; its `snapshot.metadata.index` names the data. */
  readonly message: Message;
  /** The snapshot data (etcd: the backend database file). */
  readonly body: ReadableStream<Uint8Array>;
  /** Exact byte length of `body`; a body of another length fails the transfer. */
  readonly totalSize: number;
  /** Resolves true when the peer accepted the snapshot, false when the transfer failed. */
  readonly done: Promise<boolean>;
  /** Reads the data again from an offset; see {@link SnapshotMessageOptions.reopen}. */
  readonly reopen: ((offset: number) => ReadableStream<Uint8Array>) | undefined;
  /** How far the send is (also reported to `onProgress`). */
  get progress(): SnapshotProgress {
    return meters.get(this)!.current;
  }
  #resolve!: (ok: boolean) => void;
  #closed = false;

  /** Creates the message; `totalSize` is the byte length of `body`. */
  constructor(
    message: Message,
    body: ReadableStream<Uint8Array>,
    totalSize: number,
    options: SnapshotMessageOptions = {},
  ) {
    if (!Number.isSafeInteger(totalSize) || totalSize < 0) {
      throw new RangeError(`snapshot totalSize must be a non-negative integer, got ${totalSize}`);
    }
    this.message = message;
    this.body = body;
    this.totalSize = totalSize;
    this.reopen = options.reopen;
    meters.set(this, new ProgressMeter(totalSize, options.onProgress));
    this.done = new Promise((resolve) => this.#resolve = resolve);
  }

  /**
   * Ends the transfer: settles `done` with `ok` and, on failure, cancels the
   * body. Called by the transport; later calls do nothing.
   */
  close(ok: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!ok) this.body.cancel().catch(() => {});
    this.#resolve(ok);
  }
}
