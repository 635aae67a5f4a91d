/**
 * A file system with injected disk faults, for fault tests only: pass a
 * {@link FaultyFs} as the storage's `fs` (DiskStorage, Wal, Snapshotter),
 * or the replica's `storageFs`. It can
 *
 * - hold written bytes in memory until the file's fsync and write them only
 *   then ("lazy", as LazyFS does), so that a SIGKILL loses exactly what was
 *   not fsynced, and a simulated {@link FaultyFs.crash} in this process too;
 * - fail the next fsync of a file opened for writing
 *   ({@link FaultyFs.failNextFsync}): it throws {@link FsyncFailedError}
 *   and its unsynced bytes are dropped, as Linux may drop the dirty pages of
 *   a failed fsync (a later fsync then succeeds without them);
 * - tear the next WAL sync ({@link FaultyFs.tearNextWalSync}): only a prefix
 *   of its batch reaches the file, then the process dies (the `crash`
 *   option: the app passes `Deno.kill(Deno.pid, "SIGKILL")`).
 *
 * Directory fsyncs, renames, removals and truncations go through at once.
 * Reads see the file as it is on disk: held bytes are not visible until
 * their fsync (the storage reads its files only when it opens them).
 *
 * @module
 */

import { RaftError } from "../raft/errors.ts";
import { denoFs, type StorageFile, type StorageFs } from "./fs.ts";

/**
 * An fsync failed because a {@link FaultyFs} was told to fail it. The bytes
 * written since the file's previous fsync may be lost: the storage takes no
 * more writes, and its user must stop (as etcd panics) and restart from disk.
 *
 * @example
 * ```ts
 * import { FsyncFailedError } from "@rafthttp/rafthttp/storage";
 * const e = new FsyncFailedError("/data/wal/0000000000000000-0000000000000001.wal");
 * console.log(e.name, e.path); // FsyncFailedError /data/wal/0000000000000000-0000000000000001.wal
 * ```
 */
export class FsyncFailedError extends RaftError {
  /** Creates the error for the file at `path`. */
  constructor(readonly path: string) {
    super(
      `fsync of ${path} failed (a fault injected by FaultyFs): what was written since its last ` +
        `fsync may be lost; stop this member and restart it from its data directory`,
    );
  }
}

/**
 * A file of a {@link FaultyFs} was used after the simulated crash
 * ({@link FaultyFs.crash}, or a torn WAL sync whose `crash` returned).
 *
 * @example
 * ```ts
 * import { SimulatedCrashError } from "@rafthttp/rafthttp/storage";
 * console.log(new SimulatedCrashError("write /d/x").message);
 * ```
 */
export class SimulatedCrashError extends RaftError {
  /** Creates the error for the refused operation `op`. */
  constructor(op: string) {
    super(
      `cannot ${op}: the file system crashed (a fault injected by FaultyFs); ` +
        `open the storage again to recover what was fsynced`,
    );
  }
}

/**
 * Options of {@link FaultyFs}.
 *
 * @example
 * ```ts
 * import type { FaultyFsOptions } from "@rafthttp/rafthttp/storage";
 * const o: FaultyFsOptions = { lazy: true, crash: () => Deno.kill(Deno.pid, "SIGKILL") };
 * console.log(o.lazy); // true
 * ```
 */
export interface FaultyFsOptions {
  /** Hold written bytes until their file's fsync (default false: write at once). */
  lazy?: boolean;
  /**
   * Called after a torn WAL sync wrote its prefix: end the process here
   * (`Deno.kill(Deno.pid, "SIGKILL")`). Default: {@link FaultyFs.crash} (for
   * tests in one process). The sync then throws {@link SimulatedCrashError}.
   */
  crash?: () => void;
  /**
   * Bytes a file may hold unsynced; beyond, they are written back to the
   * file (not synced), as the kernel writes back dirty pages. Default 64 MiB.
   */
  maxHeldBytes?: number;
  /** The file system underneath (default `denoFs`, the real one). */
  base?: StorageFs;
}

/**
 * What a {@link FaultyFs} did so far.
 *
 * @example
 * ```ts
 * import { FaultyFs } from "@rafthttp/rafthttp/storage";
 * const s = new FaultyFs().stats;
 * console.log(s.syncs, s.failedFsyncs, s.tears); // 0 0 0
 * ```
 */
