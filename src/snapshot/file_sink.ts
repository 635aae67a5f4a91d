/**
 * The default snapshot sink: each snapshot's data becomes a file named as
 * etcd names it, `%016x.snap.db` after the snapshot index, written to a
 * temporary file, fsynced and renamed so that a partial file never takes
 * the final name. Uses `node:fs/promises` (Deno, Bun and Node have it),
 * loaded only when a snapshot actually arrives.
 *
 * @module
 */

import type { Message } from "../../raftpb/raft_pb.ts";
import type { SnapshotPartials, SnapshotSink } from "./sink.ts";
import { filePartials } from "./file_partial.ts";

/** The file name etcd gives the snapshot database of `index`. */
export function snapshotFileName(index: bigint): string {
  return `${index.toString(16).padStart(16, "0")}.snap.db`;
}

/**
 * Stores snapshot data as files in a directory, as etcd's `SaveDBFrom`.
 *
 * @example
 * ```ts
 * import { create } from "@rafthttp/rafthttp";
 * import { FileSnapshotSink, MessageSchema, MessageType } from "@rafthttp/rafthttp";
 * const dir = await Deno.makeTempDir();
 * const sink = new FileSnapshotSink(dir);
 * const m = create(MessageSchema, { type: MessageType.MsgSnap, snapshot: { metadata: { index: 11n } } });
 * await sink.save(m, ReadableStream.from([new Uint8Array([1, 2, 3])]), AbortSignal.timeout(5000));
 * console.log((await Deno.stat(`${dir}/000000000000000b.snap.db`)).size); // 3
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class FileSnapshotSink implements SnapshotSink {
  /** The directory the files go to (created on first use). */
  readonly dir: string;

  /**
   * Broken transfers, kept as temporary files in `dir` (`rafthttp-partial-*`)
   * for a later attempt to continue, that become the snapshot file once
   * complete; see {@link SnapshotPartials}.
   */
  readonly partial: SnapshotPartials;

  /** Creates a sink writing into `dir`. */
  constructor(dir: string) {
    this.dir = dir;
    this.partial = filePartials(dir, (tmp, m) => this.#install(tmp, m));
  }

  /** Path of the file a snapshot with `index` is stored in. */
  pathFor(index: bigint): string {
    return `${this.dir}/${snapshotFileName(index)}`;
  }

  /** Writes the data to `<dir>/<index>.snap.db`; see {@link SnapshotSink.save}. */
  async save(m: Message, data: ReadableStream<Uint8Array>, signal: AbortSignal): Promise<void> {
    const fs = await import("node:fs/promises");
    await fs.mkdir(this.dir, { recursive: true });
    const tmp = `${this.dir}/tmp${crypto.randomUUID()}`;
    const file = await fs.open(tmp, "wx");
    let complete = false;
    // Chunks are gathered into 1 MiB blocks and written from our own buffer:
    // fewer writes, and node:fs in Deno writes a buffer it owns ten times
    // faster than the chunks of a request body.
    let block = new Uint8Array(1 << 20);
    let used = 0;
    const flush = async () => {
      let off = 0;
      while (off < used) off += (await file.write(block, off, used - off)).bytesWritten;
      used = 0;
    };
    try {
      for await (const chunk of data) {
        signal.throwIfAborted();
        let at = 0;
        while (at < chunk.length) {
          const n = Math.min(block.length - used, chunk.length - at);
          block.set(chunk.subarray(at, at + n), used);
          used += n;
          at += n;
          if (used === block.length) await flush();
        }
      }
      await flush();
      await file.sync();
      complete = true;
    } finally {
      block = new Uint8Array(0);
      await file.close();
      if (!complete) await fs.rm(tmp, { force: true });
    }
    await this.#install(tmp, m);
  }

  /** Gives the complete, synced `tmp` the snapshot's name. */
  async #install(tmp: string, m: Message): Promise<void> {
    const fs = await import("node:fs/promises");
    const final = this.pathFor(m.snapshot?.metadata?.index ?? 0n);
    try {
      await fs.stat(final);
      await fs.rm(tmp, { force: true }); // etcd keeps an existing file
    } catch {
      await fs.rename(tmp, final);
    }
  }
}
