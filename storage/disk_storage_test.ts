import { assert, assertEquals, assertRejects } from "@std/assert";
import {
  ConfStateSchema,
  create,
  type Entry,
  EntrySchema,
  HardStateSchema,
  type Logger,
  SnapshotSchema,
} from "../raftpb/mod.ts";
import { SnapshotMissingError } from "./disk_errors.ts";
import { DiskStorage } from "./disk_storage.ts";
import type { MemoryStorage } from "../raft/memory_storage.ts";
import { withTempDir } from "./testdata/temp_dir.ts";

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

const entries = (from: bigint, to: bigint, term = 1n): Entry[] => {
  const out = [];
  for (let i = from; i <= to; i++) {
    out.push(create(EntrySchema, { index: i, term, data: new TextEncoder().encode(`e${i}`) }));
  }
  return out;
};
const hs = (term: bigint, commit: bigint, vote = 1n) =>
  create(HardStateSchema, { term, commit, vote });

// What raft reads, as comparable values.
function view(s: MemoryStorage) {
  const { hardState, confState } = s.initialState();
  const first = s.firstIndex();
  const last = s.lastIndex();
  const ents = last >= first ? s.entries(first, last + 1n, Infinity) : [];
  return {
    hardState: [hardState.term, hardState.vote, hardState.commit],
    voters: confState.voters,
    first,
    last,
    log: ents.map((e) => `${e.index}@${e.term}:${new TextDecoder().decode(e.data)}`),
    snapshot: [s.snapshot().metadata?.index, s.snapshot().metadata?.term],
  };
}

const withDir = (fn: (dir: string) => Promise<void>) => withTempDir("disk_storage_test_", fn);

async function reopened(dir: string, opts = {}) {
  return await DiskStorage.open(dir, { logger: quiet, ...opts });
}

Deno.test("disk storage: saved Readys come back the same after close and reopen", async () => {
  await withDir(async (dir) => {
    const d = await reopened(dir);
    assertEquals(d.storage.lastIndex(), 0n);
    await d.save({ hardState: hs(1n, 0n), entries: entries(1n, 5n), mustSync: true });
    await d.save({ hardState: hs(2n, 3n, 2n), entries: entries(4n, 6n, 2n), mustSync: true });
    await d.save({ hardState: hs(2n, 6n, 2n), entries: [], mustSync: false });
    const before = view(d.storage);
    assertEquals(before.log.length, 6);
    assertEquals(before.log[3], "4@2:e4"); // the conflicting suffix was replaced
    await d.close();
    const again = await reopened(dir);
    assertEquals(view(again.storage), before);
    assertEquals(again.restoredSnapshot, undefined);
    await again.close();
  });
});

Deno.test("disk storage: a snapshot taken by the application compacts, and restarts from it", async () => {
  await withDir(async (dir) => {
    const d = await reopened(dir);
    await d.save({ hardState: hs(1n, 8n), entries: entries(1n, 10n), mustSync: true });
    const cs = create(ConfStateSchema, { voters: [1n, 2n, 3n] });
    const snap = d.storage.createSnapshot(8n, cs, new Uint8Array([42]));
    await d.saveSnapshot(snap, 6n);
    assertEquals(d.storage.firstIndex(), 7n); // entries 7 and 8 kept for slow followers
    await d.save({ hardState: hs(1n, 11n), entries: entries(11n, 11n), mustSync: true });
    await d.close();
    const again = await reopened(dir);
    const v = view(again.storage);
    assertEquals(v.snapshot, [8n, 1n]);
    assertEquals(v.voters, [1n, 2n, 3n]);
    assertEquals(v.first, 9n);
    assertEquals(v.log, ["9@1:e9", "10@1:e10", "11@1:e11"]);
    assertEquals(again.restoredSnapshot?.data, new Uint8Array([42]));
    await again.close();
  });
});

Deno.test("disk storage: a snapshot received in a Ready replaces the log, durably", async () => {
  await withDir(async (dir) => {
    const d = await reopened(dir);
    await d.save({ hardState: hs(1n, 2n), entries: entries(1n, 3n), mustSync: true });
    const snapshot = create(SnapshotSchema, {
      data: new Uint8Array([1, 2, 3]),
      metadata: { index: 100n, term: 4n, confState: { voters: [1n, 2n] } },
    });
    await d.save({
      snapshot,
      hardState: hs(4n, 100n),
      entries: entries(101n, 102n, 4n),
      mustSync: false,
    });
    const before = view(d.storage);
    assertEquals(before.first, 101n);
    await d.close();
    const again = await reopened(dir);
    assertEquals(view(again.storage), before);
    assertEquals(again.restoredSnapshot?.metadata?.index, 100n);
    await again.close();
  });
});

