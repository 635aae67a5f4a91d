import { assertEquals } from "@std/assert";
import { create, EntrySchema, HardStateSchema } from "../raftpb/mod.ts";
import { DiskStorage } from "./disk_storage.ts";

Deno.test("onSync: before and after each fdatasync, with the last index written; none unsynced", async () => {
  const dir = await Deno.makeTempDir();
  const seen: string[] = [];
  const disk = await DiskStorage.open(dir, { onSync: (phase, i) => seen.push(`${phase} ${i}`) });
  try {
    const entry = (index: bigint) => create(EntrySchema, { index, term: 1n });
    const hardState = create(HardStateSchema, { term: 1n, commit: 0n });
    await disk.save({ hardState, entries: [entry(1n), entry(2n)], mustSync: true });
    await disk.save({ entries: [entry(3n)], mustSync: false });
    await disk.save({ entries: [entry(4n)], mustSync: true });
    assertEquals(seen, ["start 2", "end 2", "start 4", "end 4"]);
  } finally {
    await disk.close();
    await Deno.remove(dir, { recursive: true });
  }
});
