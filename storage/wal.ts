/**
 * The write-ahead log: raft's hardState, entries and snapshot markers,
 * appended to checksummed records in segment files and fsynced per batch
 * (persist, then send: a Ready's messages go out only after its entries are
 * durable). Segments are cut at a size and released once a snapshot covers
 * them; each is zero-filled ahead of the writes (cheaper fdatasyncs), and
 * an all-zero tail is its clean end. Opening replays every segment; a torn
 * or corrupt tail (what a crash in the middle of a write leaves, including
 * a hole of sectors that never reached the disk before intact ones of the
 * same unsynced batch) is cut at the last good record and logged, while
 * other damage with intact records after it is refused.
 *
 * A WAL belongs to one raft group ({@link WalOptions.group}, default 1):
 * it writes that group's records and replays them. Group 1's records are
 * those of the format before groups; another group's carry its id (see
 * wal_group.ts for the bytes). Records of other groups found in the WAL
 * are kept and never released: the WAL shared by many groups, later,
 * tracks what each group may release.
 *
 * @module
 */

import { toBinary } from "npm:@bufbuild/protobuf@2.17.0";
import {
  consoleLogger,
  type Entry,
  EntrySchema,
  type HardState,
  HardStateSchema,
  type Logger,
} from "../raftpb/mod.ts";
import {
  GroupMismatchError,
  StorageClosedError,
  WalCorruptError,
  WalFormatError,
} from "./disk_errors.ts";
import { encodeRecord, RecordType, scanSegment } from "./wal_record.ts";
import { SegmentWriter } from "./wal_writer.ts";
import { denoFs, type StorageFs, syncDir, writeAll } from "./fs.ts";
import { GroupsReplay, type WalContents, type WalReplay } from "./wal_replay.ts";
import { checkGroup, DEFAULT_GROUP, groupEncoder, isGrouped } from "./wal_group.ts";
import {
  checkMetadata,
  encodeMarker,
  encodeMetadata,
  FORMAT_VERSION,
  GROUPED_FORMAT_VERSION,
  listSegments,
  segmentFileName,
  type SegmentName,
  type SnapshotMarker,
} from "./wal_segment.ts";

export type { WalContents } from "./wal_replay.ts";
export type { SnapshotMarker } from "./wal_segment.ts";

/**
 * Options of {@link Wal.open}.
 *
 * @example
 * ```ts
 * import type { WalOptions } from "@rafthttp/rafthttp/storage";
 * const opts: WalOptions = { segmentBytes: 8 << 20, preallocateBytes: 0, group: 7n, exclusive: true };
 * console.log(opts.segmentBytes); // 8388608
 * ```
 */
export interface WalOptions {
  /** Cut a new segment once the current one reaches this size (default 64 MiB). */
  segmentBytes?: number;
  /** Zero-fill the segment this far ahead of the writes (default 4 MiB; 0 disables). */
  preallocateBytes?: number;
  /** Where repairs are reported (default: console, warnings and up). */
  logger?: Logger;
  /**
   * The raft group whose records this WAL writes and replays (default 1n,
   * {@link DEFAULT_GROUP}: the format from before groups). From 1n to 2^64 - 1.
   */
  group?: bigint;
  /**
   * Refuse, with a GroupMismatchError and before writing anything, a WAL
   * that holds records of other groups (a data directory of one group).
   */
  exclusive?: boolean;
  /**
   * Called right before and right after each fdatasync of a write, with
   * the index of the last entry written (for tracing where a write's time
   * goes; it must be cheap). Default: none.
   */
  onSync?: SyncObserver;
  /**
   * The file system written through (default {@link denoFs}, the real one;
   * a `FaultyFs` in fault tests).
   */
  fs?: StorageFs;
}

/**
 * Observes the WAL's fdatasyncs: `phase` "start" before, "end" after, with
 * the last entry index written at that point.
 *
 * @example
 * ```ts
 * import type { SyncObserver } from "@rafthttp/rafthttp/storage";
 * const syncs: bigint[] = [];
 * const onSync: SyncObserver = (phase, lastIndex) => {
 *   if (phase === "end") syncs.push(lastIndex);
 * };
 * onSync("end", 5n);
 * console.log(syncs); // [ 5n ]
 * ```
 */
export type SyncObserver = (phase: "start" | "end", lastIndex: bigint) => void;

