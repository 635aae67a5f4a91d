/**
 * The partial snapshots of {@link FileSnapshotSink}: one temporary file per
 * transfer in the sink's directory, `rafthttp-partial-<key>`, written where
 * the verified data goes, kept when the transfer breaks (cut to the verified
 * offset when a later attempt continues it) and, once complete, fsynced and renamed to the
 * snapshot's name as the sink's own files are. The files of an earlier
 * process are removed before the first one is opened.
 *
 * @module
 */

import type { Message } from "../../raftpb/raft_pb.ts";
import type { SnapshotPartial, SnapshotPartials } from "./sink.ts";

/** The names of partial files start with this. */
export const PARTIAL_PREFIX = "rafthttp-partial-";

/** Moves a complete temporary file to the snapshot's name (or drops it if that exists). */
export type Install = (tmp: string, m: Message) => Promise<void>;

type NodeFs = typeof import("node:fs/promises");

/** The partials of a sink writing into `dir`. */
export function filePartials(dir: string, install: Install): SnapshotPartials {
  let fs: Promise<NodeFs> | undefined;
  let cleaned: Promise<void> | undefined;
  const ready = () =>
    fs ??= (async () => {
      const m = await import("node:fs/promises");
      await m.mkdir(dir, { recursive: true });
      return m;
    })();
  const path = (key: string) => `${dir}/${PARTIAL_PREFIX}${key.replace(/[^0-9A-Za-z-]/g, "_")}`;
  const removeAll = async () => {
    const f = await ready();
    for (const name of await f.readdir(dir)) {
      if (name.startsWith(PARTIAL_PREFIX)) await f.rm(`${dir}/${name}`, { force: true });
    }
  };
  return {
    async open(key, offset) {
      const f = await ready();
      await (cleaned ??= removeAll()); // a restarted member starts over cleanly
      const file = path(key);
      const h = await f.open(file, offset === 0 ? "w" : "r+");
      try {
        if (offset > 0) {
          if ((await h.stat()).size < offset) {
            throw new Error(`the partial snapshot ${key} holds less than ${offset} bytes`);
          }
          await h.truncate(offset);
        }
      } catch (e) {
        await h.close();
        throw e;
      }
      return filePartial(f, h, file, install);
    },
    async remove(key) {
      await (await ready()).rm(path(key), { force: true });
    },
    async removeAll() {
      cleaned = Promise.resolve();
      await removeAll();
    },
  };
}

function filePartial(
  fs: NodeFs,
  h: Awaited<ReturnType<NodeFs["open"]>>,
  file: string,
  install: Install,
): SnapshotPartial {
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await h.close();
  };
  return {
    async read(buf, off, len, pos) {
      return (await h.read(buf, off, len, pos)).bytesRead;
    },
    async write(data, pos) {
      let at = 0;
      while (at < data.length) {
        at += (await h.write(data, at, data.length - at, pos + at)).bytesWritten;
      }
    },
    async commit(m, size) {
      try {
        const held = (await h.stat()).size;
        if (held !== size) throw new Error(`the partial snapshot holds ${held} bytes, not ${size}`);
        await h.sync();
        await close();
      } catch (e) {
        await close().catch(() => {});
        await fs.rm(file, { force: true });
        throw e;
      }
      await install(file, m);
    },
    close,
  };
}
