/**
 * Snapshot files: one file per snapshot, named `%016x-%016x.snap` (term and
 * index, as etcd names them), holding a magic, a CRC-32C and the raftpb
 * Snapshot. Written to a temporary file, fsynced, then renamed, so a crash
 * leaves either the whole file or none; a damaged file is set aside as
 * `.broken` and the next older one is used.
 *
 * Each raft group has its own directory: group 1 the directory given (as
 * before groups existed), any other group g its subdirectory
 * `group-%016x` (see {@link snapshotDirOf}). A group's snapshots are
 * listed, loaded and purged without reading another's, and a thousand
 * groups do not share one listing.
 *
 * @module
 */

import { fromBinary, toBinary } from "npm:@bufbuild/protobuf@2.17.0";
import { consoleLogger, type Logger, type Snapshot, SnapshotSchema } from "../raftpb/mod.ts";
import { crc32c } from "./crc32c.ts";
import { denoFs, type StorageFs, syncDir, writeAll } from "./fs.ts";
import { checkGroup, DEFAULT_GROUP } from "./wal_group.ts";

const MAGIC = new TextEncoder().encode("RHSNAP01");
const HEADER_BYTES = MAGIC.length + 4;
const NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/;
const hex16 = (n: bigint) => n.toString(16).padStart(16, "0");

/**
 * A snapshot file on disk.
 *
 * @example
 * ```ts
 * import { Snapshotter } from "@rafthttp/rafthttp/storage";
 * const dir = await Deno.makeTempDir();
 * const files = await (await Snapshotter.open(dir)).list();
 * console.log(files.length); // 0
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface SnapshotFile {
  /** Term of the snapshot's last entry. */
  term: bigint;
  /** The snapshot's last included index. */
  index: bigint;
  /** Full path. */
  path: string;
}

/**
 * The file name of the snapshot at (term, index), as etcd names them.
 *
 * @example
 * ```ts
 * import { snapFileName } from "@rafthttp/rafthttp/storage";
 * console.log(snapFileName(2n, 20n)); // "0000000000000002-0000000000000014.snap"
 * ```
 */
export function snapFileName(term: bigint, index: bigint): string {
  return `${hex16(term)}-${hex16(index)}.snap`;
}

/**
 * The directory of group `group`'s snapshot files under the snapshot
 * directory `root`: `root` itself for group 1, `root/group-%016x` for
 * another group (its id in hex, as etcd's names write numbers).
 *
 * @example
 * ```ts
 * import { snapshotDirOf } from "@rafthttp/rafthttp/storage";
 * console.log(snapshotDirOf("/data/snap", 1n)); // /data/snap
 * console.log(snapshotDirOf("/data/snap", 7n)); // /data/snap/group-0000000000000007
 * ```
 */
export function snapshotDirOf(root: string, group: bigint): string {
  return checkGroup(group) === DEFAULT_GROUP ? root : `${root}/group-${hex16(group)}`;
}

