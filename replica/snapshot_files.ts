/**
 * The state machine's snapshot data, as files beside the raft snapshots:
 * `<dir>/%016x.snap.db` by index, the name the transport's file sink gives
 * a snapshot it receives (etcd's). A snapshot is a stream end to end: the
 * state machine's `snapshot()` stream is written to its file (temporary
 * file, fsync, rename); a follower is sent the file as the body of
 * `POST /raft/snapshot`; the receiver's sink writes the body to the same
 * kind of file; `restore` reads that file as a stream. No snapshot is ever
 * held in memory whole.
 *
 * @module
 */

import {
  FileSnapshotSink,
  type Message,
  MessageSchema,
  MessageType,
  snapshotFileName,
  SnapshotMessage,
  type Transport,
} from "../mod.ts";
import { create } from "../raftpb/mod.ts";

/**
 * What a state machine's `snapshot()` may give: the bytes, or a stream of
 * them (which must hold the state as of the call: it may be read while
 * later entries are applied).
 *
 * @example
 * ```ts
 * import type { SnapshotSource } from "@rafthttp/rafthttp/replica";
 * const a: SnapshotSource = new Uint8Array([1]);
 * const b: SnapshotSource = ReadableStream.from([new Uint8Array([1])]);
 * console.log(a.length, b.locked); // 1 false
 * ```
 */
export type SnapshotSource = Uint8Array | ReadableStream<Uint8Array>;

const NAME = /^([0-9a-f]{16})\.snap\.db$/;
const CHUNK = 256 * 1024;

/**
 * A stream over a snapshot file, and a way to close the file whatever its reader did.
 *
 * @example
 * ```ts ignore
 * const file = files.open(42n);
 * try { await stateMachine.restore(file.stream); } finally { file.close(); }
 * ```
 */
export interface FileStream {
  /** The file's bytes from the offset asked for; the file opens on the first read. */
  stream: ReadableStream<Uint8Array>;
  /** Closes the file if it is still open. */
  close(): void;
}

/**
 * The snapshot data files of one replica.
 *
 * @example
 * ```ts
 * import { SnapshotFiles } from "@rafthttp/rafthttp/replica";
 * const dir = await Deno.makeTempDir();
 * const files = new SnapshotFiles(dir);
 * await files.write(7n, ReadableStream.from([new Uint8Array([1, 2, 3])]), AbortSignal.timeout(5000));
 * console.log(await files.size(7n)); // 3
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class SnapshotFiles {
  /** The transport's sink for received snapshots: it writes into the same directory. */
  readonly sink: FileSnapshotSink;

  /** Files in `dir` (created on first write). */
  constructor(readonly dir: string) {
    this.sink = new FileSnapshotSink(dir);
  }

  /** Path of the data of the snapshot at `index`. */
  path(index: bigint): string {
    return `${this.dir}/${snapshotFileName(index)}`;
  }

  /** Writes the snapshot at `index` durably (an existing file of that index is kept). */
  write(index: bigint, source: SnapshotSource, signal: AbortSignal): Promise<void> {
    const data = source instanceof Uint8Array ? ReadableStream.from([source]) : source;
    const m = create(MessageSchema, {
      type: MessageType.MsgSnap,
      snapshot: { metadata: { index } },
    });
    return this.sink.save(m, data, signal);
  }

  /** The size of the snapshot file at `index`; undefined if there is none. */
  async size(index: bigint): Promise<number | undefined> {
    try {
      return (await Deno.stat(this.path(index))).size;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return undefined;
      throw e;
    }
  }

  /** The snapshot at `index` as a stream from byte `offset`. */
  open(index: bigint, offset = 0): FileStream {
    const path = this.path(index);
    let file: Deno.FsFile | undefined;
    let closed = false;
    const close = () => {
      closed = true;
      file?.close();
      file = undefined;
    };
    const stream = new ReadableStream<Uint8Array>({
      async pull(c) {
        try {
          if (closed) throw new Error(`snapshot file ${path} was closed`);
          if (file === undefined) {
            file = await Deno.open(path);
            if (offset > 0) await file.seek(offset, Deno.SeekMode.Start);
          }
          const buf = new Uint8Array(CHUNK);
          const n = await file.read(buf);
          if (n === null) {
            close();
            c.close();
          } else c.enqueue(buf.subarray(0, n));
        } catch (e) {
          close();
          c.error(e);
        }
      },
      cancel: close,
    });
    return { stream, close };
  }

  /** Deletes all but the newest `keep` snapshot files, never the one at `protect`. */
  async purge(keep: number, protect: bigint): Promise<void> {
    const found: bigint[] = [];
    try {
      for await (const e of Deno.readDir(this.dir)) {
        const m = NAME.exec(e.name);
        if (m !== null) found.push(BigInt(`0x${m[1]}`));
      }
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      throw e;
    }
    found.sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
    for (const index of found.slice(keep)) {
      if (index === protect) continue;
      await Deno.remove(this.path(index)).catch(() => {});
    }
  }
}

/**
 * Sends the MsgSnap `m` with its data file streamed behind it (the transport
 * reports the outcome to raft); false if the file is missing.
 *
 * @example
 * ```ts ignore
 * if (!await sendSnapshotFile(transport, m, files)) raft.reportSnapshot(m.to, SnapshotStatus.Failure);
 * ```
 */
export async function sendSnapshotFile(
  transport: Transport,
  m: Message,
  files: SnapshotFiles,
): Promise<boolean> {
  const index = m.snapshot?.metadata?.index ?? 0n;
  const size = await files.size(index);
  if (size === undefined) return false;
  const reopen = (offset: number) => files.open(index, offset).stream;
  transport.sendSnapshot(new SnapshotMessage(m, files.open(index).stream, size, { reopen }));
  return true;
}
