/**
 * Durable storage for the Raft core: etcd's write-ahead log format
 * ({@link Wal}: segments, CRC-32C records, torn-tail repair), the
 * snapshot files ({@link Snapshotter}), and {@link DiskStorage}, the core's
 * `Storage` kept on disk (a `MemoryStorage` in front of the WAL and the
 * snapshots, with the fsync rules raft needs). Each holds one raft group
 * (option `group`, default {@link DEFAULT_GROUP}, 1n: the format and layout
 * from before groups); another group's WAL records carry its id, so that a
 * WAL shared by many groups can come without a format change. It imports
 * raftpb and the core; the core does not import it.
 *
 * @example Persist a Ready, then reopen and find it again
 * ```ts
 * import { create, EntrySchema, HardStateSchema } from "@rafthttp/rafthttp/raftpb";
 * import { DiskStorage } from "@rafthttp/rafthttp/storage";
 *
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
 *
 * @module
 */

export { DiskStorage, type DiskStorageOptions, type PersistableReady } from "./disk_storage.ts";
export {
  type SnapshotMarker,
  type SyncObserver,
  Wal,
  type WalContents,
  type WalOpenResult,
  type WalOptions,
} from "./wal.ts";
export { snapFileName, snapshotDirOf, type SnapshotFile, Snapshotter } from "./snapshotter.ts";
export { checkGroup, DEFAULT_GROUP } from "./wal_group.ts";
export {
  GroupMismatchError,
  SnapshotMissingError,
  StorageClosedError,
  WalCorruptError,
  WalFormatError,
} from "./disk_errors.ts";
export { denoFs, type StorageFile, type StorageFs } from "./fs.ts";
export {
  FaultyFs,
  type FaultyFsOptions,
  type FaultyFsStats,
  FsyncFailedError,
  SimulatedCrashError,
} from "./faulty_fs.ts";
