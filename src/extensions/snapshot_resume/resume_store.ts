/**
 * What a receiver keeps of broken snapshot transfers so that the sender's
 * retry can continue where it stopped: per transfer (sender, index, term,
 * size, window and the sender's transfer id) a file holding the data
 * received so far, and the digests of its verified windows. Bounded in space
 * (`maxBytes` over all transfers; a transfer that does not fit
 * is received without being kept) and in time (an entry unused for
 * `ttlMs` is deleted by a timer that `stop()` releases). The
 * files live in `dir`, or in a fresh temporary directory
 * removed on `stop()`; memory holds only the index and the digests (32 bytes
 * a window). `node:fs/promises` is imported on first use.
 *
 * With a sink that keeps partial snapshots itself (`SnapshotSink.partial`,
 * as the default file sink does), the store holds no copy: the verified data
 * is written once, into the sink's partial, which the store only indexes
 * (offset, digests, the same bounds and expiry) and which becomes the
 * snapshot on commit.
 *
 * @module
 */

/** What the store needs of a file. */
interface FileHandle {
  read(buf: Uint8Array, off: number, len: number, pos: number): Promise<{ bytesRead: number }>;
  write(buf: Uint8Array, off: number, len: number, pos: number): Promise<{ bytesWritten: number }>;
  close(): Promise<void>;
}

/** What the store needs of `node:fs/promises` (or of {@link memoryFs}). */
interface Fs {
  open(path: string, flags: string): Promise<FileHandle>;
  rm(path: string, opts?: { force?: boolean; recursive?: boolean }): Promise<void>;
  mkdtemp(prefix: string): Promise<string>;
  mkdir(path: string, opts: { recursive: true }): Promise<unknown>;
  readdir(path: string): Promise<string[]>;
}

import type { Message } from "../../../raftpb/raft_pb.ts";
import type { SnapshotPartial, SnapshotPartials } from "../../snapshot/sink.ts";

/** Names one transfer. */
export interface ResumeKey {
  from: bigint;
  index: bigint;
  term: bigint;
  size: number;
  window: number;
  transfer: string;
  /** The digest the windows were checked with. */
  digest: string;
}

/** Options of {@link ResumeStore}. */
export interface ResumeStoreOptions {
  /** Directory of the files; default a temporary one. Our files in it are removed at start and stop. */
  dir?: string;
  /** Bytes kept over all transfers; 0 keeps nothing (resume off). */
  maxBytes: number;
  /** An entry unused this long is deleted, ms. */
  ttlMs: number;
  /** Keep the data in memory instead of files (where there is no file system, as in the demo). */
  memory?: boolean;
  /** The sink's partial snapshots: kept data lives there, not in the store (ignored with `memory`). */
  partials?: SnapshotPartials;
}

/** An attempt asked to resume at another offset than the one kept (or the entry is in use). */
export class ResumeConflictError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "ResumeConflictError";
  }
}

/** Most entries at once (each holds a file). */
const MAX_ENTRIES = 64;
const PREFIX = "rafthttp-resume-";
const READ_CHUNK = 1 << 20;

/** Files in memory, for `memory: true` (bounded by `maxBytes` like the files). */
function memoryFs(): Fs {
  const files = new Map<string, Uint8Array[]>();
  const at = (chunks: Uint8Array[], pos: number) => {
    let i = 0;
    while (i < chunks.length && pos >= chunks[i].length) pos -= chunks[i++].length;
    return [i, pos];
  };
  return {
    open(path, flags) {
      if (flags === "w" || !files.has(path)) files.set(path, []);
      const chunks = files.get(path)!;
      return Promise.resolve({
        read(buf, off, len, pos) {
          let [i, skip] = at(chunks, pos);
          let n = 0;
          while (n < len && i < chunks.length) {
            const c = chunks[i++].subarray(skip, skip + len - n);
            buf.set(c, off + n);
            n += c.length;
            skip = 0;
          }
          return Promise.resolve({ bytesRead: n });
        },
        write(buf, off, len) {
          chunks.push(buf.slice(off, off + len)); // the store only appends
          return Promise.resolve({ bytesWritten: len });
        },
        close: () => Promise.resolve(),
      });
    },
    rm(path) {
      for (const k of [...files.keys()]) {
        if (k === path || k.startsWith(path + "/")) files.delete(k);
      }
      return Promise.resolve();
    },
    mkdtemp: (prefix) => Promise.resolve(`${prefix}memory`),
    mkdir: () => Promise.resolve(),
    readdir: () => Promise.resolve([]),
  };
}

interface Entry {
  id: string;
  file: string;
  bytes: number;
  digests: Uint8Array[];
  busy: boolean;
  expires: number;
}

