// Raft groups in the WAL: the grouped records' bytes, splitting a WAL's
// records by group, and a WAL whose records of groups 1, 7 and 9 are
// interleaved (written through the record-level API, as a WAL shared by
// groups will write them), replayed one group at a time with the torn-tail
// and corruption rules of a WAL of one group.
import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { toBinary } from "npm:@bufbuild/protobuf@2.17.0";
import { create, type Entry, EntrySchema, HardStateSchema, type Logger } from "../raftpb/mod.ts";
import { crc32c } from "./crc32c.ts";
import { WalCorruptError, WalFormatError } from "./disk_errors.ts";
import { Wal } from "./wal.ts";
import {
  checkGroup,
  decodeUvarint,
  encodeGroupRecord,
  encodeUvarint,
  splitByGroup,
} from "./wal_group.ts";
import { encodeRecord, RecordType, scanSegment } from "./wal_record.ts";
import { encodeMarker, encodeMetadata, segmentFileName } from "./wal_segment.ts";
import { withTempDir } from "./testdata/temp_dir.ts";

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const entry = (index: bigint, term = 1n, text = `v${index}`): Entry =>
  create(EntrySchema, { index, term, data: new TextEncoder().encode(text) });
const hs = (term: bigint, commit: bigint) => create(HardStateSchema, { term, commit, vote: 1n });
const summary = (es: Entry[]) => es.map((e) => `${e.index}@${e.term}`);
const bytes = (...parts: Uint8Array[]) => new Uint8Array(parts.flatMap((p) => [...p]));

const withDir = (fn: (dir: string) => Promise<void>) => withTempDir("wal_group_test_", fn);

Deno.test("wal group: varints have protobuf's layout; group ids are 1 to 2^64 - 1", () => {
  const cases: [bigint, number[]][] = [
    [2n, [0x02]],
    [127n, [0x7f]],
    [128n, [0x80, 0x01]],
    [300n, [0xac, 0x02]],
    [(1n << 64n) - 1n, [...Array(9).fill(0xff), 0x01]],
  ];
  for (const [n, want] of cases) {
    assertEquals([...encodeUvarint(n)], want);
    assertEquals(decodeUvarint(Uint8Array.from([...want, 0x55])), {
      value: n,
      length: want.length,
    });
  }
  assertEquals(decodeUvarint(Uint8Array.of(0x87, 0x00)), "non-minimal varint");
  assertEquals(decodeUvarint(Uint8Array.of(0x80)), "truncated varint");
  assertEquals(decodeUvarint(Uint8Array.of(...Array(9).fill(0xff), 0x02)), "varint above 2^64 - 1");
  assertEquals(decodeUvarint(new Uint8Array(11).fill(0x80)), "varint longer than 10 bytes");
  for (const bad of [0n, -1n, 1n << 64n, 7 as unknown as bigint]) {
    assertThrows(() => checkGroup(bad), RangeError);
  }
});

Deno.test("wal group: group 1 writes the plain records byte for byte; others carry their id", () => {
  const body = toBinary(HardStateSchema, hs(2n, 5n));
  for (const type of [RecordType.Entry, RecordType.HardState, RecordType.Snapshot]) {
    assertEquals(encodeGroupRecord(type, 1n, body), encodeRecord(type, body));
  }
  // Spelled out: crc | length = varint + body | 0x10 | type | varint | body.
  for (const [group, varint] of [[7n, [0x07]], [300n, [0xac, 0x02]]] as const) {
    const rec = encodeGroupRecord(RecordType.HardState, group, body);
    const afterCrc = [varint.length + body.length, 0, 0, 0, 0x13, ...varint, ...body];
    assertEquals([...rec.subarray(4)], afterCrc);
    assertEquals(new DataView(rec.buffer).getUint32(0, true), crc32c(rec.subarray(4)));
  }
  const marker = encodeGroupRecord(RecordType.Snapshot, 9n, encodeMarker({ index: 5n, term: 2n }));
  assertEquals([...marker.subarray(8, 11)], [0x14, 0x09, 0x05]);
  assertThrows(() => encodeGroupRecord(RecordType.Metadata, 7n, body), RangeError);
});

