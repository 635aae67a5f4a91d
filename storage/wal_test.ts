import { assert, assertEquals, assertRejects } from "@std/assert";
import { create, type Entry, EntrySchema, HardStateSchema, type Logger } from "../raftpb/mod.ts";
import { StorageClosedError, WalCorruptError, WalFormatError } from "./disk_errors.ts";
import { Wal } from "./wal.ts";
import { withTempDir } from "./testdata/temp_dir.ts";

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function collecting(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  return { logger: { ...quiet, warn: (m) => warnings.push(m) }, warnings };
}

function entry(index: bigint, term = 1n, text = `v${index}`): Entry {
  return create(EntrySchema, { index, term, data: new TextEncoder().encode(text) });
}

const hs = (term: bigint, commit: bigint, vote = 0n) =>
  create(HardStateSchema, { term, commit, vote });

const summary = (es: Entry[]) => es.map((e) => `${e.index}@${e.term}`);

const withDir = (fn: (dir: string) => Promise<void>) => withTempDir("wal_test_", fn);

async function onlySegment(dir: string): Promise<string> {
  const names = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  assertEquals(names.length, 1);
  return `${dir}/${names[0]}`;
}

Deno.test("wal: a new WAL is empty; saved state survives close and reopen", async () => {
  await withDir(async (dir) => {
    const first = await Wal.open(dir, { logger: quiet });
    assertEquals(first.contents.entries, []);
    assertEquals(first.contents.hardState.term, 0n);
    await first.wal.save(hs(1n, 0n, 1n), [entry(1n), entry(2n)], true);
    await first.wal.save(hs(2n, 2n, 3n), [entry(3n, 2n)], false);
    await first.wal.close();
    const again = await Wal.open(dir, { logger: quiet });
    assertEquals(summary(again.contents.entries), ["1@1", "2@1", "3@2"]);
    assertEquals(new TextDecoder().decode(again.contents.entries[1].data), "v2");
    const h = again.contents.hardState;
    assertEquals([h.term, h.commit, h.vote], [2n, 2n, 3n]);
    assertEquals(again.repaired, undefined);
    assertEquals(again.wal.lastIndex, 3n);
    await again.wal.close();
  });
});

Deno.test("wal: a later entry replaces the conflicting suffix from its index on", async () => {
  await withDir(async (dir) => {
    const { wal } = await Wal.open(dir, { logger: quiet });
    await wal.save(undefined, [1n, 2n, 3n, 4n, 5n].map((i) => entry(i)), false);
    await wal.save(undefined, [entry(3n, 2n), entry(4n, 2n)], true);
    await wal.close();
    const again = await Wal.open(dir, { logger: quiet });
    assertEquals(summary(again.contents.entries), ["1@1", "2@1", "3@2", "4@2"]);
    assertEquals(again.wal.lastIndex, 4n);
    await again.wal.close();
  });
});

Deno.test("wal: a gap is accepted only after a snapshot marker that covers it", async () => {
  await withDir(async (dir) => {
    const { wal } = await Wal.open(dir, { logger: quiet });
    await wal.save(undefined, [entry(1n), entry(2n)], false);
    await wal.saveSnapshotMarker({ index: 10n, term: 3n });
    await wal.save(hs(3n, 10n), [entry(11n, 3n)], true);
    await wal.close();
    const again = await Wal.open(dir, { logger: quiet });
    assertEquals(summary(again.contents.entries), ["11@3"]);
    assertEquals(again.contents.markers, [{ index: 10n, term: 3n }]);
    await again.wal.save(undefined, [entry(20n, 3n)], true); // no snapshot covers 12..19
    await again.wal.close();
    await assertRejects(() => Wal.open(dir, { logger: quiet }), WalFormatError, "entry 20");
  });
});

Deno.test("wal: saves run in call order without awaiting each; closed WAL refuses", async () => {
  await withDir(async (dir) => {
    const { wal } = await Wal.open(dir, { logger: quiet });
    const pending = [];
    for (let i = 1n; i <= 50n; i++) pending.push(wal.save(hs(1n, i), [entry(i)], i % 10n === 0n));
    await Promise.all(pending);
    await wal.close();
    await assertRejects(() => wal.save(undefined, [entry(51n)], true), StorageClosedError);
    const again = await Wal.open(dir, { logger: quiet });
    assertEquals(again.contents.entries.length, 50);
    assertEquals(
      again.contents.entries.map((e) => e.index),
      [...Array(50)].map((_, i) => BigInt(i + 1)),
    );
    assertEquals(again.contents.hardState.commit, 50n);
    await again.wal.close();
  });
});

// Writes a good batch, then one more entry record; returns the segment's bytes and where
// the last record begins.
async function twoBatches(
  dir: string,
): Promise<{ path: string; bytes: Uint8Array; lastAt: number }> {
  const { wal } = await Wal.open(dir, { logger: quiet });
  await wal.save(hs(1n, 2n), [entry(1n), entry(2n), entry(3n)], true);
  const path = await onlySegment(dir);
  const lastAt = wal.segmentWrittenBytes;
  await wal.save(undefined, [entry(4n, 1n, "the last record")], true);
  const end = wal.segmentWrittenBytes;
  await wal.close();
  const file = await Deno.readFile(path);
  assert(file.length > end, "preallocated");
  assert(file.subarray(end).every((b) => b === 0), "zero tail");
  return { path, bytes: file.slice(0, end), lastAt };
}

