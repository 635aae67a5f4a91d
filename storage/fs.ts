/**
 * The file system the storage writes through: the few calls the WAL and
 * the snapshot files make, so that a fault layer ({@link FaultyFs}) can
 * stand in for the real disk in fault tests. The default, {@link denoFs},
 * hands out `Deno.FsFile`s themselves: the WAL's hot path (a synchronous
 * write, an fdatasync) calls them directly, with no wrapper between.
 *
 * @module
 */

/**
 * An open file, as the storage uses it; `Deno.FsFile` is one.
 *
 * @example
 * ```ts
 * import type { StorageFile } from "@rafthttp/rafthttp/storage";
 * const dir = await Deno.makeTempDir();
 * const f: StorageFile = await Deno.open(`${dir}/x`, { write: true, create: true });
 * console.log(f.writeSync(new Uint8Array([1, 2]))); // 2
 * f.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface StorageFile {
  /** Writes at the position (some bytes, maybe not all); resolves with how many. */
  write(p: Uint8Array): Promise<number>;
  /** Writes at the position without waiting for a thread (a copy into the page cache). */
  writeSync(p: Uint8Array): number;
  /** Moves the position; resolves with the new one. */
  seek(offset: number, whence: Deno.SeekMode): Promise<number>;
  /** Moves the position without waiting for a thread; returns the new one. */
  seekSync(offset: number, whence: Deno.SeekMode): number;
  /** The file's size. */
  stat(): Promise<{ size: number }>;
  /** Cuts (or extends with zeros) the file to `len` bytes. */
  truncate(len: number): Promise<void>;
  /** Makes data and metadata durable (fsync). */
  sync(): Promise<void>;
  /** Makes the data durable (fdatasync). */
  syncData(): Promise<void>;
  /** Closes the file. */
  close(): void;
}

/**
 * The file system calls of the storage (WAL segments, snapshot files,
 * their directories). Pass one as `fs` in the storage's options; the
 * default is {@link denoFs}.
 *
 * @example
 * ```ts
 * import { denoFs, type StorageFs } from "@rafthttp/rafthttp/storage";
 * const fs: StorageFs = denoFs;
 * const dir = await Deno.makeTempDir();
 * await fs.mkdir(`${dir}/a`, { recursive: true });
 * console.log((await fs.stat(`${dir}/a`)).size >= 0); // true
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface StorageFs {
  /** Opens (or creates) a file, or a directory (read only) for its fsync. */
  open(path: string, options: Deno.OpenOptions): Promise<StorageFile>;
  /** A whole file's bytes. */
  readFile(path: string): Promise<Uint8Array>;
  /** The entries of a directory. */
  readDir(path: string): AsyncIterable<Deno.DirEntry>;
  /** Creates a directory. */
  mkdir(path: string, options?: Deno.MkdirOptions): Promise<void>;
  /** Removes a file (or an empty directory). */
  remove(path: string): Promise<void>;
  /** Renames a file, replacing `to` if it exists. */
  rename(from: string, to: string): Promise<void>;
  /** A file's size. */
  stat(path: string): Promise<{ size: number }>;
  /** Cuts the file at `path` to `len` bytes. */
  truncate(path: string, len: number): Promise<void>;
}

/**
 * The real file system (Deno's calls), what the storage uses by default.
 *
 * @example
 * ```ts
 * import { denoFs } from "@rafthttp/rafthttp/storage";
 * const dir = await Deno.makeTempDir();
 * const f = await denoFs.open(`${dir}/x`, { write: true, create: true });
 * f.writeSync(new Uint8Array([7]));
 * await f.syncData();
 * f.close();
 * console.log(await denoFs.readFile(`${dir}/x`)); // Uint8Array(1) [ 7 ]
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export const denoFs: StorageFs = {
  open: (path, options) => Deno.open(path, options),
  readFile: (path) => Deno.readFile(path),
  readDir: (path) => Deno.readDir(path),
  mkdir: (path, options) => Deno.mkdir(path, options),
  remove: (path) => Deno.remove(path),
  rename: (from, to) => Deno.rename(from, to),
  stat: (path) => Deno.stat(path),
  truncate: (path, len) => Deno.truncate(path, len),
};

/** Makes a rename or a new file in `dir` durable (fsync of the directory where supported). */
export async function syncDir(fs: StorageFs, dir: string): Promise<void> {
  try {
    const d = await fs.open(dir, { read: true });
    try {
      await d.sync();
    } finally {
      d.close();
    }
  } catch {
    // Some platforms cannot open or fsync a directory; the rename is still atomic there.
  }
}

/** Writes all of `bytes` at the file's position. */
export async function writeAll(f: StorageFile, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) off += await f.write(bytes.subarray(off));
}
