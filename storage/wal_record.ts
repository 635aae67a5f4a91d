/**
 * One WAL record on disk, and the scan that finds where valid records end.
 *
 * Layout (little-endian): `crc u32 | length u32 | type u8 | data[length]`,
 * where `crc` is the CRC-32C of everything after it (length, type, data),
 * so a torn length, a wrong type and damaged data are all caught.
 *
 * Types 1 to 4 are the records of raft group 1, as written before groups
 * existed. Types 0x12 to 0x14 are the same three records (0x10 | 2, 3, 4)
 * of any other group: their data is the group id as an unsigned varint,
 * then exactly the data the plain type would hold (see wal_group.ts).
 *
 * @module
 */

import { crc32c } from "./crc32c.ts";

/** What a record holds. */
export enum RecordType {
  /** First record of every segment: format version, sequence, first index. */
  Metadata = 1,
  /** A raft log entry (raftpb.Entry bytes). */
  Entry = 2,
  /** The latest term/vote/commit (raftpb.HardState bytes). */
  HardState = 3,
  /** A snapshot was saved at (index, term): entries up to index are covered by it. */
  Snapshot = 4,
  /** An Entry of a group other than 1: `group uvarint | raftpb.Entry bytes`. */
  GroupEntry = 0x12,
  /** A HardState of a group other than 1: `group uvarint | raftpb.HardState bytes`. */
  GroupHardState = 0x13,
  /** A Snapshot marker of a group other than 1: `group uvarint | the 17 marker bytes`. */
  GroupSnapshot = 0x14,
}

/** Bytes before a record's data. */
export const RECORD_HEADER_BYTES = 9;
// A record larger than this is garbage, not data (raft entries are capped far lower).
const MAX_RECORD_BYTES = 1 << 30;

/** A decoded record and where it ends in the segment. */
export interface WalRecord {
  type: RecordType;
  data: Uint8Array;
  end: number;
}

/**
 * Encodes one record whose data is `prefix` (a group id, or nothing)
 * followed by `data`, without joining them first.
 */
export function encodeRecord(type: RecordType, data: Uint8Array, prefix?: Uint8Array): Uint8Array {
  const head = prefix?.length ?? 0;
  const out = new Uint8Array(RECORD_HEADER_BYTES + head + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(4, head + data.length, true);
  out[8] = type;
  if (prefix) out.set(prefix, RECORD_HEADER_BYTES);
  out.set(data, RECORD_HEADER_BYTES + head);
  view.setUint32(0, crc32c(out.subarray(4)), true);
  return out;
}

/** Decodes the record at `off`, or says why there is no valid record there. */
export function decodeRecord(buf: Uint8Array, off: number): WalRecord | string {
  if (buf.length - off < RECORD_HEADER_BYTES) return "short header";
  const view = new DataView(buf.buffer, buf.byteOffset + off, RECORD_HEADER_BYTES);
  const length = view.getUint32(4, true);
  const type = buf[off + 8];
  if (!(type in RecordType)) return `unknown record type ${type}`;
  if (length > MAX_RECORD_BYTES) return `implausible length ${length}`;
  const end = off + RECORD_HEADER_BYTES + length;
  if (end > buf.length) return "short record";
  if (crc32c(buf.subarray(off + 4, end)) !== view.getUint32(0, true)) return "bad checksum";
  return { type, data: buf.subarray(off + RECORD_HEADER_BYTES, end), end };
}

/** The valid records of a segment and, if it does not end cleanly, where and why. */
export interface SegmentScan {
  records: WalRecord[];
  /** Byte offset just after the last valid record. */
  goodEnd: number;
  /** Why the bytes at goodEnd are not a record (undefined when the segment ends cleanly). */
  badReason?: string;
  /** True when an intact record exists somewhere after the damaged one. */
  intactAfter: boolean;
  /**
   * True when the damage looks like sectors that never reached the disk:
   * zeros from goodEnd to a sector boundary, or a whole zero sector before
   * the next intact record. After a power loss, the pages of an unsynced
   * batch can persist out of order, leaving intact records after a hole.
   */
  unwrittenSectors: boolean;
  /** True when everything from goodEnd on is zero: the clean end of a preallocated file. */
  zeroTail: boolean;
}

/** The disk's unit of atomic writes assumed when telling a torn batch from corruption. */
export const SECTOR_BYTES = 512;

/** Reads records from the start of `buf` until the end or the first invalid one. */
export function scanSegment(buf: Uint8Array): SegmentScan {
  const records: WalRecord[] = [];
  let off = 0;
  while (off < buf.length) {
    const r = decodeRecord(buf, off);
    if (typeof r === "string") {
      const clean = { records, goodEnd: off, intactAfter: false, unwrittenSectors: false };
      if (allZero(buf, off, buf.length)) return { ...clean, zeroTail: true };
      const next = nextRecordAfter(buf, off + 1);
      if (next < 0) return { ...clean, badReason: r, zeroTail: false };
      const unwrittenSectors = holeBefore(buf, off, next);
      return { ...clean, badReason: r, intactAfter: true, unwrittenSectors, zeroTail: false };
    }
    records.push(r);
    off = r.end;
  }
  return { records, goodEnd: off, intactAfter: false, unwrittenSectors: false, zeroTail: false };
}

function allZero(buf: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (buf[i] !== 0) return false;
  return true;
}

// Zeros from `from` to the next sector boundary, or a whole aligned zero sector in [from, to).
function holeBefore(buf: Uint8Array, from: number, to: number): boolean {
  const boundary = Math.ceil(from / SECTOR_BYTES) * SECTOR_BYTES;
  if (boundary > from && boundary <= buf.length && allZero(buf, from, boundary)) return true;
  for (let s = boundary; s + SECTOR_BYTES <= to; s += SECTOR_BYTES) {
    if (allZero(buf, s, s + SECTOR_BYTES)) return true;
  }
  return false;
}

// Where the first valid record at an offset from `from` on starts (-1: none).
// A torn write leaves only garbage after the damage; intact records after it
// mean the damage is in data that was once complete, unless sectors were
// lost. A checksum match by chance is 1 in 2^32 per candidate offset.
function nextRecordAfter(buf: Uint8Array, from: number): number {
  for (let off = from; off + RECORD_HEADER_BYTES <= buf.length; off++) {
    if (typeof decodeRecord(buf, off) !== "string") return off;
  }
  return -1;
}
