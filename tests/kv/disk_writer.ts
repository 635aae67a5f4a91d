/**
 * Child process of disk_crash_test.ts: appends one entry per synced save to
 * a DiskStorage, snapshotting and compacting every 50 entries, and prints
 * each index once its save has resolved (that is: acknowledged as durable).
 * It runs until killed.
 *
 * Usage: deno run -A tests/kv/disk_writer.ts DIR
 *
 * @module
 */

import { create, EntrySchema, HardStateSchema } from "../../mod.ts";
import { DiskStorage } from "../../storage/disk_storage.ts";

async function writeUntilKilled(dir: string): Promise<void> {
  const disk = await DiskStorage.open(dir, { segmentBytes: 4096, keepSnapshots: 2 });
  const out = Deno.stdout.writable.getWriter();
  const data = new Uint8Array(100).fill(0x61);
  const stop = disk.storage.lastIndex() + 5000n; // bounded, should the kill never come
  for (let i = disk.storage.lastIndex() + 1n; i < stop; i++) {
    const entry = create(EntrySchema, { index: i, term: 1n, data });
    await disk.save({
      hardState: create(HardStateSchema, { term: 1n, commit: i }),
      entries: [entry],
      mustSync: true,
    });
    if (i % 50n === 0n) {
      const snap = disk.storage.createSnapshot(
        i,
        undefined,
        new TextEncoder().encode(`state at ${i}`),
      );
      await disk.saveSnapshot(snap, i - 10n);
    }
    await out.write(new TextEncoder().encode(`${i}\n`));
  }
  await disk.close();
}

if (import.meta.main) {
  if (Deno.args.length !== 1) {
    console.error("usage: deno run -A tests/kv/disk_writer.ts DIR");
    Deno.exit(2);
  }
  await writeUntilKilled(Deno.args[0]);
}