// A crash mid-write leaves a prefix of the record: in a file cut there (no preallocation),
// or followed by the zeros of the preallocated tail.
for (const zeroTail of [false, true]) {
  const title = `wal: torn at every byte of the last record${zeroTail ? ", zeros after" : ""}`;
  Deno.test(`${title}, opens at the last good record`, async () => {
    await withDir(async (dir) => {
      const { path, bytes, lastAt } = await twoBatches(dir);
      for (let cut = lastAt; cut <= bytes.length; cut++) {
        const torn = new Uint8Array(zeroTail ? bytes.length + 4096 : cut);
        torn.set(bytes.subarray(0, cut));
        await Deno.writeFile(path, torn);
        const { logger, warnings } = collecting();
        const { wal, contents, repaired } = await Wal.open(dir, {
          logger,
          preallocateBytes: 1 << 16,
        });
        const whole = cut === bytes.length;
        const want = ["1@1", "2@1", "3@1", ...(whole ? ["4@1"] : [])];
        assertEquals(summary(contents.entries), want);
        assertEquals(contents.hardState.commit, 2n);
        assertEquals(repaired === undefined, whole || cut === lastAt, `cut ${cut}`);
        assertEquals(warnings.length, repaired ? 1 : 0);
        if (repaired) assertEquals(repaired.droppedBytes, torn.length - lastAt);
        if (repaired) assertEquals((await Deno.stat(path)).size, lastAt);
        assertEquals(wal.segmentWrittenBytes, whole ? bytes.length : lastAt);
        // The repaired WAL takes new records, which survive the next open.
        if (!whole) await wal.save(undefined, [entry(4n, 2n)], true);
        await wal.close();
        const next = await Wal.open(dir, { logger: quiet, preallocateBytes: 1 << 16 });
        assertEquals(next.contents.entries.at(-1)?.term, whole ? 1n : 2n);
        assertEquals(next.repaired, undefined);
        await next.wal.close();
      }
    });
  });
}

Deno.test("wal: any flipped byte of the last record is a corrupt tail that is cut", async () => {
  await withDir(async (dir) => {
    const { path, bytes, lastAt } = await twoBatches(dir);
    for (let at = lastAt; at < bytes.length; at++) {
      const damaged = bytes.slice();
      damaged[at] ^= 0x5a;
      await Deno.writeFile(path, damaged);
      const { wal, contents, repaired } = await Wal.open(dir, { logger: quiet });
      assertEquals(summary(contents.entries), ["1@1", "2@1", "3@1"], `byte ${at}`);
      assertEquals(repaired?.offset, lastAt);
      await wal.close();
    }
  });
});

Deno.test("wal: garbage after the last record is cut; zeros are the clean end", async () => {
  await withDir(async (dir) => {
    const { path, bytes } = await twoBatches(dir);
    const garbage = Uint8Array.from({ length: 777 }, (_, i) => (i * 31) & 0xff);
    const zeros = new Uint8Array(4096);
    const oneBitInZeros = Uint8Array.from(zeros, (_, i) => (i === 100 ? 1 : 0));
    for (const tail of [garbage, oneBitInZeros, zeros]) {
      await Deno.writeFile(path, new Uint8Array([...bytes, ...tail]));
      const { wal, contents, repaired } = await Wal.open(dir, { logger: quiet });
      assertEquals(contents.entries.length, 4);
      assertEquals(repaired?.droppedBytes, tail === zeros ? undefined : tail.length);
      await wal.save(undefined, [entry(5n)], true);
      await wal.close();
      const again = await Wal.open(dir, { logger: quiet });
      assertEquals(again.contents.entries.length, 5);
      await again.wal.close();
    }
  });
});

Deno.test("wal: a flipped byte in an earlier record, with intact records after it, is refused", async () => {
  await withDir(async (dir) => {
    const { path, bytes, lastAt } = await twoBatches(dir);
    // Every byte before the last record: the segment header and the first batch.
    let refused = 0;
    for (let at = 0; at < lastAt; at++) {
      const damaged = bytes.slice();
      damaged[at] ^= 0x01;
      await Deno.writeFile(path, damaged);
      const err = await assertRejects(() => Wal.open(dir, { logger: quiet }), WalCorruptError);
      assertEquals(await Deno.readFile(path), damaged); // nothing was cut
      assert(err.message.includes("intact data follows"));
      refused++;
    }
    assertEquals(refused, lastAt);
  });
});

