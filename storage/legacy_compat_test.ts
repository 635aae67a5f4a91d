// Compatibility with the data directories written before raft groups: a
// directory that commit 501e411 wrote (testdata/legacy_dir.ts) reopens and
// replays as that code replayed it, and the same writes made today leave the
// same bytes, file for file.
import { assert, assertEquals } from "@std/assert";
import { create, EntrySchema, HardStateSchema, type Logger } from "../raftpb/mod.ts";
import { DiskStorage } from "./disk_storage.ts";
import { RecordType, scanSegment } from "./wal_record.ts";
import { LEGACY_FILES, LEGACY_REPLAY } from "./testdata/legacy_dir.ts";
import { readTree, replaySummary, writeScenario } from "./testdata/legacy_scenario.ts";
import { withTempDir } from "./testdata/temp_dir.ts";

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));
const unb64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

const withDir = (fn: (dir: string) => Promise<void>) => withTempDir("legacy_compat_test_", fn);

async function unpackLegacy(dir: string): Promise<void> {
  for (const [rel, bytes] of Object.entries(LEGACY_FILES)) {
    await Deno.mkdir(`${dir}/${rel.slice(0, rel.lastIndexOf("/"))}`, { recursive: true });
    await Deno.writeFile(`${dir}/${rel}`, unb64(bytes));
  }
}

// Group 1, whether implied or named, is the format from before groups.
const groupOne = [{}, { group: 1n }];

Deno.test("legacy dir: today's code writes the same files, byte for byte", async () => {
  for (const opts of groupOne) {
    await withDir(async (dir) => {
      await writeScenario(dir, opts);
      const files = Object.fromEntries([...await readTree(dir)].map(([k, v]) => [k, b64(v)]));
      assertEquals(files, LEGACY_FILES);
    });
  }
});

Deno.test("legacy dir: a directory the old code wrote reopens and replays as it did", async () => {
  for (const opts of groupOne) {
    await withDir(async (dir) => {
      await unpackLegacy(dir);
      const disk = await DiskStorage.open(dir, { logger: quiet, ...opts });
      assertEquals(replaySummary(disk), LEGACY_REPLAY);
      assertEquals([disk.repaired, disk.group], [undefined, 1n]);
      await disk.close();
    });
  }
});

Deno.test("legacy dir: reopened and written to, it stays in the old format", async () => {
  await withDir(async (dir) => {
    await unpackLegacy(dir);
    const disk = await DiskStorage.open(dir, { logger: quiet, segmentBytes: 600 });
    const e = create(EntrySchema, { index: 36n, term: 3n, data: new Uint8Array([36]) });
    await disk.save({
      hardState: create(HardStateSchema, { term: 3n, commit: 35n }),
      entries: [e],
      mustSync: true,
    });
    await disk.close();
    for (const [rel, bytes] of await readTree(dir)) {
      if (!rel.endsWith(".wal")) continue;
      const [meta, ...rest] = scanSegment(bytes).records;
      assertEquals(meta.data[0], 1, rel); // format 1
      assert(rest.every((r) => r.type <= RecordType.Snapshot), rel); // plain records only
    }
    const again = await DiskStorage.open(dir, { logger: quiet });
    assertEquals(again.storage.lastIndex(), 36n);
    await again.close();
  });
});