Deno.test("wal group: splitByGroup keeps each group's records in order, in plain form", () => {
  const recs = [
    encodeRecord(RecordType.Metadata, encodeMetadata(0n, 1n, 2)),
    encodeGroupRecord(RecordType.Entry, 7n, Uint8Array.of(0x71)),
    encodeGroupRecord(RecordType.Entry, 1n, Uint8Array.of(0x11)),
    encodeGroupRecord(RecordType.HardState, 9n, Uint8Array.of(0x91)),
    encodeGroupRecord(RecordType.HardState, 7n, Uint8Array.of(0x72)),
    encodeGroupRecord(RecordType.HardState, 1n, Uint8Array.of(0x12)),
  ];
  const split = splitByGroup(scanSegment(bytes(...recs)).records, "test");
  const seen = [...split].map(([g, rs]) => [g, rs.map((r) => [r.type, ...r.data])]);
  assertEquals(seen, [
    [7n, [[RecordType.Entry, 0x71], [RecordType.HardState, 0x72]]],
    [1n, [[RecordType.Entry, 0x11], [RecordType.HardState, 0x12]]],
    [9n, [[RecordType.HardState, 0x91]]],
  ]);
  // Grouped records that no WAL writes: group 1 or 0 in grouped form, a cut-off varint.
  for (const data of [[0x01, 0x11], [0x00], [0x80]]) {
    const bad = encodeRecord(RecordType.GroupEntry, Uint8Array.from(data));
    assertThrows(() => splitByGroup(scanSegment(bad).records, "t"), WalFormatError);
  }
});

// Groups 1, 7 and 9 interleaved over two segments. Group 7 overwrites a
// suffix, group 9 receives a snapshot that replaces its log; the last
// record is an entry of group 9.
async function interleaved(
  dir: string,
): Promise<{ path: string; file: Uint8Array; lastAt: number }> {
  const e = (g: bigint, x: Entry) =>
    encodeGroupRecord(RecordType.Entry, g, toBinary(EntrySchema, x));
  const h = (g: bigint, t: bigint, c: bigint) =>
    encodeGroupRecord(RecordType.HardState, g, toBinary(HardStateSchema, hs(t, c)));
  const m = (g: bigint, index: bigint, received?: boolean) =>
    encodeGroupRecord(RecordType.Snapshot, g, encodeMarker({ index, term: 2n, received }));
  const meta = (seq: bigint, start: bigint) =>
    encodeRecord(RecordType.Metadata, encodeMetadata(seq, start, 2));
  const first = bytes(
    meta(0n, 1n),
    ...[1n, 2n, 3n].flatMap((i) => [e(1n, entry(i)), e(7n, entry(i)), e(9n, entry(i))]),
    h(1n, 1n, 2n),
    h(7n, 1n, 1n),
    e(7n, entry(3n, 2n)), // overwrites 7's entry 3
    h(9n, 1n, 3n),
  );
  await Deno.writeFile(`${dir}/${segmentFileName(0n, 1n)}`, first);
  const head = bytes(meta(1n, 4n), h(1n, 1n, 2n), h(7n, 2n, 3n), h(9n, 1n, 3n));
  const second = bytes(
    head,
    m(9n, 20n, true),
    h(9n, 2n, 20n),
    e(1n, entry(4n)),
    e(7n, entry(4n, 2n)),
  );
  const last = e(9n, entry(21n, 2n, "the last record, of group 9"));
  const path = `${dir}/${segmentFileName(1n, 4n)}`;
  const file = bytes(second, last);
  await Deno.writeFile(path, file);
  return { path, file, lastAt: second.length };
}

