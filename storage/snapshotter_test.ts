import { assert, assertEquals, assertRejects } from "@std/assert";
import { create, type Logger, SnapshotSchema } from "../raftpb/mod.ts";
import { snapFileName, Snapshotter } from "./snapshotter.ts";
import { withTempDir } from "./testdata/temp_dir.ts";

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function snap(index: bigint, term: bigint, size = 100) {
  const data = Uint8Array.from({ length: size }, (_, i) => (i + Number(index)) & 0xff);
  return create(SnapshotSchema, {
    data,
    metadata: { index, term, confState: { voters: [1n, 2n, 3n] } },
  });
}

const withDir = (fn: (dir: string) => Promise<void>) => withTempDir("snap_test_", fn);

Deno.test("snapshotter: saves term-index named files and loads the newest intact", async () => {
  await withDir(async (dir) => {
    const s = await Snapshotter.open(dir, quiet);
    assertEquals(await s.loadNewest(), undefined);
    await s.save(snap(10n, 1n));
    const path = await s.save(snap(20n, 2n, 70_000));
    assert(path.endsWith("/0000000000000002-0000000000000014.snap"));
    assertEquals(snapFileName(2n, 20n), "0000000000000002-0000000000000014.snap");
    const newest = await s.loadNewest();
    assertEquals(newest?.metadata?.index, 20n);
    assertEquals(newest?.metadata?.confState?.voters, [1n, 2n, 3n]);
    assertEquals(newest?.data, snap(20n, 2n, 70_000).data);
    assertEquals((await s.loadNewest((f) => f.index <= 15n))?.metadata?.index, 10n);
    await assertRejects(() => s.save(snap(0n, 0n)), RangeError);
  });
});

Deno.test("snapshotter: a damaged newest file is set aside and the older one loads", async () => {
  await withDir(async (dir) => {
    const s = await Snapshotter.open(dir, quiet);
    await s.save(snap(10n, 1n));
    const newest = await s.save(snap(20n, 1n));
    const good = await Deno.readFile(newest);
    const damages = [
      good.subarray(0, good.length - 1), // truncated
      good.subarray(0, 5), // shorter than the header
      Uint8Array.from(good, (b, i) => (i === good.length - 10 ? b ^ 1 : b)), // flipped byte
      Uint8Array.from(good, (b, i) => (i === 0 ? 0 : b)), // bad magic
    ];
    for (const bad of damages) {
      await Deno.writeFile(newest, bad);
      const warnings: string[] = [];
      const loud = await Snapshotter.open(dir, { ...quiet, warn: (m) => warnings.push(m) });
      assertEquals((await loud.loadNewest())?.metadata?.index, 10n);
      assertEquals(warnings.length, 1);
      await Deno.stat(`${newest}.broken`);
      await Deno.remove(`${newest}.broken`);
    }
  });
});

Deno.test("snapshotter: a renamed file (name disagrees with contents) is not trusted", async () => {
  await withDir(async (dir) => {
    const s = await Snapshotter.open(dir, quiet);
    const p = await s.save(snap(10n, 1n));
    await Deno.rename(p, `${dir}/${snapFileName(1n, 30n)}`);
    assertEquals(await s.loadNewest(), undefined);
  });
});

Deno.test("snapshotter: leftovers of an interrupted save are removed; purge keeps the newest", async () => {
  await withDir(async (dir) => {
    await Deno.writeFile(`${dir}/${snapFileName(1n, 5n)}.tmp`, new Uint8Array(10));
    const s = await Snapshotter.open(dir, quiet);
    for (const i of [1n, 2n, 3n, 4n]) await s.save(snap(i * 10n, 1n));
    assertEquals(await s.purge(2), 2);
    assertEquals((await s.list()).map((f) => f.index), [40n, 30n]);
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assertEquals(names.length, 2);
  });
});

Deno.test("snapshotter: a large snapshot is checksummed in pieces and loads intact", async () => {
  await withDir(async (dir) => {
    const s = await Snapshotter.open(dir, quiet);
    await s.save(snap(30n, 2n, 9 << 20)); // three checksum pieces, one result
    const back = await s.loadNewest();
    assertEquals(back?.data.length, 9 << 20);
    assertEquals(back?.data[(9 << 20) - 1], snap(30n, 2n, 9 << 20).data[(9 << 20) - 1]);
  });
});
