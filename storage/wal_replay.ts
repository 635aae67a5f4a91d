/**
 * Rebuilds the raft state from WAL records in write order: the latest
 * hardState, every snapshot marker, and the log, where an entry at index i
 * replaces what was there from i on (raft overwrote a conflicting suffix).
 *
 * @module
 */

import { fromBinary } from "npm:@bufbuild/protobuf@2.17.0";
import { create, type Entry, EntrySchema, type HardState, HardStateSchema } from "../raftpb/mod.ts";
import { WalFormatError } from "./disk_errors.ts";
import { RecordType, type WalRecord } from "./wal_record.ts";
import { decodeMarker, type SnapshotMarker } from "./wal_segment.ts";
import { DEFAULT_GROUP, isGrouped, toGroupRecord } from "./wal_group.ts";

/**
 * The state a WAL holds.
 *
 * @example
 * ```ts
 * import { Wal } from "@rafthttp/rafthttp/storage";
 * const dir = await Deno.makeTempDir();
 * const { wal, contents } = await Wal.open(dir);
 * console.log(contents.hardState.term, contents.markers); // 0n []
 * await wal.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface WalContents {
  /** The latest hardState (all zero for a new WAL). */
  hardState: HardState;
  /** The log as written, oldest first; may start before the newest marker. */
  entries: Entry[];
  /** Snapshot markers in write order (the newest last). */
  markers: SnapshotMarker[];
}

/** Accumulates records into {@link WalContents}. */
export class WalReplay implements WalContents {
  hardState: HardState = create(HardStateSchema);
  entries: Entry[] = [];
  markers: SnapshotMarker[] = [];
  /** The highest index the WAL covers (last entry, or a newer marker). */
  lastIndex = 0n;
  // The highest marker since the last entry: a gap in the log is legitimate
  // only right after a snapshot that covers it (a follower that received one).
  #markerSinceEntry = -1n;

  /** Applies one record (other than a segment's metadata). */
  apply(rec: WalRecord, where: string): void {
    switch (rec.type) {
      case RecordType.HardState:
        this.hardState = fromBinary(HardStateSchema, rec.data);
        return;
      case RecordType.Snapshot:
        this.addMarker(decodeMarker(rec.data));
        return;
      case RecordType.Entry:
        this.addEntry(fromBinary(EntrySchema, rec.data), where);
        return;
      default:
        throw new WalFormatError(`${where}: unexpected record type ${rec.type}`);
    }
  }

  /** Records a snapshot marker; a received snapshot replaces the log written so far. */
  addMarker(m: SnapshotMarker): void {
    if (m.received) this.entries.length = 0;
    const last = this.markers.at(-1);
    if (last === undefined || last.index !== m.index || last.term !== m.term) this.markers.push(m);
    if (m.index > this.#markerSinceEntry) this.#markerSinceEntry = m.index;
    if (m.received || m.index > this.lastIndex) this.lastIndex = m.index;
  }

  /** Appends an entry, truncating the conflicting suffix it replaces. */
  addEntry(e: Entry, where: string): void {
    const first = this.entries[0]?.index;
    const last = this.entries.at(-1)?.index;
    if (first !== undefined && last !== undefined && e.index <= last) {
      this.entries.length = e.index >= first ? Number(e.index - first) : 0;
    } else if (last !== undefined && e.index > last + 1n) {
      if (this.#markerSinceEntry < e.index - 1n) {
        throw new WalFormatError(`${where}: entry ${e.index} follows ${last} with no snapshot`);
      }
      this.entries.length = 0; // superseded by the snapshot
    }
    this.entries.push(e);
    this.lastIndex = e.index;
    this.#markerSinceEntry = -1n;
  }
}

/**
 * Replays the records of every group in a WAL, each group into its own
 * {@link WalReplay}: a group's log, hardState and markers are its own, and
 * its checks (a gap only after a snapshot) see its records alone.
 *
 * @example
 * ```ts
 * import { GroupsReplay } from "./wal_replay.ts";
 * import { RecordType } from "./wal_record.ts";
 * const replay = new GroupsReplay();
 * replay.apply({ type: RecordType.GroupHardState, data: new Uint8Array([7, 0x08, 2]), end: 0 }, "x");
 * console.log([...replay.groups.keys()], replay.of(7n).hardState.term); // [ 7n ] 2n
 * ```
 */
export class GroupsReplay {
  /** Each group's replay, in the order the groups first appeared. */
  readonly groups: Map<bigint, WalReplay> = new Map();

  /** Applies one record (other than a segment's metadata) to its group's replay. */
  apply(rec: WalRecord, where: string): void {
    // Plain records (group 1's, all of a WAL from before groups) go as they are, uncopied.
    const r = isGrouped(rec.type) ? toGroupRecord(rec, where) : undefined;
    const group = r?.group ?? DEFAULT_GROUP;
    let replay = this.groups.get(group);
    if (replay === undefined) this.groups.set(group, replay = new WalReplay());
    replay.apply(r ?? rec, where);
  }

  /** The replay of `group` (an empty one when the WAL holds none of its records). */
  of(group: bigint): WalReplay {
    return this.groups.get(group) ?? new WalReplay();
  }
}