const want = {
  1: { entries: ["1@1", "2@1", "3@1", "4@1"], commit: 2n, markers: [] },
  7: { entries: ["1@1", "2@1", "3@2", "4@2"], commit: 3n, markers: [] },
  9: { entries: ["21@2"], commit: 20n, markers: [{ index: 20n, term: 2n, received: true }] },
};

Deno.test("wal group: interleaved groups 1, 7 and 9 replay one group at a time", async () => {
  await withDir(async (dir) => {
    await interleaved(dir);
    for (const g of [1n, 7n, 9n] as const) {
      const { wal, contents, groups, repaired } = await Wal.open(dir, { group: g, logger: quiet });
      const w = want[Number(g) as 1 | 7 | 9];
      assertEquals(summary(contents.entries), w.entries, `group ${g}`);
      assertEquals(contents.hardState.commit, w.commit);
      assertEquals(contents.markers, w.markers);
      assertEquals(groups, [1n, 7n, 9n]);
      assertEquals(repaired, undefined);
      assertEquals(wal.group, g);
      await wal.close();
    }
    const { wal, contents, groups } = await Wal.open(dir, { group: 8n, logger: quiet });
    assertEquals([contents.entries, contents.markers, contents.hardState.term], [[], [], 0n]);
    assertEquals(groups, [1n, 7n, 9n]); // 8 wrote nothing yet
    await wal.close();
  });
});

Deno.test("wal group: a torn last record (group 9's) is cut at every byte, whichever group opens", async () => {
  await withDir(async (dir) => {
    const { path, file, lastAt } = await interleaved(dir);
    for (let cut = lastAt + 1; cut < file.length; cut++) {
      for (const g of [1n, 7n, 9n]) {
        await Deno.writeFile(path, file.subarray(0, cut));
        const { wal, contents, repaired } = await Wal.open(dir, { group: g, logger: quiet });
        const w = g === 9n ? [] : want[Number(g) as 1 | 7].entries;
        assertEquals(summary(contents.entries), w, `cut ${cut}, group ${g}`);
        assertEquals([repaired?.offset, repaired?.droppedBytes], [lastAt, cut - lastAt]);
        assertEquals((await Deno.stat(path)).size, lastAt);
        await wal.close();
      }
    }
  });
});

Deno.test("wal group: a flipped byte is a cut tail in the last record and refused before it", async () => {
  await withDir(async (dir) => {
    const { path, file, lastAt } = await interleaved(dir);
    for (let at = lastAt; at < file.length; at++) {
      const damaged = file.slice();
      damaged[at] ^= 0x5a;
      await Deno.writeFile(path, damaged);
      const { wal, contents, repaired } = await Wal.open(dir, { group: 7n, logger: quiet });
      assertEquals(summary(contents.entries), want[7].entries, `byte ${at}`);
      assertEquals(repaired?.offset, lastAt);
      await wal.close();
    }
    for (let at = 0; at < lastAt; at += 7) { // the second segment's records before the last
      const damaged = file.slice();
      damaged[at] ^= 0x01;
      await Deno.writeFile(path, damaged);
      for (const g of [1n, 7n, 9n]) {
        await assertRejects(() => Wal.open(dir, { group: g, logger: quiet }), WalCorruptError);
        assertEquals(await Deno.readFile(path), damaged); // nothing was cut
      }
    }
  });
});

