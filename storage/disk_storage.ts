/**
 * DiskStorage: raft's log made durable. A {@link Wal} (hardState, entries,
 * snapshot markers) and a {@link Snapshotter} (snapshot files) in one data
 * directory, in front of a {@link MemoryStorage} that raft reads. On open,
 * the newest snapshot the WAL points at is loaded and the WAL's entries
 * after it are replayed into the MemoryStorage.
 *
 * It holds one raft group ({@link DiskStorageOptions.group}, default 1):
 * group 1's directory is laid out and written as before groups existed;
 * another group's WAL records carry its id and its snapshot files live in
 * `snap/group-%016x/`. A directory holds one group: opening it as another
 * is refused (GroupMismatchError).
 *
 * @module
 */

import {
  consoleLogger,
  type Entry,
  type HardState,
  type Logger,
  type Snapshot,
} from "../raftpb/mod.ts";
import { SnapshotMissingError } from "./disk_errors.ts";
import type { StorageFs } from "./fs.ts";
import { checkGroup, DEFAULT_GROUP } from "./wal_group.ts";
import { MemoryStorage } from "../raft/memory_storage.ts";
import { snapFileName, Snapshotter } from "./snapshotter.ts";
import {
  type SnapshotMarker,
  type SyncObserver,
  Wal,
  type WalContents,
  type WalOpenResult,
} from "./wal.ts";

/**
 * The parts of a raft `Ready` that must be persisted (a `Ready` is one).
 *
 * @example
 * ```ts
 * import type { PersistableReady } from "@rafthttp/rafthttp/storage";
 * const nothing: PersistableReady = { entries: [], mustSync: false };
 * console.log(nothing.entries.length); // 0
 * ```
 */
export interface PersistableReady {
  /** New term/vote/commit, when changed. */
  hardState?: HardState;
  /** Entries to append (they may replace a conflicting suffix). */
  entries: Entry[];
  /** A snapshot received from the leader, to persist and apply. */
  snapshot?: Snapshot;
  /** Whether the write must reach stable storage before messages are sent. */
  mustSync: boolean;
}

/**
 * Options of {@link DiskStorage.open}.
 *
 * @example
 * ```ts
 * import type { DiskStorageOptions } from "@rafthttp/rafthttp/storage";
 * const opts: DiskStorageOptions = { segmentBytes: 16 << 20, keepSnapshots: 5, group: 7n };
 * console.log(opts.keepSnapshots); // 5
 * ```
 */
export interface DiskStorageOptions {
  /** WAL segment size (default 64 MiB). */
  segmentBytes?: number;
  /** How many snapshot files to keep (default 3). */
  keepSnapshots?: number;
  /** Where repairs and damaged files are reported (default: console, warnings and up). */
  logger?: Logger;
  /**
   * The raft group stored (default 1n, {@link DEFAULT_GROUP}: the layout
   * and format from before groups); from 1n to 2^64 - 1. The directory must
   * hold no other group.
   */
  group?: bigint;
  /** Called around each fdatasync of the WAL (the WAL's `onSync`: before and after, with the last index written). Default: none. */
  onSync?: SyncObserver;
  /**
   * The file system the WAL and the snapshot files are written through
   * (default `denoFs`, the real one; a `FaultyFs` in fault tests).
   */
  fs?: StorageFs;
}

const indexOf = (s: Snapshot | undefined) => s?.metadata?.index ?? 0n;