/**
 * Saves and loads snapshot files in one directory (one group's).
 *
 * @example
 * ```ts
 * import { create, SnapshotSchema } from "@rafthttp/rafthttp";
 * import { Snapshotter } from "@rafthttp/rafthttp/storage";
 * const dir = await Deno.makeTempDir();
 * const snaps = await Snapshotter.open(dir);
 * await snaps.save(create(SnapshotSchema, { data: new Uint8Array([7]), metadata: { index: 9n, term: 2n } }));
 * console.log((await snaps.loadNewest())?.metadata?.index); // 9n
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class Snapshotter {
  private constructor(
    /** The directory of this group's files ({@link snapshotDirOf}). */
    readonly dir: string,
    readonly logger: Logger,
    /** The raft group whose snapshots these are. */
    readonly group: bigint,
    /** The file system written through. */
    readonly fs: StorageFs,
  ) {}

  /**
   * Opens (or creates) group `group`'s directory under the snapshot
   * directory `root`, removing leftovers of interrupted saves; its files
   * are read and written through `fs` (default: the real file system).
   */
  static async open(
    root: string,
    logger: Logger = consoleLogger("warn"),
    group: bigint = DEFAULT_GROUP,
    fs: StorageFs = denoFs,
  ): Promise<Snapshotter> {
    const dir = snapshotDirOf(root, group);
    await fs.mkdir(dir, { recursive: true });
    for await (const e of fs.readDir(dir)) {
      if (e.name.endsWith(".snap.tmp")) await fs.remove(`${dir}/${e.name}`);
    }
    return new Snapshotter(dir, logger, group, fs);
  }

  /** Writes `snap` durably; resolves with its path once it is fsynced and renamed. */
  async save(snap: Snapshot): Promise<string> {
    const index = snap.metadata?.index ?? 0n;
    const term = snap.metadata?.term ?? 0n;
    if (index === 0n) throw new RangeError("refusing to save an empty snapshot (index 0)");
    const body = toBinary(SnapshotSchema, snap);
    const head = new Uint8Array(HEADER_BYTES);
    head.set(MAGIC);
    new DataView(head.buffer).setUint32(MAGIC.length, await checksumYielding(body), true);
    const path = `${this.dir}/${snapFileName(term, index)}`;
    const f = await this.fs.open(`${path}.tmp`, { write: true, create: true, truncate: true });
    try {
      await writeAll(f, head);
      await writeAll(f, body);
      await f.sync();
    } finally {
      f.close();
    }
    await this.fs.rename(`${path}.tmp`, path);
    await syncDir(this.fs, this.dir);
    return path;
  }

  /** The snapshot files, newest (highest index) first. */
  async list(): Promise<SnapshotFile[]> {
    const out: SnapshotFile[] = [];
    for await (const e of this.fs.readDir(this.dir)) {
      const m = NAME.exec(e.name);
      if (!m) continue;
      out.push({
        term: BigInt("0x" + m[1]),
        index: BigInt("0x" + m[2]),
        path: `${this.dir}/${e.name}`,
      });
    }
    return out.sort((a, b) =>
      b.index > a.index || (b.index === a.index && b.term > a.term) ? 1 : -1
    );
  }

  /**
   * Loads the newest intact snapshot that `accept` allows (all by default).
   * Damaged files are renamed to `.broken`, logged, and skipped.
   */
  async loadNewest(
    accept: (f: SnapshotFile) => boolean = () => true,
  ): Promise<Snapshot | undefined> {
    for (const f of await this.list()) {
      if (!accept(f)) continue;
      const snap = await this.read(f);
      if (snap) return snap;
    }
    return undefined;
  }

  /** Deletes all but the newest `keep` snapshot files; returns how many were deleted. */
  async purge(keep: number): Promise<number> {
    const old = (await this.list()).slice(Math.max(keep, 0));
    for (const f of old) await this.fs.remove(f.path);
    return old.length;
  }

  async #setAside(f: SnapshotFile, why: string): Promise<void> {
    this.logger.warn("snapshot file is damaged; set aside, using an older one", {
      file: f.path,
      why,
    });
    await this.fs.rename(f.path, `${f.path}.broken`);
  }

  /** Reads and verifies one file; undefined (and set aside) when it is damaged. */
  async read(f: SnapshotFile): Promise<Snapshot | undefined> {
    const buf = await this.fs.readFile(f.path);
    const why = verify(buf);
    if (why !== undefined) {
      await this.#setAside(f, why);
      return undefined;
    }
    let snap: Snapshot;
    try {
      snap = fromBinary(SnapshotSchema, buf.subarray(HEADER_BYTES));
    } catch (e) {
      await this.#setAside(f, `undecodable: ${(e as Error).message}`);
      return undefined;
    }
    if (snap.metadata?.index !== f.index || snap.metadata?.term !== f.term) {
      await this.#setAside(f, "contents do not match the file name");
      return undefined;
    }
    return snap;
  }
}

// CRC-32C runs at a few hundred MB/s here: over a large snapshot, in one
// go, it would hold the event loop (ticks, heartbeats) for a second or more.
// In 4 MiB pieces with a turn of the event loop between them, it does not.
async function checksumYielding(data: Uint8Array): Promise<number> {
  const piece = 4 << 20;
  let crc = 0;
  for (let off = 0; off < data.length; off += piece) {
    if (off > 0) await new Promise((r) => setTimeout(r, 0));
    crc = crc32c(data.subarray(off, off + piece), crc);
  }
  return crc;
}

function verify(buf: Uint8Array): string | undefined {
  if (buf.length < HEADER_BYTES) return "shorter than its header";
  if (!MAGIC.every((b, i) => buf[i] === b)) return "not a snapshot file (bad magic)";
  const want = new DataView(buf.buffer, buf.byteOffset).getUint32(MAGIC.length, true);
  if (crc32c(buf.subarray(HEADER_BYTES)) !== want) return "bad checksum";
  return undefined;
}