Deno.test("wal group: a WAL of groups keeps the others' records; format 1 refuses grouped ones", async () => {
  await withDir(async (dir) => {
    await interleaved(dir);
    const { wal } = await Wal.open(dir, { group: 1n, logger: quiet, segmentBytes: 300 });
    for (let i = 5n; i <= 20n; i++) await wal.save(hs(1n, i), [entry(i)], true);
    await wal.saveSnapshotMarker({ index: 20n, term: 1n });
    assert(wal.segments.length > 3);
    assertEquals(await wal.releaseTo(20n), 0); // the other groups' records stay
    await wal.close();
    for (const g of [7n, 9n] as const) {
      const again = await Wal.open(dir, { group: g, logger: quiet });
      assertEquals(summary(again.contents.entries), want[Number(g) as 7 | 9].entries);
      await again.wal.close();
    }
  });
  await withDir(async (dir) => {
    const meta = encodeRecord(RecordType.Metadata, encodeMetadata(0n, 1n, 1));
    const rec = encodeGroupRecord(RecordType.Entry, 7n, toBinary(EntrySchema, entry(1n)));
    await Deno.writeFile(`${dir}/${segmentFileName(0n, 1n)}`, bytes(meta, rec));
    await assertRejects(() => Wal.open(dir, { group: 7n }), WalFormatError, "format 1");
  });
});

// The plain record types of a segment's bytes, and its format version.
async function recordTypes(path: string): Promise<{ version: number; types: number[] }> {
  const [meta, ...rest] = scanSegment(await Deno.readFile(path)).records;
  return { version: meta.data[0], types: rest.map((r) => r.type) };
}

Deno.test("wal group: a WAL of group 7 writes format 2 segments of grouped records only", async () => {
  await withDir(async (dir) => {
    const { wal } = await Wal.open(dir, { group: 7n, logger: quiet, segmentBytes: 300 });
    for (let i = 1n; i <= 40n; i++) await wal.save(hs(1n, i), [entry(i)], i % 4n === 0n);
    await wal.saveSnapshotMarker({ index: 30n, term: 1n });
    assert(await wal.releaseTo(30n) > 0);
    await wal.save(hs(1n, 41n), [entry(41n)], true);
    const files = [...wal.segments];
    await wal.close();
    for (const f of files) {
      const { version, types } = await recordTypes(`${dir}/${f}`);
      assertEquals(version, 2, f);
      assert(types.every((t) => t >= RecordType.GroupEntry), `${f}: ${types}`);
    }
    const again = await Wal.open(dir, { group: 7n, logger: quiet });
    assertEquals(again.contents.entries.at(-1)?.index, 41n);
    assertEquals(again.contents.markers.at(-1), { index: 30n, term: 1n });
    assertEquals(again.contents.hardState.commit, 41n);
    assertEquals(again.groups, [7n]);
    await again.wal.close();
    const asGroup1 = await Wal.open(dir, { logger: quiet });
    assertEquals([asGroup1.contents.entries, asGroup1.groups], [[], [7n]]);
    await asGroup1.wal.close();
  });
});

Deno.test("wal group: group 7 in a WAL of group 1 (format 1) starts a format 2 segment first", async () => {
  await withDir(async (dir) => {
    const { wal } = await Wal.open(dir, { logger: quiet });
    await wal.save(hs(1n, 2n), [entry(1n), entry(2n)], true);
    const legacy = wal.segments[0];
    await wal.close();
    const before = await Deno.readFile(`${dir}/${legacy}`);
    const seven = await Wal.open(dir, { group: 7n, logger: quiet });
    assertEquals(seven.wal.segments.length, 2);
    await seven.wal.save(hs(3n, 1n), [entry(1n, 3n)], true);
    await seven.wal.close();
    assertEquals((await recordTypes(`${dir}/${legacy}`)).version, 1);
    const after = await Deno.readFile(`${dir}/${legacy}`); // finished: its zero tail cut
    assertEquals(after, before.subarray(0, after.length));
    assert(before.subarray(after.length).every((b) => b === 0));
    assertEquals((await recordTypes(`${dir}/${seven.wal.segments[1]}`)).version, 2);
    const one = await Wal.open(dir, { logger: quiet });
    assertEquals(summary(one.contents.entries), ["1@1", "2@1"]);
    assertEquals(one.groups, [1n, 7n]);
    await one.wal.close();
    const again = await Wal.open(dir, { group: 7n, logger: quiet });
    assertEquals(summary(again.contents.entries), ["1@3"]);
    await again.wal.close();
  });
});