/**
 * What opening found and repaired.
 *
 * @example
 * ```ts
 * import { Wal } from "@rafthttp/rafthttp/storage";
 * const dir = await Deno.makeTempDir();
 * const { wal, contents, repaired, groups } = await Wal.open(dir);
 * console.log(contents.entries.length, repaired, groups); // 0 undefined []
 * await wal.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface WalOpenResult {
  /** The open WAL, ready to append. */
  wal: Wal;
  /** What was replayed: the records of the WAL's group. */
  contents: WalContents;
  /**
   * Every group with records in the WAL, in order of first appearance (the
   * WAL's own group only once it has written some).
   */
  groups: bigint[];
  /** Set when a torn tail was cut: the segment and how many bytes were dropped. */
  repaired?: { file: string; offset: number; droppedBytes: number; reason: string };
}

/**
 * A write-ahead log in one directory.
 *
 * @example
 * ```ts
 * import { create, EntrySchema, HardStateSchema } from "@rafthttp/rafthttp";
 * import { Wal } from "@rafthttp/rafthttp/storage";
 * const dir = await Deno.makeTempDir();
 * const { wal } = await Wal.open(dir);
 * const e = create(EntrySchema, { index: 1n, term: 1n, data: new Uint8Array([1]) });
 * await wal.save(create(HardStateSchema, { term: 1n, commit: 1n }), [e], true);
 * await wal.close();
 * const again = await Wal.open(dir);
 * console.log(again.contents.entries.length); // 1
 * await again.wal.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class Wal {
  /** The raft group whose records this WAL writes and replays. */
  readonly group: bigint;
  readonly #fs: StorageFs;
  #encode: (type: RecordType, body: Uint8Array) => Uint8Array;
  #version: number;
  // Other groups' records were found: segments may hold their only copy.
  #shared: boolean;
  #segments: SegmentName[];
  #file: SegmentWriter | undefined;
  #preallocate: number;
  #hardState: HardState;
  #marker: SnapshotMarker | undefined;
  #lastIndex: bigint;
  #tail: Promise<void> = Promise.resolve();
  #failed: Error | undefined;
  #closed = false;
  #onSync: SyncObserver | undefined;

  private constructor(
    readonly dir: string,
    readonly segmentBytes: number,
    segments: SegmentName[],
    file: SegmentWriter,
    preallocate: number,
    replay: WalReplay,
    group: bigint,
    shared: boolean,
    fs: StorageFs,
  ) {
    this.group = group;
    this.#fs = fs;
    this.#encode = groupEncoder(group);
    this.#version = versionFor(group);
    this.#shared = shared;
    this.#segments = segments;
    this.#file = file;
    this.#preallocate = preallocate;
    this.#hardState = replay.hardState;
    this.#marker = replay.markers.at(-1);
    this.#lastIndex = replay.lastIndex;
  }

  /** Opens (or creates) the WAL in `dir` and replays its group's records. */
  static async open(dir: string, opts: WalOptions = {}): Promise<WalOpenResult> {
    const logger = opts.logger ?? consoleLogger("warn");
    const group = checkGroup(opts.group ?? DEFAULT_GROUP, "WalOptions.group");
    const fs = opts.fs ?? denoFs;
    await fs.mkdir(dir, { recursive: true });
    let segments = await listSegments(fs, dir);
    if (segments.length === 0) {
      const first = { seq: 0n, startIndex: 1n, file: segmentFileName(0n, 1n) };
      await writeSegmentHead(fs, dir, first, [], versionFor(group));
      segments = [first];
    }
    const replay = new GroupsReplay();
    let repaired: WalOpenResult["repaired"];
    let last: SegmentReplay = { size: 0, version: 0 };
    for (const [i, seg] of segments.entries()) {
      last = await replaySegment(fs, dir, seg, i === segments.length - 1, replay);
      if (last.repaired) {
        repaired = last.repaired;
        logger.warn("WAL: cut a torn tail at the last good record", { ...repaired });
      }
    }
    const groups = [...replay.groups.keys()];
    const shared = groups.some((g) => g !== group);
    if (shared && opts.exclusive) throw new GroupMismatchError(dir, group, groups);
    const own = replay.of(group);
    const lastSeg = segments[segments.length - 1];
    let lastSize = last.size;
    if (lastSize === 0) { // the whole segment was torn: write its head again
      const head = headRecords(groupEncoder(group), own.hardState, own.markers.at(-1));
      last.version = versionFor(group);
      await writeSegmentHead(fs, dir, lastSeg, head, last.version);
      lastSize = (await fs.stat(`${dir}/${lastSeg.file}`)).size; // written without a zero tail
    }
    const segmentBytes = opts.segmentBytes ?? 64 << 20;
    const prealloc = Math.min(opts.preallocateBytes ?? 4 << 20, segmentBytes);
    const file = await SegmentWriter.open(fs, `${dir}/${lastSeg.file}`, lastSize, prealloc);
    const wal = new Wal(dir, segmentBytes, segments, file, prealloc, own, group, shared, fs);
    wal.#onSync = opts.onSync;
    // Format 1 may not hold grouped records: they go to a new segment of format 2.
    if (last.version < wal.#version) await wal.#cut();
    return { wal, contents: own, repaired, groups };
  }

  /** The index of the last entry written (or of a newer snapshot marker). */
  get lastIndex(): bigint {
    return this.#lastIndex;
  }

  /** Bytes of records in the current segment (its file may be longer: zero-filled ahead). */
  get segmentWrittenBytes(): number {
    return this.#file?.bytes ?? 0;
  }

  /** The segment files, oldest first. */
  get segments(): readonly string[] {
    return this.#segments.map((s) => s.file);
  }

  /**
   * Appends `hardState` (when given) and `entries` as one batch; with `sync`,
   * resolves only once they are on stable storage (fdatasync).
   */
  save(hardState: HardState | undefined, entries: readonly Entry[], sync: boolean): Promise<void> {
    const records: Uint8Array[] = [];
    for (const e of entries) records.push(this.#encode(RecordType.Entry, toBinary(EntrySchema, e)));
    if (hardState) {
      records.push(this.#encode(RecordType.HardState, toBinary(HardStateSchema, hardState)));
    }
    return this.#enqueue("save", () =>
      this.#write(records, sync, () => {
        if (entries.length > 0) this.#lastIndex = entries[entries.length - 1].index;
        if (hardState) this.#hardState = hardState;
      }));
  }

  /**
   * Records that a snapshot at `m` was saved (write it to the snapshot file
   * first). With `m.received`, the log written so far is superseded.
   */
  saveSnapshotMarker(m: SnapshotMarker, sync = true): Promise<void> {
    const rec = this.#encode(RecordType.Snapshot, encodeMarker(m));
    return this.#enqueue("save a snapshot marker", () =>
      this.#write([rec], sync, () => {
        this.#marker = m;
        if (m.received || m.index > this.#lastIndex) this.#lastIndex = m.index;
      }));
  }

  /**
   * Deletes the segments whose entries all lie at or below `index` (a saved
   * snapshot's index). The current segment always stays. Returns how many
   * were deleted: none while the WAL holds other groups' records, whose
   * snapshots this WAL does not know.
   */
  releaseTo(index: bigint): Promise<number> {
    return this.#enqueueValue("release segments", async () => {
      let n = 0;
      if (this.#shared) return n;
      while (this.#segments.length > 1 && this.#segments[1].startIndex <= index + 1n) {
        await this.#fs.remove(`${this.dir}/${this.#segments[0].file}`);
        this.#segments.shift();
        n++;
      }
      if (n > 0) await syncDir(this.#fs, this.dir);
      return n;
    });
  }

  /**
   * Flushes to stable storage and closes the file; after a failed write
   * only closes it (a failed fsync is never retried: what it covered may
   * be lost, and a later one succeeding would not bring it back).
   */
  close(): Promise<void> {
    const run = this.#tail.then(async () => {
      if (this.#closed) throw new StorageClosedError("close");
      this.#closed = true;
      const f = this.#file;
      this.#file = undefined;
      if (this.#failed) f?.abandon();
      else await f?.close(); // undefined after a failed cut: nothing left open
    });
    this.#tail = run.then(() => {}, () => {});
    return run;
  }

  #enqueue(op: string, fn: () => Promise<void>): Promise<void> {
    return this.#enqueueValue(op, fn);
  }

  // Writes run one at a time in call order, whatever the caller awaits.
  // A failed write may have left part of a batch in the file: appending after
  // it would bury garbage under good records, so the WAL takes no more writes
  // (reopening cuts the partial batch as a torn tail).
  #enqueueValue<T>(op: string, fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(async () => {
      if (this.#closed) throw new StorageClosedError(op);
      if (this.#failed || this.#file === undefined) {
        throw new StorageClosedError(`${op} (a write failed: ${this.#failed?.message})`);
      }
      try {
        return await fn();
      } catch (e) {
        this.#failed ??= e as Error;
        throw e;
      }
    });
    this.#tail = run.then(() => {}, () => {});
    return run;
  }

  // `written` updates what the WAL knows once the records are in the file
  // (and before a cut, whose new segment starts from that state).
  async #write(records: Uint8Array[], sync: boolean, written: () => void): Promise<void> {
    await this.#file!.append(concat(records));
    written();
    if (this.#file!.bytes >= this.segmentBytes) return this.#cut();
    if (!sync) return;
    const observe = this.#onSync;
    if (observe !== undefined) observe("start", this.#lastIndex);
    await this.#file!.sync();
    if (observe !== undefined) observe("end", this.#lastIndex);
  }

  // Starts the next segment. The full one is synced first, so only the last
  // segment can ever hold a torn tail; the new one is complete before its
  // rename, and begins with the latest hardState and marker so that older
  // segments can be released.
  async #cut(): Promise<void> {
    await this.#file!.finish();
    this.#file = undefined;
    const prev = this.#segments[this.#segments.length - 1];
    const next = {
      seq: prev.seq + 1n,
      startIndex: this.#lastIndex + 1n,
      file: segmentFileName(prev.seq + 1n, this.#lastIndex + 1n),
    };
    const head = headRecords(this.#encode, this.#hardState, this.#marker);
    const size = await writeSegmentHead(this.#fs, this.dir, next, head, this.#version);
    this.#segments.push(next);
    const path = `${this.dir}/${next.file}`;
    this.#file = await SegmentWriter.open(this.#fs, path, size, this.#preallocate);
  }
}

// A new segment repeats the latest hardState and marker. The copy of a
// marker only compacts: replaying it must not drop the entries written
// after the original (which may sit in earlier segments).
function headRecords(
  encode: (type: RecordType, body: Uint8Array) => Uint8Array,
  hs: HardState,
  marker: SnapshotMarker | undefined,
): Uint8Array[] {
  const out = [encode(RecordType.HardState, toBinary(HardStateSchema, hs))];
  if (marker) {
    const copy = { index: marker.index, term: marker.term };
    out.push(encode(RecordType.Snapshot, encodeMarker(copy)));
  }
  return out;
}

// Group 1 writes format 1, byte for byte as before groups; others need 2.
function versionFor(group: bigint): number {
  return group === DEFAULT_GROUP ? FORMAT_VERSION : GROUPED_FORMAT_VERSION;
}

// Writes a complete new segment under a temporary name, fsyncs, renames.
async function writeSegmentHead(
  fs: StorageFs,
  dir: string,
  seg: SegmentName,
  rest: Uint8Array[],
  version: number,
) {
  const tmp = `${dir}/${seg.file}.tmp`;
  const meta = encodeRecord(RecordType.Metadata, encodeMetadata(seg.seq, seg.startIndex, version));
  const bytes = concat([meta, ...rest]);
  const f = await fs.open(tmp, { write: true, create: true, truncate: true });
  try {
    await writeAll(f, bytes);
    await f.syncData();
  } finally {
    f.close();
  }
  await fs.rename(tmp, `${dir}/${seg.file}`);
  await syncDir(fs, dir);
  return bytes.length;
}

interface SegmentReplay {
  size: number;
  /** The segment's format version (0: its header was torn off). */
  version: number;
  repaired?: WalOpenResult["repaired"];
}

async function replaySegment(
  fs: StorageFs,
  dir: string,
  seg: SegmentName,
  isLast: boolean,
  replay: GroupsReplay,
): Promise<SegmentReplay> {
  const path = `${dir}/${seg.file}`;
  const buf = await fs.readFile(path);
  const scan = scanSegment(buf);
  let repaired: SegmentReplay["repaired"];
  if (scan.badReason !== undefined && !scan.zeroTail) {
    if (!isLast || (scan.intactAfter && !scan.unwrittenSectors)) {
      throw new WalCorruptError(path, scan.goodEnd, scan.badReason);
    }
    await fs.truncate(path, scan.goodEnd);
    repaired = {
      file: path,
      offset: scan.goodEnd,
      droppedBytes: buf.length - scan.goodEnd,
      reason: scan.unwrittenSectors
        ? `${scan.badReason}; unwritten sectors: the rest of that unsynced batch is dropped`
        : scan.badReason,
    };
  }
  const [meta, ...rest] = scan.records;
  if (meta === undefined) {
    if (!isLast) throw new WalFormatError(`${path} is empty`);
    return { size: 0, version: 0, repaired };
  }
  if (meta.type !== RecordType.Metadata) {
    throw new WalFormatError(`${path} does not start with a segment header`);
  }
  const version = checkMetadata(meta.data, seg);
  for (const r of rest) {
    if (version === FORMAT_VERSION && isGrouped(r.type)) {
      throw new WalFormatError(`${path}: a grouped record (type ${r.type}) in a format 1 segment`);
    }
    replay.apply(r, path);
  }
  return { size: scan.goodEnd, version, repaired };
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
