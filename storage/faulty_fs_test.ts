// The disk faults of FaultyFs under DiskStorage, and the WAL's recovery from
// them: a crash of a lazy disk loses exactly what was not fsynced (and an
// eager one nothing), a failed fsync takes the storage out of service with
// only what was synced before it on disk, and a torn WAL sync is cut as a
// torn tail on reopening. Seeded rounds crash and tear at many points, with
// tiny segments so that cuts and snapshots happen in between.
import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { create, type Entry, EntrySchema, HardStateSchema, type Logger } from "../raftpb/mod.ts";
import { StorageClosedError } from "./disk_errors.ts";
import { DiskStorage } from "./disk_storage.ts";
import { FaultyFs, FsyncFailedError, SimulatedCrashError } from "./faulty_fs.ts";
import { rng } from "./testdata/rng.ts";
import { withTempDir } from "./testdata/temp_dir.ts";

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

const entries = (from: bigint, to: bigint, bytes = 20): Entry[] => {
  const out = [];
  for (let i = from; i <= to; i++) {
    const data = new Uint8Array(bytes).fill(Number(i % 251n));
    out.push(create(EntrySchema, { index: i, term: 1n, data }));
  }
  return out;
};
const hs = (commit: bigint) => create(HardStateSchema, { term: 1n, commit, vote: 1n });

const withDir = (fn: (dir: string) => Promise<void>) => withTempDir("faulty_fs_test_", fn);

const open = (dir: string, fs?: FaultyFs) =>
  DiskStorage.open(dir, { logger: quiet, segmentBytes: 2048, fs });

/** The log's indexes after reopening with the real file system; checks they follow each other. */
async function recovered(dir: string): Promise<{ last: bigint; repaired: boolean }> {
  const d = await open(dir);
  try {
    const s = d.storage;
    const first = s.firstIndex();
    const last = s.lastIndex();
    const ents = last >= first ? s.entries(first, last + 1n, Infinity) : [];
    ents.forEach((e, k) => {
      assertEquals(e.index, first + BigInt(k));
      assertEquals(e.data[0], Number(e.index % 251n), `entry ${e.index}'s bytes`);
    });
    return { last, repaired: d.repaired !== undefined };
  } finally {
    await d.close();
  }
}

Deno.test("faulty fs: lazy, a crash loses what was not fsynced; eager, it loses nothing", async () => {
  for (const lazy of [true, false]) {
    await withDir(async (dir) => {
      const fs = new FaultyFs({ lazy });
      const d = await open(dir, fs);
      await d.save({ hardState: hs(10n), entries: entries(1n, 10n), mustSync: true });
      await d.save({ hardState: hs(15n), entries: entries(11n, 15n), mustSync: false });
      assertEquals(fs.stats.heldBytes > 0, lazy);
      fs.crash();
      await assertRejects(() => d.save({ entries: entries(16n, 16n), mustSync: true }));
      await d.close(); // after a crash: closes what is left, without a sync
      assertEquals((await recovered(dir)).last, lazy ? 10n : 15n, `lazy ${lazy}`);
      assertEquals(fs.stats.heldBytes, 0);
      assertEquals(fs.stats.droppedBytes > 0, lazy);
    });
  }
});

Deno.test("faulty fs: seeded crashes of a lazy disk keep every synced save", async () => {
  await withDir(async (dir) => {
    let synced = 0n;
    let cuts = 0;
    let lost = 0n;
    for (let seed = 1; seed <= 12; seed++) {
      const rand = rng(seed);
      const fs = new FaultyFs({ lazy: true });
      const d = await open(dir, fs);
      let last = d.storage.lastIndex();
      const segments = async () => (await Array.fromAsync(Deno.readDir(`${dir}/wal`))).length;
      const before = await segments();
      for (let op = 0, n = 5 + rand(40); op < n; op++) {
        const add = BigInt(1 + rand(4));
        const sync = rand(3) > 0;
        await d.save({
          hardState: hs(last + add),
          entries: entries(last + 1n, last + add),
          mustSync: sync,
        });
        last += add;
        if (sync) synced = last;
        if (rand(15) === 0) {
          await d.saveSnapshot(d.storage.createSnapshot(last, undefined, new Uint8Array([1])));
        }
      }
      cuts += Math.max(0, (await segments()) - before);
      fs.crash();
      await assertRejects(() => d.close(), SimulatedCrashError); // its files are closed
      const got = await recovered(dir);
      assert(got.last >= synced, `seed ${seed}: synced ${synced}, recovered ${got.last}`);
      lost += last - got.last;
      synced = got.last;
    }
    assert(cuts > 0 && lost > 0n, `${cuts} cuts, ${lost} entries lost: the rounds test too little`);
  });
});

Deno.test("faulty fs: a failed fsync stops the storage; only what was synced before stays", async () => {
  for (const lazy of [true, false]) {
    await withDir(async (dir) => {
      const fs = new FaultyFs({ lazy });
      const d = await open(dir, fs);
      await d.save({ hardState: hs(5n), entries: entries(1n, 5n), mustSync: true });
      fs.failNextFsync();
      const e = await assertRejects(
        () => d.save({ hardState: hs(8n), entries: entries(6n, 8n), mustSync: true }),
        FsyncFailedError,
      );
      assert(e.message.includes(".wal") && e.message.includes("fsync"), e.message);
      assertEquals(d.storage.lastIndex(), 5n, "raft must not see what was not durable");
      await assertRejects(
        () => d.save({ entries: entries(6n, 6n), mustSync: true }),
        StorageClosedError,
        "a write failed",
      );
      await d.close();
      assertEquals(fs.stats.failedFsyncs, 1);
      // Lazy: the failed fsync dropped its bytes (as Linux may); eager: they sat in the page cache.
      assertEquals((await recovered(dir)).last, lazy ? 5n : 8n, `lazy ${lazy}`);
    });
  }
});

