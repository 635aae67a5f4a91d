// DiskStorage of a raft group other than 1: hard state, entries, snapshots
// (taken and received) and compaction come back after a reopen, its WAL
// holds grouped records only and its snapshot files their own directory;
// a directory of one group is refused to another without a byte written.
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
import type { MemoryStorage } from "../raft/memory_storage.ts";
import { GroupMismatchError } from "./disk_errors.ts";
import { DiskStorage } from "./disk_storage.ts";
import { snapFileName, snapshotDirOf, Snapshotter } from "./snapshotter.ts";
import { RecordType, scanSegment } from "./wal_record.ts";
import { readTree } from "./testdata/legacy_scenario.ts";
import { withTempDir } from "./testdata/temp_dir.ts";

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const text = (s: string) => new TextEncoder().encode(s);
const entries = (from: bigint, to: bigint, term = 1n): Entry[] => {
  const out = [];
  for (let i = from; i <= to; i++) {
    out.push(create(EntrySchema, { index: i, term, data: text(`e${i}`) }));
  }
  return out;
};
const hs = (term: bigint, commit: bigint) => create(HardStateSchema, { term, commit, vote: 2n });
const cs = create(ConfStateSchema, { voters: [1n, 2n, 3n] });

// What raft reads, as comparable values.
function view(s: MemoryStorage) {
  const { hardState } = s.initialState();
  const first = s.firstIndex();
  const last = s.lastIndex();
  const ents = last >= first ? s.entries(first, last + 1n, Infinity) : [];
  return {
    hardState: [hardState.term, hardState.vote, hardState.commit],
    range: [first, last],
    log: ents.map((e) => `${e.index}@${e.term}:${new TextDecoder().decode(e.data)}`),
    snapshot: [s.snapshot().metadata?.index, s.snapshot().metadata?.term],
  };
}

const withDir = (fn: (dir: string) => Promise<void>) => withTempDir("disk_storage_group_test_", fn);

// Every WAL segment of `dir`: format 2, and no record but grouped ones of group 7.
async function assertOnlyGroup7(dir: string): Promise<number> {
  let segments = 0;
  for await (const e of Deno.readDir(`${dir}/wal`)) {
    const [meta, ...rest] = scanSegment(await Deno.readFile(`${dir}/wal/${e.name}`)).records;
    assertEquals(meta.data[0], 2, e.name);
    for (const r of rest) {
      assert(r.type >= RecordType.GroupEntry, `${e.name}: record type ${r.type}`);
      assertEquals(r.data[0], 7); // the group's varint
    }
    segments++;
  }
  return segments;
}

const open = (dir: string, group?: bigint) =>
  DiskStorage.open(dir, { logger: quiet, segmentBytes: 400, group });

// Writes, snapshots, reopens and receives a snapshot as `group`; returns
// what raft read at each step.
async function run(dir: string, group: bigint): Promise<ReturnType<typeof view>[]> {
  const seen = [];
  const d = await open(dir, group);
  assertEquals(d.group, group);
  for (let i = 1n; i <= 30n; i += 5n) {
    await d.save({ hardState: hs(1n, i + 3n), entries: entries(i, i + 4n), mustSync: i > 20n });
  }
  await d.save({ hardState: hs(2n, 30n), entries: entries(28n, 32n, 2n), mustSync: true });
  await d.saveSnapshot(d.storage.createSnapshot(25n, cs, text("state at 25")), 20n);
  seen.push(view(d.storage));
  await d.close();
  const again = await open(dir, group);
  seen.push(view(again.storage));
  assertEquals(new TextDecoder().decode(again.restoredSnapshot?.data), "state at 25");
  // A snapshot from the leader replaces the log.
  const received = create(SnapshotSchema, {
    data: text("leader's state at 50"),
    metadata: { index: 50n, term: 3n, confState: cs },
  });
  await again.save({ hardState: hs(3n, 50n), entries: [], snapshot: received, mustSync: true });
  await again.save({ hardState: hs(3n, 51n), entries: entries(51n, 52n, 3n), mustSync: true });
  seen.push(view(again.storage));
  await again.close();
  const last = await open(dir, group);
  seen.push(view(last.storage));
  assertEquals(last.restoredSnapshot?.metadata?.index, 50n);
  await last.close();
  return seen;
}

Deno.test("disk storage, group 7: hard state, entries, snapshots and compaction as group 1's", async () => {
  await withDir(async (dir) => {
    const seven = await run(`${dir}/7`, 7n);
    assertEquals(seven, await run(`${dir}/1`, 1n));
    assertEquals(seven.map((v) => v.range), [[21n, 32n], [26n, 32n], [51n, 52n], [51n, 52n]]);
    assertEquals(seven[1].snapshot, [25n, 1n]);
    assertEquals(seven[1].hardState, [2n, 2n, 30n]);
    assertEquals(seven[3].log, ["51@3:e51", "52@3:e52"]);
    const names = [...(await readTree(`${dir}/7/snap`)).keys()];
    const own = "group-0000000000000007";
    assertEquals(names, [`${own}/${snapFileName(1n, 25n)}`, `${own}/${snapFileName(3n, 50n)}`]);
    assert(await assertOnlyGroup7(`${dir}/7`) >= 1);
    const wal = [...(await readTree(`${dir}/7/wal`)).keys()];
    assert(!wal.some((f) => f.startsWith("0000000000000000-")), `not released: ${wal}`);
  });
});

Deno.test("disk storage: a directory of one group is refused to another, nothing written", async () => {
  await withDir(async (dir) => {
    for (const [group, other] of [[undefined, 7n], [9n, 1n], [9n, 7n]] as const) {
      const sub = `${dir}/${group ?? 1n}-${other}`;
      const d = await open(sub, group);
      await d.save({ hardState: hs(1n, 1n), entries: entries(1n, 3n), mustSync: true });
      await d.saveSnapshot(d.storage.createSnapshot(1n, cs, text("one")));
      await d.close();
      const files = await readTree(sub);
      const err = await assertRejects(() => open(sub, other), GroupMismatchError);
      assertEquals([err.group, err.found], [other, [group ?? 1n]]);
      assertEquals(await readTree(sub), files);
      const again = await open(sub, group);
      assertEquals(again.storage.lastIndex(), 3n);
      await again.close();
    }
    await assertRejects(() => open(`${dir}/zero`, 0n), RangeError, "DiskStorageOptions.group");
  });
});

Deno.test("snapshotter: each group lists, loads and purges its own directory only", async () => {
  await withDir(async (dir) => {
    assertEquals(snapshotDirOf(dir, 1n), dir);
    assertEquals(snapshotDirOf(dir, 0xabn), `${dir}/group-00000000000000ab`);
    const one = await Snapshotter.open(dir, quiet);
    const seven = await Snapshotter.open(dir, quiet, 7n);
    assertEquals([one.group, seven.group], [1n, 7n]);
    const snap = (index: bigint, data: string) =>
      create(SnapshotSchema, { data: text(data), metadata: { index, term: 1n, confState: cs } });
    for (const i of [1n, 2n, 3n]) await one.save(snap(i, `one ${i}`));
    for (const i of [5n, 6n, 7n]) await seven.save(snap(i, `seven ${i}`));
    assertEquals((await one.list()).map((f) => f.index), [3n, 2n, 1n]);
    assertEquals((await seven.list()).map((f) => f.index), [7n, 6n, 5n]);
    assertEquals(await one.purge(1), 2);
    assertEquals((await seven.list()).length, 3);
    assertEquals(new TextDecoder().decode((await seven.loadNewest())?.data), "seven 7");
  });
});
