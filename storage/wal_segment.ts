/**
 * WAL segment files: their names (`%016x-%016x.wal`, sequence and the raft
 * index of the first entry they may hold, as etcd names them; the index is
 * that of the group whose WAL cut the segment), the header records each
 * starts with (format 1, or 2 when it may hold grouped records), and
 * directory listing.
 *
 * @module
 */

import { WalFormatError } from "./disk_errors.ts";
import type { StorageFs } from "./fs.ts";

/** A segment as named on disk. */
export interface SegmentName {
  /** Position in the sequence of segments, from 0. */
  seq: bigint;
  /** The WAL's last index + 1 when the segment was started. */
  startIndex: bigint;
  /** The file name (no directory). */
  file: string;
}

/**
 * A point the log was compacted to by a snapshot.
 *
 * @example
 * ```ts
 * import type { SnapshotMarker } from "@rafthttp/rafthttp/storage";
 * const m: SnapshotMarker = { index: 100n, term: 3n };
 * console.log(m.index); // 100n
 * ```
 */
export interface SnapshotMarker {
  /** The snapshot's last included index. */
  index: bigint;
  /** The term of that entry. */
  term: bigint;
  /**
   * True for a snapshot received from the leader, which replaces the whole
   * log: entries written before it are dropped on replay (some may conflict
   * with the leader's log). False or absent: a snapshot the application
   * took, which only compacts (entries after its index stay).
   */
  received?: boolean;
}

const hex16 = (n: bigint) => n.toString(16).padStart(16, "0");
const NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;
/** Segment format 1: records of group 1 only, as before groups existed. */
export const FORMAT_VERSION = 1;
/** Segment format 2: may also hold grouped records (types 0x12-0x14), which format 1 refuses. */
export const GROUPED_FORMAT_VERSION = 2;

/** The file name of segment `seq` starting at `startIndex`. */
export function segmentFileName(seq: bigint, startIndex: bigint): string {
  return `${hex16(seq)}-${hex16(startIndex)}.wal`;
}

/** Lists the segments of `dir` in sequence order, removing leftovers of interrupted cuts. */
export async function listSegments(fs: StorageFs, dir: string): Promise<SegmentName[]> {
  const out: SegmentName[] = [];
  for await (const e of fs.readDir(dir)) {
    if (e.name.endsWith(".wal.tmp")) {
      await fs.remove(`${dir}/${e.name}`); // a cut that crashed before its rename
      continue;
    }
    const m = NAME.exec(e.name);
    if (m) out.push({ seq: BigInt("0x" + m[1]), startIndex: BigInt("0x" + m[2]), file: e.name });
  }
  out.sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
  for (let i = 1; i < out.length; i++) {
    if (out[i].seq !== out[i - 1].seq + 1n) {
      throw new WalFormatError(`segment ${out[i - 1].seq + 1n} is missing in ${dir}`);
    }
  }
  return out;
}

/** Encodes a segment's metadata record data: version, sequence, start index. */
export function encodeMetadata(
  seq: bigint,
  startIndex: bigint,
  version: number = FORMAT_VERSION,
): Uint8Array {
  const out = new Uint8Array(17);
  const v = new DataView(out.buffer);
  out[0] = version;
  v.setBigUint64(1, seq, true);
  v.setBigUint64(9, startIndex, true);
  return out;
}

/** Checks a segment's metadata record against its name; returns its format version. */
export function checkMetadata(data: Uint8Array, name: SegmentName): number {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const version = data[0];
  if (data.length !== 17 || (version !== FORMAT_VERSION && version !== GROUPED_FORMAT_VERSION)) {
    throw new WalFormatError(`${name.file} has an unknown format (version ${version})`);
  }
  if (v.getBigUint64(1, true) !== name.seq || v.getBigUint64(9, true) !== name.startIndex) {
    throw new WalFormatError(`${name.file}'s header does not match its name (renamed file?)`);
  }
  return version;
}

/** Encodes a snapshot marker record's data. */
export function encodeMarker(m: SnapshotMarker): Uint8Array {
  const out = new Uint8Array(17);
  const v = new DataView(out.buffer);
  v.setBigUint64(0, m.index, true);
  v.setBigUint64(8, m.term, true);
  out[16] = m.received ? 1 : 0;
  return out;
}

/** Decodes a snapshot marker record's data. */
export function decodeMarker(data: Uint8Array): SnapshotMarker {
  if (data.length !== 17 || data[16] > 1) {
    throw new WalFormatError(`snapshot marker of ${data.length} bytes, kind ${data[16]}`);
  }
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const m: SnapshotMarker = { index: v.getBigUint64(0, true), term: v.getBigUint64(8, true) };
  if (data[16] === 1) m.received = true;
  return m;
}
