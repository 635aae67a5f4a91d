/**
 * Raft groups in the WAL: the group a record belongs to, so that one WAL
 * can later hold the records of many groups (one fsync per batch across
 * them) and a replay can select or split them by group.
 *
 * Group 1 ({@link DEFAULT_GROUP}) is written exactly as before groups
 * existed: record types 2 (Entry), 3 (HardState) and 4 (Snapshot marker),
 * so that every data directory written then is also one of group 1. Any
 * other group uses the types 0x12, 0x13 and 0x14 (0x10 | the plain type),
 * whose data starts with the group id:
 *
 * ```text
 * crc u32 LE | length u32 LE | type u8 (0x12 | 0x13 | 0x14) | group uvarint | body
 * ```
 *
 * - `group uvarint`: the id as an unsigned LEB128 varint (protobuf's): 7
 *   bits per byte, least significant first, the high bit set on every byte
 *   but the last; 1 to 10 bytes, minimal (no needless 0x80 .. 0x00 tail),
 *   below 2^64. Group 7 is `07`, group 300 is `ac 02`. Group 1 never takes
 *   this form (one form per group keeps WAL bytes comparable), and 0 is no
 *   group (as 0 is no member in raft).
 * - `body`: exactly the plain type's data: raftpb.Entry bytes, raftpb.HardState
 *   bytes, or the 17-byte snapshot marker (index u64 LE, term u64 LE,
 *   received u8).
 * - `length` counts the varint and the body; the CRC-32C covers length,
 *   type, varint and body, so torn and damaged grouped records are found
 *   as any other.
 *
 * A segment that may hold grouped records has format version 2 in its
 * metadata record (version 1 otherwise); a grouped record in a format 1
 * segment is refused. Code from before groups refuses a format 2 segment,
 * so it does not run on as an empty group 1 in another group's directory;
 * but it scans a segment before reading its header, and takes grouped
 * records at the end of the last segment for a torn tail, which it cuts
 * first. Going back to that code is therefore safe only with directories
 * of group 1, which are written as it writes them.
 *
 * @module
 */

import { WalFormatError } from "./disk_errors.ts";
import { encodeRecord, RecordType, type WalRecord } from "./wal_record.ts";

/**
 * The group of a storage opened without one: every WAL and snapshot
 * directory written before groups existed holds group 1.
 *
 * @example
 * ```ts
 * import { DEFAULT_GROUP } from "@rafthttp/rafthttp/storage";
 * console.log(DEFAULT_GROUP); // 1n
 * ```
 */
export const DEFAULT_GROUP = 1n;

const GROUPED = 0x10;
const MAX_GROUP = (1n << 64n) - 1n;
const MAX_VARINT_BYTES = 10;

/**
 * Checks a group id (1 to 2^64 - 1) and returns it; `what` names it in the error.
 *
 * @example
 * ```ts
 * import { checkGroup } from "@rafthttp/rafthttp/storage";
 * console.log(checkGroup(7n)); // 7n
 * try { checkGroup(0n); } catch (e) { console.log((e as Error).name); } // RangeError
 * ```
 */
export function checkGroup(group: bigint, what = "group"): bigint {
  if (typeof group !== "bigint" || group < 1n || group > MAX_GROUP) {
    throw new RangeError(`${what} must be a bigint from 1n to 2^64 - 1, got ${String(group)}`);
  }
  return group;
}

/**
 * The unsigned LEB128 varint of `n` (protobuf's uvarint).
 *
 * @example
 * ```ts
 * import { encodeUvarint } from "./wal_group.ts";
 * console.log(encodeUvarint(300n)); // Uint8Array(2) [ 172, 2 ]
 * ```
 */
export function encodeUvarint(n: bigint): Uint8Array {
  const out: number[] = [];
  while (n >= 0x80n) {
    out.push(Number(n & 0x7fn) | 0x80);
    n >>= 7n;
  }
  out.push(Number(n));
  return Uint8Array.from(out);
}

/**
 * Decodes the minimal uvarint below 2^64 at the start of `data`: its value
 * and length, or why there is none.
 *
 * @example
 * ```ts
 * import { decodeUvarint } from "./wal_group.ts";
 * console.log(decodeUvarint(new Uint8Array([0xac, 0x02, 9]))); // { value: 300n, length: 2 }
 * console.log(decodeUvarint(new Uint8Array([0x87, 0x00]))); // non-minimal varint
 * ```
 */
export function decodeUvarint(data: Uint8Array): { value: bigint; length: number } | string {
  let value = 0n;
  for (let i = 0; i < data.length && i < MAX_VARINT_BYTES; i++) {
    const b = data[i];
    value |= BigInt(b & 0x7f) << BigInt(7 * i);
    if (b & 0x80) continue;
    if (i > 0 && b === 0) return "non-minimal varint";
    if (value > MAX_GROUP) return "varint above 2^64 - 1";
    return { value, length: i + 1 };
  }
  return data.length < MAX_VARINT_BYTES ? "truncated varint" : "varint longer than 10 bytes";
}