/** One attempt's hold on its entry; see {@link ResumeStore.begin}. */
export interface ResumeAttempt {
  /** Where this attempt starts: data bytes already kept. */
  readonly offset: number;
  /** The verified windows' digests before `offset`'s window (shared, grows as windows verify). */
  readonly digests: Uint8Array[];
  /** The kept data in [from, to), as a stream. */
  read(from: number, to: number): ReadableStream<Uint8Array>;
  /** Reads the kept data in [from, to) at once (less than a window). */
  readAll(from: number, to: number): Promise<Uint8Array>;
  /** Keeps the bytes of a verified window (or of the pending one when the transfer broke). */
  append(data: Uint8Array): Promise<void>;
  /** The transfer broke: keep what was appended, for `ttlMs`. */
  release(): Promise<void>;
  /** The transfer ended (stored, or found corrupt): delete what was kept. */
  discard(): Promise<void>;
  /**
   * Only where the data goes to the sink's partial: `append` then writes
   * every byte (kept or not) and rejects if it cannot, and this makes the
   * partial the snapshot of `m` once it holds `size` bytes.
   */
  commit?(m: Message, size: number): Promise<void>;
}

/** The kept transfers of one transport. */
export class ResumeStore {
  readonly #opts: ResumeStoreOptions;
  readonly #entries = new Map<string, Entry>();
  #fs: Fs | undefined;
  #dir: Promise<string> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #pending = new Set<Promise<unknown>>();
  #stopped = false;
  #seq = 0;
  #used = 0;
  #cleaned: Promise<void> | undefined;

  /** Creates the store; nothing touches the disk before the first transfer. */
  constructor(opts: ResumeStoreOptions) {
    this.#opts = opts;
  }

  /** Bytes kept over all entries. */
  get usedBytes(): number {
    return this.#used;
  }

  /** Entries kept. */
  get size(): number {
    return this.#entries.size;
  }

  /** The offset a transfer may resume at (0 when nothing is kept). */
  offset(key: ResumeKey): number {
    return this.#entries.get(keyString(key))?.bytes ?? 0;
  }

  /**
   * Takes the entry of `key` for an attempt starting at `offset`: 0 starts
   * over (dropping what was kept), anything else must be what is kept.
   * Undefined when the store keeps nothing (maxBytes 0, or stopped).
   */
  async begin(key: ResumeKey, offset: number): Promise<ResumeAttempt | undefined> {
    if (this.#stopped || this.#opts.maxBytes === 0) {
      if (offset !== 0) throw new ResumeConflictError(`nothing kept to resume at ${offset}`);
      return undefined;
    }
    const id = keyString(key);
    let e = this.#entries.get(id);
    if (e?.busy) throw new ResumeConflictError("this transfer is being received already");
    if (offset !== 0 && e?.bytes !== offset) {
      throw new ResumeConflictError(`kept ${e?.bytes ?? 0} bytes, not ${offset}`);
    }
    if (e !== undefined && offset === 0) {
      await this.#drop(e);
      e = undefined;
    }
    if (this.#partials !== undefined) return this.#beginPartial(id, e, key.window, offset);
    let fs: Fs;
    let dir: string;
    try {
      fs = this.#fs ??= this.#opts.memory
        ? memoryFs()
        : await import("node:fs/promises") as unknown as Fs;
      dir = await this.#directory();
    } catch {
      // No file system for us here (no permission, no node:fs): receive without keeping.
      if (offset !== 0) throw new ResumeConflictError("nothing can be kept here");
      return undefined;
    }
    if (e === undefined) {
      this.#evict(MAX_ENTRIES - 1);
      const file = `${dir}/${PREFIX}${++this.#seq}.part`;
      e = { id, file, bytes: 0, digests: [], busy: false, expires: 0 };
      this.#entries.set(id, e);
    }
    e.busy = true;
    let handle: FileHandle;
    try {
      handle = await this.#track(fs.open(e.file, offset === 0 ? "w" : "r+"));
    } catch (err) {
      e.busy = false;
      await this.#drop(e);
      if (offset !== 0) throw new ResumeConflictError(`the kept data is gone (${err})`);
      return undefined;
    }
    return this.#attempt(e, handle, key.window);
  }

  /** The sink's partials, unless the store keeps data in memory. */
  get #partials(): SnapshotPartials | undefined {
    return this.#opts.memory ? undefined : this.#opts.partials;
  }