// After a power loss, the pages of a batch that was never synced may reach the disk out of
// order: a hole of zeros, then intact records. That is a torn tail, not corruption.
Deno.test("wal: a hole of unwritten sectors in the last batch is a torn tail", async () => {
  await withDir(async (dir) => {
    const { wal } = await Wal.open(dir, { logger: quiet, preallocateBytes: 0 });
    await wal.save(hs(1n, 1n), [entry(1n)], true);
    const batchStart = wal.segmentWrittenBytes;
    const ends: number[] = [];
    for (let i = 2n; i <= 40n; i++) {
      await wal.save(undefined, [entry(i, 1n, "x".repeat(100))], false);
      ends.push(wal.segmentWrittenBytes);
    }
    await wal.close();
    const path = await onlySegment(dir);
    const good = await Deno.readFile(path);
    const holed = (from: number, to: number) => good.slice().fill(0, from, to);
    // A whole sector inside the batch with records after it; zeros up to a sector boundary.
    for (const [from, to] of [[1024, 1536], [batchStart, 512]]) {
      await Deno.writeFile(path, holed(from, to));
      const { wal, contents, repaired } = await Wal.open(dir, { logger: quiet });
      const kept = ends.filter((e) => e <= from).length;
      assertEquals(contents.entries.length, 1 + kept, `hole at ${from}`);
      assert(repaired?.reason.includes("unwritten sectors"), repaired?.reason);
      await wal.close();
    }
    // The same hole in a segment that is not the last one is corruption.
    await Deno.writeFile(path, good);
    const { wal: cutting } = await Wal.open(dir, { logger: quiet, segmentBytes: 1 });
    await cutting.save(undefined, [entry(41n)], true); // full: starts a new segment
    assertEquals(cutting.segments.length, 2);
    await cutting.close();
    await Deno.writeFile(path, holed(1024, 1536));
    await assertRejects(() => Wal.open(dir, { logger: quiet }), WalCorruptError);
  });
});

Deno.test("wal: segments are cut at a size, replayed in order and released after a snapshot", async () => {
  await withDir(async (dir) => {
    const { wal } = await Wal.open(dir, { logger: quiet, segmentBytes: 300 });
    for (let i = 1n; i <= 60n; i++) await wal.save(hs(1n, i), [entry(i)], i % 5n === 0n);
    const cut = wal.segments.length;
    assert(cut >= 5, `only ${cut} segments`);
    await wal.close();
    const again = await Wal.open(dir, { logger: quiet, segmentBytes: 300 });
    assertEquals(again.contents.entries.length, 60);
    await again.wal.saveSnapshotMarker({ index: 40n, term: 1n });
    const released = await again.wal.releaseTo(40n);
    assert(released >= 2, `released ${released}`);
    await again.wal.save(hs(1n, 61n), [entry(61n)], true);
    await again.wal.close();
    const last = await Wal.open(dir, { logger: quiet, segmentBytes: 300 });
    assertEquals(last.wal.segments.length, cut - released);
    const idx = last.contents.entries.map((e) => e.index);
    assert(idx[0] <= 41n, `first kept entry ${idx[0]}`);
    assertEquals(idx.at(-1), 61n);
    assertEquals(last.contents.hardState.commit, 61n);
    assertEquals(last.contents.markers.at(-1), { index: 40n, term: 1n });
    await last.wal.close();
  });
});

Deno.test("wal: damage in an older segment, or a missing one, is refused", async () => {
  await withDir(async (dir) => {
    const { wal } = await Wal.open(dir, { logger: quiet, segmentBytes: 200 });
    for (let i = 1n; i <= 30n; i++) await wal.save(hs(1n, i), [entry(i)], false);
    const files = [...wal.segments];
    await wal.close();
    assert(files.length >= 3);
    const second = `${dir}/${files[1]}`;
    const good = await Deno.readFile(second);
    const torn = good.subarray(0, good.length - 3); // a short tail, but not in the last segment
    await Deno.writeFile(second, torn);
    await assertRejects(() => Wal.open(dir, { logger: quiet }), WalCorruptError);
    await Deno.remove(second);
    await assertRejects(() => Wal.open(dir, { logger: quiet }), WalFormatError, "missing");
  });
});

Deno.test("wal: after a failed write it takes no more writes, and still closes", async () => {
  await withDir(async (dir) => {
    const { wal } = await Wal.open(`${dir}/w`, { logger: quiet, segmentBytes: 200 });
    await wal.save(hs(1n, 1n), [entry(1n)], true);
    await Deno.rename(`${dir}/w`, `${dir}/moved`); // the next cut cannot create its segment
    const big = [2n, 3n, 4n, 5n, 6n].map((i) => entry(i, 1n, "x".repeat(40)));
    await assertRejects(() => wal.save(undefined, big, true), Deno.errors.NotFound);
    const err = await assertRejects(
      () => wal.save(undefined, [entry(7n)], true),
      StorageClosedError,
    );
    assert(err.message.includes("a write failed"), err.message);
    await wal.close();
    await assertRejects(() => wal.close(), StorageClosedError);
    const again = await Wal.open(`${dir}/moved`, { logger: quiet });
    assertEquals(again.contents.entries.length, 6); // the batch before the cut was complete
    await again.wal.close();
  });
});