/**
 * Encodes a record of `group`: the plain `type` (Entry, HardState or
 * Snapshot) for group 1, byte for byte as before groups; its grouped type
 * with the group id in front of `body` for any other.
 *
 * @example
 * ```ts
 * import { encodeGroupRecord } from "./wal_group.ts";
 * import { RecordType } from "./wal_record.ts";
 * const body = new Uint8Array([0x08, 0x01]); // a HardState with term 1
 * console.log(encodeGroupRecord(RecordType.HardState, 1n, body).subarray(4)); // Uint8Array(7) [ 2, 0, 0, 0, 3, 8, 1 ]
 * console.log(encodeGroupRecord(RecordType.HardState, 7n, body).subarray(4)); // Uint8Array(8) [ 3, 0, 0, 0, 19, 7, 8, 1 ]
 * ```
 */
export function encodeGroupRecord(type: RecordType, group: bigint, body: Uint8Array): Uint8Array {
  return groupEncoder(group)(type, body);
}

/**
 * {@link encodeGroupRecord} for one group, its varint encoded once (a WAL
 * encodes every record of its group with one).
 *
 * @example
 * ```ts
 * import { groupEncoder } from "./wal_group.ts";
 * import { RecordType } from "./wal_record.ts";
 * const encode = groupEncoder(300n);
 * console.log(encode(RecordType.Entry, new Uint8Array([1])).subarray(8)); // Uint8Array(4) [ 18, 172, 2, 1 ]
 * ```
 */
export function groupEncoder(group: bigint): (type: RecordType, body: Uint8Array) => Uint8Array {
  const prefix = checkGroup(group) === DEFAULT_GROUP ? undefined : encodeUvarint(group);
  return (type, body) => {
    if (
      type !== RecordType.Entry && type !== RecordType.HardState && type !== RecordType.Snapshot
    ) {
      throw new RangeError(`record type ${type} belongs to no group`);
    }
    return prefix ? encodeRecord(type | GROUPED, body, prefix) : encodeRecord(type, body);
  };
}

/**
 * A WAL record with its group: `type` is the plain type (Entry, HardState
 * or Snapshot) and `data` the body, whichever form it was written in.
 *
 * @example
 * ```ts
 * import { type GroupRecord, toGroupRecord } from "./wal_group.ts";
 * import { RecordType } from "./wal_record.ts";
 * const r: GroupRecord = toGroupRecord({ type: RecordType.GroupEntry, data: new Uint8Array([9, 1]), end: 0 }, "x");
 * console.log(r.group, r.type, r.data); // 9n 2 Uint8Array(1) [ 1 ]
 * ```
 */
export interface GroupRecord extends WalRecord {
  /** The raft group the record belongs to. */
  group: bigint;
}

/**
 * The group and plain form of a record of any group (a segment's metadata
 * record belongs to none: it is returned as group 1's, for the replay to
 * refuse as before). A grouped record with no valid group id is written
 * by no WAL: a WalFormatError, naming `where`.
 *
 * @example
 * ```ts
 * import { toGroupRecord } from "./wal_group.ts";
 * import { RecordType } from "./wal_record.ts";
 * const plain = toGroupRecord({ type: RecordType.Entry, data: new Uint8Array([1]), end: 0 }, "x");
 * console.log(plain.group, plain.type); // 1n 2
 * ```
 */
export function toGroupRecord(rec: WalRecord, where: string): GroupRecord {
  if ((rec.type & GROUPED) === 0) return { ...rec, group: DEFAULT_GROUP };
  const id = decodeUvarint(rec.data);
  if (typeof id === "string") {
    throw new WalFormatError(`${where}: record of type ${rec.type} has no group id (${id})`);
  }
  if (id.value <= DEFAULT_GROUP) {
    throw new WalFormatError(`${where}: record of type ${rec.type} names group ${id.value}`);
  }
  return {
    type: rec.type & ~GROUPED,
    data: rec.data.subarray(id.length),
    end: rec.end,
    group: id.value,
  };
}

/**
 * True for the record types that only a segment of format version 2 may hold.
 *
 * @example
 * ```ts
 * import { isGrouped } from "./wal_group.ts";
 * import { RecordType } from "./wal_record.ts";
 * console.log(isGrouped(RecordType.Entry), isGrouped(RecordType.GroupEntry)); // false true
 * ```
 */
export function isGrouped(type: RecordType): boolean {
  return (type & GROUPED) !== 0;
}

/**
 * Splits a WAL's records (in write order, as `scanSegment` returns them,
 * segment after segment) by group: each group's records in their order,
 * in plain form. Segment metadata records belong to no group and are left
 * out. What a WAL shared by many groups replays from, one group at a time.
 *
 * @example
 * ```ts
 * import { encodeGroupRecord, splitByGroup } from "./wal_group.ts";
 * import { RecordType, scanSegment } from "./wal_record.ts";
 * const bytes = [1n, 7n, 1n].map((g) => encodeGroupRecord(RecordType.HardState, g, new Uint8Array()));
 * const { records } = scanSegment(new Uint8Array(bytes.flatMap((b) => [...b])));
 * const groups = splitByGroup(records, "example");
 * console.log([...groups].map(([g, rs]) => `${g}: ${rs.length}`)); // [ "1: 2", "7: 1" ]
 * ```
 */
export function splitByGroup(
  records: readonly WalRecord[],
  where: string,
): Map<bigint, GroupRecord[]> {
  const out = new Map<bigint, GroupRecord[]>();
  for (const rec of records) {
    if (rec.type === RecordType.Metadata) continue;
    const r = toGroupRecord(rec, where);
    const list = out.get(r.group);
    if (list) list.push(r);
    else out.set(r.group, [r]);
  }
  return out;
}