Deno.test("disk storage: a received snapshot drops the conflicting entries written before it", async () => {
  await withDir(async (dir) => {
    const d = await reopened(dir);
    await d.save({ hardState: hs(1n, 90n), entries: entries(1n, 120n), mustSync: true });
    // The leader's log differs from index 95 on: it sends a snapshot at 100, term 2.
    const snapshot = create(SnapshotSchema, {
      data: new Uint8Array([9]),
      metadata: { index: 100n, term: 2n, confState: { voters: [1n, 2n, 3n] } },
    });
    await d.save({ snapshot, hardState: hs(2n, 100n), entries: [], mustSync: false });
    assertEquals(d.storage.lastIndex(), 100n);
    await d.close();
    const again = await reopened(dir);
    assertEquals(again.storage.lastIndex(), 100n); // not the stale 101..120 of term 1
    assertEquals(again.storage.firstIndex(), 101n);
    await again.save({ hardState: hs(2n, 101n), entries: entries(101n, 101n, 2n), mustSync: true });
    await again.close();
    const third = await reopened(dir, { segmentBytes: 1 });
    assertEquals(view(third.storage).log, ["101@2:e101"]);
    // A cut copies the marker into the new segment; the copy must not drop entry 101.
    await third.save({ hardState: hs(2n, 102n), entries: entries(102n, 102n, 2n), mustSync: true });
    await third.close();
    const fourth = await reopened(dir);
    assertEquals(view(fourth.storage).log, ["101@2:e101", "102@2:e102"]);
    await fourth.close();
  });
});

async function snapshotsAt(d: DiskStorage, at: bigint[]) {
  for (const i of at) {
    await d.save({
      hardState: hs(1n, i),
      entries: entries(d.storage.lastIndex() + 1n, i),
      mustSync: true,
    });
    await d.saveSnapshot(d.storage.createSnapshot(i, undefined, new TextEncoder().encode(`s${i}`)));
  }
}

Deno.test("disk storage: a damaged newest snapshot falls back to an older one the WAL covers", async () => {
  await withDir(async (dir) => {
    const d = await reopened(dir);
    await snapshotsAt(d, [5n, 10n]);
    await d.save({ hardState: hs(1n, 12n), entries: entries(11n, 12n), mustSync: true });
    await d.close();
    const newest = `${dir}/snap/0000000000000001-000000000000000a.snap`;
    const bytes = await Deno.readFile(newest);
    bytes[bytes.length - 1] ^= 0xff;
    await Deno.writeFile(newest, bytes);
    const again = await reopened(dir);
    assertEquals(again.restoredSnapshot?.metadata?.index, 5n);
    assertEquals(view(again.storage).log.at(-1), "12@1:e12");
    assertEquals(again.storage.firstIndex(), 6n);
    await again.close();
  });
});

Deno.test("disk storage: with the WAL released, a damaged snapshot is a clear error", async () => {
  await withDir(async (dir) => {
    const d = await reopened(dir, { segmentBytes: 256 });
    await snapshotsAt(d, [20n, 40n]);
    await d.close();
    for await (const f of Deno.readDir(`${dir}/snap`)) {
      const p = `${dir}/snap/${f.name}`;
      const bytes = await Deno.readFile(p);
      await Deno.writeFile(p, bytes.subarray(0, bytes.length - 2));
    }
    const err = await assertRejects(() => reopened(dir), SnapshotMissingError);
    assert(err.message.includes("index 40"), err.message);
  });
});

Deno.test("disk storage: a torn WAL tail is cut on open and reported", async () => {
  await withDir(async (dir) => {
    const d = await reopened(dir);
    await d.save({ hardState: hs(1n, 2n), entries: entries(1n, 3n), mustSync: true });
    await d.close();
    const seg = [];
    for await (const f of Deno.readDir(`${dir}/wal`)) seg.push(`${dir}/wal/${f.name}`);
    const bytes = await Deno.readFile(seg[0]);
    let end = bytes.length;
    while (bytes[end - 1] === 0) end--; // the preallocated zero tail (the record ends nonzero)
    await Deno.writeFile(seg[0], bytes.subarray(0, end - 4)); // into the hardState record
    const again = await reopened(dir);
    assert(again.repaired !== undefined);
    assertEquals(view(again.storage).log.length, 3);
    assertEquals(again.storage.initialState().hardState.commit, 0n); // its hardState was torn
    await again.close();
  });
});