/**
 * Durable storage for one raft member: pass `.storage` as
 * `RaftConfig.storage`, call `save(rd)` for every Ready before sending its
 * messages, and `saveSnapshot` after taking a snapshot of the state machine.
 *
 * @example
 * ```ts
 * import { create, EntrySchema, HardStateSchema } from "@rafthttp/rafthttp";
 * import { DiskStorage } from "@rafthttp/rafthttp/storage";
 * const dir = await Deno.makeTempDir();
 * const disk = await DiskStorage.open(dir);
 * const entries = [create(EntrySchema, { index: 1n, term: 1n })];
 * await disk.save({ hardState: create(HardStateSchema, { term: 1n, commit: 1n }), entries, mustSync: true });
 * await disk.close();
 * const again = await DiskStorage.open(dir);
 * console.log(again.storage.lastIndex()); // 1n
 * await again.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class DiskStorage {
  #chain: Promise<void> = Promise.resolve();

  private constructor(
    /** The log raft reads, kept in step with the disk. */
    readonly storage: MemoryStorage,
    /** The snapshot restored on open (restore the state machine from its data), if any. */
    readonly restoredSnapshot: Snapshot | undefined,
    /** Set when opening cut a torn WAL tail. */
    readonly repaired: WalOpenResult["repaired"],
    private readonly wal: Wal,
    private readonly snapshotter: Snapshotter,
    private readonly keepSnapshots: number,
  ) {}

  /**
   * Opens (or creates) the data directory `dir` (subdirectories `wal/` and
   * `snap/`) for `opts.group`.
   */
  static async open(dir: string, opts: DiskStorageOptions = {}): Promise<DiskStorage> {
    const logger = opts.logger ?? consoleLogger("warn");
    const group = checkGroup(opts.group ?? DEFAULT_GROUP, "DiskStorageOptions.group");
    // The WAL first: a directory of another group is refused before anything is created.
    const { wal, contents, repaired } = await Wal.open(`${dir}/wal`, {
      logger,
      segmentBytes: opts.segmentBytes,
      group,
      exclusive: true,
      onSync: opts.onSync,
      fs: opts.fs,
    });
    let snap: Snapshot | undefined;
    let snapshotter: Snapshotter;
    try {
      snapshotter = await Snapshotter.open(`${dir}/snap`, logger, group, opts.fs);
      snap = await chooseSnapshot(dir, contents, snapshotter);
    } catch (e) {
      await wal.close();
      throw e;
    }
    const storage = new MemoryStorage();
    if (snap) storage.applySnapshot(snap);
    storage.setHardState(contents.hardState);
    storage.append(contents.entries.filter((e) => e.index > indexOf(snap)));
    const keep = opts.keepSnapshots ?? 3;
    return new DiskStorage(storage, snap, repaired, wal, snapshotter, keep);
  }

  /**
   * Persists a Ready (snapshot file, then WAL marker, hardState and entries,
   * fsynced when `rd.mustSync` or a snapshot came), then updates the
   * MemoryStorage in etcd's order: applySnapshot, setHardState, append.
   * Send the Ready's messages only after this resolves.
   */
  save(rd: PersistableReady): Promise<void> {
    return this.#serially(async () => {
      const snap = indexOf(rd.snapshot) > 0n ? rd.snapshot : undefined;
      if (snap) {
        await this.snapshotter.save(snap);
        await this.wal.saveSnapshotMarker({ ...markerOf(snap), received: true }, false);
      }
      if (rd.hardState || rd.entries.length > 0 || snap) {
        await this.wal.save(rd.hardState, rd.entries, rd.mustSync || snap !== undefined);
      }
      if (snap) this.storage.applySnapshot(snap);
      if (rd.hardState) this.storage.setHardState(rd.hardState);
      if (rd.entries.length > 0) this.storage.append(rd.entries);
    });
  }

  /**
   * Persists a snapshot the application took (from
   * `storage.createSnapshot`), then compacts the MemoryStorage to
   * `compactIndex` (default: the snapshot's index; keep some entries below
   * it so that slow followers catch up without a snapshot; an index below
   * `storage.firstIndex()`, such as 0n, compacts nothing), releases WAL
   * segments the snapshot covers and deletes older snapshot files.
   */
  saveSnapshot(snap: Snapshot, compactIndex: bigint = indexOf(snap)): Promise<void> {
    return this.#serially(async () => {
      await this.snapshotter.save(snap);
      await this.wal.saveSnapshotMarker(markerOf(snap), true);
      if (compactIndex >= this.storage.firstIndex() && compactIndex <= this.storage.lastIndex()) {
        this.storage.compact(compactIndex);
      }
      await this.wal.releaseTo(indexOf(snap));
      await this.snapshotter.purge(this.keepSnapshots);
    });
  }

  /** The raft group stored. */
  get group(): bigint {
    return this.wal.group;
  }

  /** Flushes and closes the WAL. */
  close(): Promise<void> {
    return this.#serially(() => this.wal.close());
  }

  #serially(fn: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(fn);
    this.#chain = run.catch(() => {});
    return run;
  }
}

function markerOf(snap: Snapshot): SnapshotMarker {
  return { index: snap.metadata?.index ?? 0n, term: snap.metadata?.term ?? 0n };
}

// The newest snapshot that the WAL recorded as saved, whose commit the WAL
// holds, whose file is intact, and after which the WAL has the entries.
// Without markers, the WAL alone is the log (from index 1).
async function chooseSnapshot(
  dir: string,
  wal: WalContents,
  snapshotter: Snapshotter,
): Promise<Snapshot | undefined> {
  const covers = (index: bigint) => {
    const after = wal.entries.find((e) => e.index > index);
    return after === undefined || after.index === index + 1n;
  };
  const committed = wal.markers.filter((m) => m.index <= wal.hardState.commit);
  const newestFirst = [...committed].sort((a, b) => (a.index < b.index ? 1 : -1));
  for (const m of newestFirst) {
    if (!covers(m.index)) continue;
    const path = `${snapshotter.dir}/${snapFileName(m.term, m.index)}`;
    const snap = await snapshotter.read({ ...m, path }).catch((e) => {
      if (e instanceof Deno.errors.NotFound) return undefined;
      throw e;
    });
    if (snap) return snap;
  }
  const fromScratch = wal.entries.length === 0
    ? committed.length === 0
    : wal.entries[0].index === 1n;
  if (fromScratch) return undefined;
  throw new SnapshotMissingError(dir, newestFirst[0]?.index ?? wal.entries[0].index - 1n);
}