Deno.test("faulty fs: a failed fsync of a snapshot file fails saveSnapshot", async () => {
  await withDir(async (dir) => {
    const fs = new FaultyFs({ lazy: true });
    const d = await open(dir, fs);
    await d.save({ hardState: hs(5n), entries: entries(1n, 5n), mustSync: true });
    fs.failNextFsync();
    const snap = d.storage.createSnapshot(5n, undefined, new Uint8Array([9]));
    await assertRejects(() => d.saveSnapshot(snap), FsyncFailedError, ".snap.tmp");
    await d.close();
    const again = await open(dir);
    assertEquals(again.restoredSnapshot, undefined); // never renamed into place
    assertEquals(again.storage.lastIndex(), 5n);
    await again.close();
  });
});

Deno.test("faulty fs: a torn WAL sync is cut as a torn tail; what was synced stays", async () => {
  for (const lazy of [true, false]) {
    await withDir(async (dir) => {
      const fs = new FaultyFs({ lazy });
      const d = await open(dir, fs);
      await d.save({ hardState: hs(5n), entries: entries(1n, 5n), mustSync: true });
      fs.tearNextWalSync();
      await d.save({ hardState: hs(6n), entries: entries(6n, 6n), mustSync: false }); // held
      await assertRejects(
        () => d.save({ entries: entries(7n, 7n, 400), mustSync: true }),
        SimulatedCrashError,
        "torn",
      );
      await d.close();
      assertEquals(fs.stats.tears, 1);
      // The held write before the torn one went out whole; entry 7 was cut in half.
      assertEquals(await recovered(dir), { last: 6n, repaired: true }, `lazy ${lazy}`);
    });
  }
});

Deno.test("faulty fs: tears at every few bytes of a batch all reopen to a prefix of it", async () => {
  await withDir(async (dir) => {
    let synced = 0n;
    for (let keep = 0; keep < 300; keep += 13) {
      const fs = new FaultyFs({ lazy: keep % 2 === 0 });
      const d = await open(dir, fs);
      const last = d.storage.lastIndex();
      await d.save({
        hardState: hs(last + 2n),
        entries: entries(last + 1n, last + 2n),
        mustSync: true,
      });
      synced = last + 2n;
      fs.tearNextWalSync(keep);
      const batch = entries(synced + 1n, synced + 3n, 60); // about 250 bytes in three records
      await assertRejects(() =>
        d.save({ hardState: hs(synced + 3n), entries: batch, mustSync: true })
      );
      await d.close();
      const got = await recovered(dir);
      assert(got.last >= synced && got.last <= synced + 3n, `keep ${keep}: ${got.last}`);
      if (keep === 0) assertEquals(got.last, synced);
    }
  });
});

Deno.test("faulty fs: held bytes follow truncation, are bounded, and a close drops them", async () => {
  await withDir(async (dir) => {
    const fs = new FaultyFs({ lazy: true, maxHeldBytes: 100 });
    const f = await fs.open(`${dir}/x`, { read: true, write: true, create: true });
    f.writeSync(new Uint8Array(60).fill(1));
    assertEquals([fs.stats.heldBytes, (await f.stat()).size], [60, 60]);
    await f.truncate(40);
    assertEquals([fs.stats.heldBytes, (await f.stat()).size], [40, 40]);
    await f.syncData();
    assertEquals((await Deno.readFile(`${dir}/x`)).length, 40);
    f.writeSync(new Uint8Array(70).fill(2));
    f.writeSync(new Uint8Array(70).fill(3)); // beyond 100 held: written back, not synced
    assertEquals(fs.stats.heldBytes, 0);
    assertEquals((await Deno.readFile(`${dir}/x`)).length, 200); // from position 60 on
    await f.seek(0, Deno.SeekMode.Start);
    f.writeSync(new Uint8Array([9]));
    f.close();
    assertEquals([fs.stats.droppedBytes, (await Deno.readFile(`${dir}/x`))[0]], [1, 1]);
    await assertRejects(() => fs.open(`${dir}/y`, { append: true, create: true }), RangeError);
    assertEquals(fs.stats.syncs, 1);
  });
});

Deno.test("faulty fs: a slow disk holds each fsync back; a lazy crash meanwhile loses its bytes", async () => {
  await withDir(async (dir) => {
    const fs = new FaultyFs({ lazy: true });
    assertThrows(() => fs.slowFsync(-1), RangeError);
    const d = await open(dir, fs);
    await d.save({ hardState: hs(3n), entries: entries(1n, 3n), mustSync: true });
    fs.slowFsync(60);
    const t0 = performance.now();
    await d.save({ hardState: hs(4n), entries: entries(4n, 4n), mustSync: true });
    assert(performance.now() - t0 >= 55, "the fsync waited for the slow disk");
    const pending = d.save({ hardState: hs(5n), entries: entries(5n, 5n), mustSync: true });
    await new Promise((r) => setTimeout(r, 10));
    fs.crash(); // within the slow fsync: entry 5 was written, not yet synced
    await assertRejects(() => pending, SimulatedCrashError);
    await d.close().catch(() => {});
    assertEquals((await recovered(dir)).last, 4n);
  });
});