  /** {@link begin} where the data goes to the sink's partial of the transfer. */
  async #beginPartial(
    id: string,
    e: Entry | undefined,
    window: number,
    offset: number,
  ): Promise<ResumeAttempt | undefined> {
    const partials = this.#partials!;
    try {
      await (this.#cleaned ??= this.#track(partials.removeAll()));
    } catch {
      if (offset !== 0) throw new ResumeConflictError("nothing can be kept here");
      return undefined;
    }
    if (e === undefined) {
      this.#evict(MAX_ENTRIES - 1);
      const file = `${++this.#seq}-${id.replace(/[^0-9A-Za-z-]/g, "_")}`.slice(0, 200);
      e = { id, file, bytes: 0, digests: [], busy: false, expires: 0 };
      this.#entries.set(id, e);
    }
    e.busy = true;
    let p: SnapshotPartial;
    try {
      p = await this.#track(partials.open(e.file, offset === 0 ? 0 : e.bytes));
    } catch (err) {
      e.busy = false;
      await this.#drop(e);
      if (offset !== 0) throw new ResumeConflictError(`the kept data is gone (${err})`);
      return undefined;
    }
    return this.#partialAttempt(e, p, window);
  }

  #partialAttempt(e: Entry, p: SnapshotPartial, window: number): ResumeAttempt {
    let keeping = true;
    let open = true;
    let pos = e.bytes; // where the next byte goes; e.bytes counts only what is kept
    const close = async () => {
      if (!open) return;
      open = false;
      e.busy = false;
      await p.close().catch(() => {});
    };
    const unkeep = () => {
      if (!keeping) return;
      keeping = false;
      this.#forget(e);
    };
    return {
      offset: e.bytes,
      digests: e.digests,
      read: (from, to) => this.#read({ read: (...a) => bytesRead(p.read(...a)) }, from, to),
      readAll: async (from, to) => {
        const buf = new Uint8Array(to - from);
        let at = 0;
        while (at < buf.length) {
          const n = await p.read(buf, at, buf.length - at, from + at);
          if (n === 0) throw new Error("the kept snapshot data is shorter than recorded");
          at += n;
        }
        return buf;
      },
      append: async (data) => {
        if (this.#stopped || !open) throw new Error("the transport stopped");
        if (keeping && !this.#room(e, data.length)) unkeep();
        try {
          await this.#track(p.write(data, pos));
        } catch (err) {
          unkeep();
          throw err;
        }
        pos += data.length;
        if (keeping) {
          e.bytes += data.length;
          this.#used += data.length;
        }
      },
      release: async () => {
        await close();
        await this.#keepOrDrop(e, keeping, window);
      },
      discard: async () => {
        await close();
        await this.#drop(e);
      },
      commit: async (m, size) => {
        if (this.#stopped || !open) throw new Error("the transport stopped");
        unkeep(); // whatever happens now, nothing of it is kept for a resume
        open = false;
        e.busy = false;
        await this.#track(p.commit(m, size));
      },
    };
  }

  /** Counts nothing of `e` as kept any more (its bytes and digests). */
  #forget(e: Entry): void {
    this.#used -= e.bytes;
    e.bytes = 0;
    e.digests.length = 0;
  }

  /** After a broken attempt: keep what it verified (whole windows) until the TTL, or drop it. */
  async #keepOrDrop(e: Entry, keeping: boolean, window: number): Promise<void> {
    if (!keeping || e.bytes === 0 || this.#stopped) return await this.#drop(e);
    // Only whole windows count as verified: the rest is the pending window.
    e.digests.length = Math.min(e.digests.length, Math.floor(e.bytes / window));
    e.expires = Date.now() + this.#opts.ttlMs;
    this.#arm();
  }

  #attempt(e: Entry, handle: FileHandle, window: number): ResumeAttempt {
    let keeping = true;
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      e.busy = false;
      await handle.close().catch(() => {});
    };
    return {
      offset: e.bytes,
      digests: e.digests,
      read: (from, to) => this.#read(handle, from, to),
      readAll: async (from, to) => {
        const buf = new Uint8Array(to - from);
        let at = 0;
        while (at < buf.length) {
          const { bytesRead } = await handle.read(buf, at, buf.length - at, from + at);
          if (bytesRead === 0) throw new Error("the kept snapshot data is shorter than recorded");
          at += bytesRead;
        }
        return buf;
      },
      append: async (data) => {
        if (!keeping || this.#stopped) return;
        if (!this.#room(e, data.length)) {
          keeping = false;
          this.#forget(e);
          return;
        }
        let at = 0;
        while (at < data.length) {
          const { bytesWritten } = await this.#track(
            handle.write(data, at, data.length - at, e.bytes + at),
          );
          at += bytesWritten;
        }
        e.bytes += data.length;
        this.#used += data.length;
      },
      release: async () => {
        await close();
        await this.#keepOrDrop(e, keeping, window);
      },
      discard: async () => {
        await close();
        await this.#drop(e);
      },
    };
  }

  /** Whether `n` more bytes fit for `e`, after evicting idle entries (oldest first). */
  #room(e: Entry, n: number): boolean {
    const max = this.#opts.maxBytes;
    if (e.bytes + n > max) return false;
    for (const other of [...this.#entries.values()].sort((a, b) => a.expires - b.expires)) {
      if (this.#used + n <= max) break;
      if (other !== e && !other.busy) this.#background(this.#drop(other));
    }
    return this.#used + n <= max;
  }

  /** Keeps at most `n` entries, dropping idle ones (oldest first). */
  #evict(n: number): void {
    const idle = [...this.#entries.values()].filter((x) => !x.busy)
      .sort((a, b) => a.expires - b.expires);
    for (const e of idle) {
      if (this.#entries.size <= n) break;
      this.#background(this.#drop(e));
    }
  }

  #read(
    handle: Pick<FileHandle, "read">,
    from: number,
    to: number,
  ): ReadableStream<Uint8Array> {
    let at = from;
    return new ReadableStream<Uint8Array>({
      pull: async (c) => {
        if (at >= to || this.#stopped) {
          if (at < to) c.error(new Error("the transport stopped"));
          else c.close();
          return;
        }
        const buf = new Uint8Array(Math.min(READ_CHUNK, to - at));
        const { bytesRead } = await this.#track(handle.read(buf, 0, buf.length, at));
        if (bytesRead === 0) {
          c.error(new Error("the kept snapshot data is shorter than recorded"));
          return;
        }
        at += bytesRead;
        c.enqueue(buf.subarray(0, bytesRead));
      },
    }, { highWaterMark: 0 });
  }

  /** Removes an entry and its file. */
  async #drop(e: Entry): Promise<void> {
    if (this.#entries.get(e.id) === e) {
      this.#entries.delete(e.id);
      this.#used -= e.bytes;
    }
    e.bytes = 0;
    e.digests.length = 0;
    const partials = this.#partials;
    if (partials !== undefined) await this.#track(partials.remove(e.file));
    else if (this.#fs !== undefined) await this.#track(this.#fs.rm(e.file, { force: true }));
  }

  /** The timer that expires idle entries: one, set for the earliest expiry. */
  #arm(): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    let next = Infinity;
    for (const e of this.#entries.values()) if (!e.busy) next = Math.min(next, e.expires);
    if (next === Infinity) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const now = Date.now();
      for (const e of [...this.#entries.values()]) {
        if (!e.busy && e.expires <= now) this.#background(this.#drop(e));
      }
      this.#arm();
    }, Math.max(0, next - Date.now()));
  }

  #directory(): Promise<string> {
    this.#dir ??= (async () => {
      const fs = this.#fs!;
      if (this.#opts.memory) return "memory";
      if (this.#opts.dir === undefined) {
        const os = await import("node:os");
        return await fs.mkdtemp(`${os.tmpdir()}/${PREFIX}`);
      }
      const dir = this.#opts.dir;
      await fs.mkdir(dir, { recursive: true });
      await removeOurs(fs, dir); // a restarted member starts over cleanly
      return dir;
    })();
    return this.#dir;
  }

  #track<T>(p: Promise<T>): Promise<T> {
    this.#pending.add(p);
    const forget = () => this.#pending.delete(p);
    p.then(forget, forget);
    return p;
  }

  #background(p: Promise<unknown>): void {
    this.#track(p).catch(() => {});
  }

  /** Releases the timer and deletes every kept file (and the temporary directory). */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
    this.#entries.clear();
    this.#used = 0;
    if (this.#cleaned !== undefined) await this.#partials!.removeAll().catch(() => {});
    if (this.#dir === undefined || this.#fs === undefined) return;
    const dir = await this.#dir.catch(() => undefined);
    if (dir === undefined) return;
    if (this.#opts.dir === undefined) await this.#fs.rm(dir, { recursive: true, force: true });
    else await removeOurs(this.#fs, dir).catch(() => {});
  }
}

async function bytesRead(n: Promise<number>): Promise<{ bytesRead: number }> {
  return { bytesRead: await n };
}

/** The identity of a transfer, as a map key. */
function keyString(k: ResumeKey): string {
  return `${k.from}/${k.index}/${k.term}/${k.size}/${k.window}/${k.digest}/${k.transfer}`;
}

async function removeOurs(fs: Fs, dir: string): Promise<void> {
  for (const name of await fs.readdir(dir)) {
    if (name.startsWith(PREFIX)) await fs.rm(`${dir}/${name}`, { force: true });
  }
}