export interface FaultyFsStats {
  /** Fsyncs of files opened for writing that succeeded. */
  syncs: number;
  /** Bytes held unsynced now, in all open files. */
  heldBytes: number;
  /** Held bytes dropped: by a failed fsync, a crash, a tear, or a close without fsync. */
  droppedBytes: number;
  /** Fsyncs failed on purpose. */
  failedFsyncs: number;
  /** WAL syncs torn. */
  tears: number;
}

interface Held {
  off: number;
  bytes: Uint8Array;
}

/**
 * A {@link StorageFs} with disk faults (see the module's documentation).
 *
 * @example Lazy: a crash loses what was not fsynced
 * ```ts
 * import { FaultyFs } from "@rafthttp/rafthttp/storage";
 * const dir = await Deno.makeTempDir();
 * const fs = new FaultyFs({ lazy: true });
 * const f = await fs.open(`${dir}/x`, { write: true, create: true });
 * f.writeSync(new Uint8Array([1, 2]));
 * await f.syncData();
 * f.writeSync(new Uint8Array([3]));
 * fs.crash();
 * console.log(await Deno.readFile(`${dir}/x`)); // Uint8Array(2) [ 1, 2 ]
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class FaultyFs implements StorageFs {
  readonly #base: StorageFs;
  readonly #lazy: boolean;
  readonly #crash: () => void;
  readonly #maxHeld: number;
  readonly #open = new Set<FaultyFile>();
  #failFsync = false;
  #fsyncDelayMs = 0;
  #tear: number | undefined;
  #crashed = false;
  readonly #stats = { syncs: 0, droppedBytes: 0, failedFsyncs: 0, tears: 0 };

  /** Creates the file system; see {@link FaultyFsOptions}. */
  constructor(options: FaultyFsOptions = {}) {
    this.#base = options.base ?? denoFs;
    this.#lazy = options.lazy ?? false;
    this.#crash = options.crash ?? (() => this.crash());
    const max = options.maxHeldBytes ?? 64 << 20;
    if (!Number.isSafeInteger(max) || max < 0) {
      throw new RangeError(`maxHeldBytes must be an integer >= 0, got ${max}`);
    }
    this.#maxHeld = max;
  }

  /** True when written bytes are held until their fsync. */
  get lazy(): boolean {
    return this.#lazy;
  }

  /** What it did so far. */
  get stats(): FaultyFsStats {
    let heldBytes = 0;
    for (const f of this.#open) heldBytes += f.heldBytes;
    return { ...this.#stats, heldBytes };
  }

  /**
   * The next fsync of a file opened for writing fails with
   * {@link FsyncFailedError}, dropping that file's unsynced bytes.
   */
  failNextFsync(): void {
    this.#failFsync = true;
  }

  /**
   * Every fsync from now on waits `ms` first (a slow disk; 0: no more
   * waiting). What a sync covers stays unsynced meanwhile, so that, with
   * {@link FaultyFsOptions.lazy}, a kill in that time loses it.
   */
  slowFsync(ms: number): void {
    if (!Number.isSafeInteger(ms) || ms < 0 || ms > 60_000) {
      throw new RangeError(`ms must be an integer from 0 to 60000, got ${ms}`);
    }
    this.#fsyncDelayMs = ms;
  }

  /**
   * The next sync of a WAL segment (a `.wal` file) that has bytes written
   * after this call writes every earlier held write and only the first
   * `keep` bytes of its last one (the batch the sync is for; default half
   * of it), then calls `crash`. Until then, written bytes are held (as in
   * lazy mode) so that the batch can be torn.
   */
  tearNextWalSync(keep?: number): void {
    if (keep !== undefined && (!Number.isSafeInteger(keep) || keep < 0)) {
      throw new RangeError(`keep must be an integer >= 0, got ${keep}`);
    }
    this.#tear = keep ?? -1;
  }

  /**
   * A crash of the machine, in this process: every open file drops its
   * unsynced bytes and is closed; calls on them throw
   * {@link SimulatedCrashError}. Open the storage again to recover.
   */
  crash(): void {
    this.#crashed = true;
    for (const f of [...this.#open]) f.drop();
  }

  async open(path: string, options: Deno.OpenOptions): Promise<StorageFile> {
    if (this.#crashed) throw new SimulatedCrashError(`open ${path}`);
    if (options.append) throw new RangeError("FaultyFs does not open files for appending");
    const base = await this.#base.open(path, options);
    if (options.write !== true) return base; // read only (a directory for its fsync): no faults
    let size = 0;
    try {
      size = (await base.stat()).size;
    } catch (e) {
      base.close();
      throw e;
    }
    const file = new FaultyFile(path, base, size, this.#hooks);
    this.#open.add(file);
    return file;
  }

  readFile(path: string): Promise<Uint8Array> {
    return this.#base.readFile(path);
  }

  readDir(path: string): AsyncIterable<Deno.DirEntry> {
    return this.#base.readDir(path);
  }

  mkdir(path: string, options?: Deno.MkdirOptions): Promise<void> {
    return this.#base.mkdir(path, options);
  }

  remove(path: string): Promise<void> {
    return this.#base.remove(path);
  }

  rename(from: string, to: string): Promise<void> {
    return this.#base.rename(from, to);
  }

  stat(path: string): Promise<{ size: number }> {
    return this.#base.stat(path);
  }

  truncate(path: string, len: number): Promise<void> {
    return this.#base.truncate(path, len);
  }

  // What the files ask of their file system.
  readonly #hooks: FileHooks = {
    holding: () => this.#lazy || this.#tear !== undefined,
    fsyncDelayMs: () => this.#fsyncDelayMs,
    crashed: () => this.#crashed,
    maxHeld: () => this.#maxHeld,
    takeFsyncFault: () => {
      if (!this.#failFsync) return false;
      this.#failFsync = false;
      this.#stats.failedFsyncs++;
      return true;
    },
    takeTear: (path) => {
      if (this.#tear === undefined || !path.endsWith(".wal")) return undefined;
      const keep = this.#tear;
      this.#tear = undefined;
      this.#stats.tears++;
      return keep;
    },
    crash: () => this.#crash(),
    synced: () => this.#stats.syncs++,
    dropped: (n) => this.#stats.droppedBytes += n,
    closed: (f) => this.#open.delete(f),
  };
}

interface FileHooks {
  holding(): boolean;
  fsyncDelayMs(): number;
  crashed(): boolean;
  maxHeld(): number;
  takeFsyncFault(): boolean;
  /** The bytes of the last write to keep (-1: half), if this sync tears. */
  takeTear(path: string): number | undefined;
  crash(): void;
  synced(): void;
  dropped(bytes: number): void;
  closed(f: FaultyFile): void;
}

/**
 * A file opened for writing. It keeps its own position and logical size;
 * writes go to the file at once or are held (with their offsets) until its
 * fsync, which writes them in order, then fsyncs.
 */
class FaultyFile implements StorageFile {
  readonly #path: string;
  readonly #base: StorageFile;
  readonly #fs: FileHooks;
  #pos = 0;
  #size: number;
  #held: Held[] = [];
  #heldBytes = 0;
  #closed = false;

  constructor(path: string, base: StorageFile, size: number, fs: FileHooks) {
    this.#path = path;
    this.#base = base;
    this.#size = size;
    this.#fs = fs;
  }

  get heldBytes(): number {
    return this.#heldBytes;
  }

  writeSync(p: Uint8Array): number {
    this.#check("write");
    if (!this.#fs.holding()) {
      if (this.#held.length > 0) this.#flush(this.#held.length, 0);
      const n = this.#base.writeSync(p);
      this.#advance(n);
      return n;
    }
    this.#held.push({ off: this.#pos, bytes: p.slice() });
    this.#heldBytes += p.length;
    this.#advance(p.length);
    if (this.#heldBytes > this.#fs.maxHeld()) this.#flush(this.#held.length, 0);
    return p.length;
  }

  write(p: Uint8Array): Promise<number> {
    try {
      return Promise.resolve(this.writeSync(p));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  seekSync(offset: number, whence: Deno.SeekMode): number {
    this.#check("seek");
    const from = whence === Deno.SeekMode.Start
      ? 0
      : whence === Deno.SeekMode.Current
      ? this.#pos
      : this.#size;
    this.#pos = from + offset;
    this.#base.seekSync(this.#pos, Deno.SeekMode.Start);
    return this.#pos;
  }

  seek(offset: number, whence: Deno.SeekMode): Promise<number> {
    try {
      return Promise.resolve(this.seekSync(offset, whence));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  stat(): Promise<{ size: number }> {
    this.#check("stat");
    return Promise.resolve({ size: this.#size });
  }

  /** Cuts the file now; held bytes beyond `len` are dropped with it. */
  async truncate(len: number): Promise<void> {
    this.#check("truncate");
    await this.#base.truncate(len);
    const kept: Held[] = [];
    for (const h of this.#held) {
      if (h.off >= len) continue;
      kept.push(
        h.off + h.bytes.length <= len ? h : { off: h.off, bytes: h.bytes.subarray(0, len - h.off) },
      );
    }
    this.#held = kept;
    this.#heldBytes = kept.reduce((n, h) => n + h.bytes.length, 0);
    this.#size = len;
  }

  sync(): Promise<void> {
    return this.#sync(() => this.#base.sync());
  }

  syncData(): Promise<void> {
    return this.#sync(() => this.#base.syncData());
  }

  /**
   * Closes; bytes still held were never fsynced and are dropped (as in a
   * crash). After a crash, which closed it, it does nothing.
   */
  close(): void {
    if (this.#closed && !this.#fs.crashed()) {
      throw new Deno.errors.BadResource(`${this.#path} was closed already`);
    }
    this.drop();
  }

  /** Drops what is held and closes the file underneath. */
  drop(): void {
    if (this.#closed) return;
    this.#fs.dropped(this.#heldBytes);
    this.#held = [];
    this.#heldBytes = 0;
    this.#closed = true;
    this.#fs.closed(this);
    this.#base.close();
  }

  async #sync(fsync: () => Promise<void>): Promise<void> {
    const delay = this.#fs.fsyncDelayMs();
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    this.#check("fsync");
    if (this.#fs.takeFsyncFault()) {
      this.#fs.dropped(this.#heldBytes);
      this.#held = [];
      this.#heldBytes = 0;
      throw new FsyncFailedError(this.#path);
    }
    const keep = this.#held.length > 0 ? this.#fs.takeTear(this.#path) : undefined;
    if (keep !== undefined) {
      const last = this.#held.at(-1)!;
      const n = keep < 0 ? Math.floor(last.bytes.length / 2) : Math.min(keep, last.bytes.length);
      this.#flush(this.#held.length - 1, n);
      this.#fs.crash();
      throw new SimulatedCrashError(`sync ${this.#path} (a torn WAL write)`);
    }
    this.#flush(this.#held.length, 0);
    await fsync();
    this.#fs.synced();
  }

  /**
   * Writes the first `whole` held writes and `part` bytes of the next, in
   * order, at their offsets; the rest of the held bytes are dropped.
   */
  #flush(whole: number, part: number): void {
    if (this.#held.length === 0) return;
    const writes = this.#held.slice(0, whole);
    const next = this.#held[whole];
    if (next !== undefined && part > 0) {
      writes.push({ off: next.off, bytes: next.bytes.subarray(0, part) });
    }
    let written = 0;
    for (const h of writes) {
      this.#base.seekSync(h.off, Deno.SeekMode.Start);
      for (let off = 0; off < h.bytes.length;) off += this.#base.writeSync(h.bytes.subarray(off));
      written += h.bytes.length;
    }
    this.#base.seekSync(this.#pos, Deno.SeekMode.Start);
    if (this.#heldBytes > written) this.#fs.dropped(this.#heldBytes - written);
    this.#held = [];
    this.#heldBytes = 0;
  }

  #advance(n: number): void {
    this.#pos += n;
    if (this.#pos > this.#size) this.#size = this.#pos;
  }

  #check(op: string): void {
    if (this.#fs.crashed()) throw new SimulatedCrashError(`${op} ${this.#path}`);
    if (this.#closed) throw new SimulatedCrashError(`${op} ${this.#path} after it was closed`);
  }
}
