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

/**
 * The state a WAL holds.
 *
 * @example
 * ```ts
 * import { Wal } from "@rafthttp/rafthttp/raft";
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
