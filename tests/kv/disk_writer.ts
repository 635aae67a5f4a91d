/**
 * Child process of disk_crash_test.ts: appends one entry per synced save to
 * a DiskStorage, snapshotting and compacting every 50 entries, and prints
 * each index once its save has resolved (that is: acknowledged as durable).
 * It runs until killed. With `--lazy`, the storage runs on a lazy FaultyFs
 * (written bytes held in memory until their fsync, so a SIGKILL loses what
 * was not fsynced). With `--tear-after N`, once N entries are acknowledged
 * the next WAL sync is torn (half its batch written) and the process kills
 * itself with SIGKILL.
 *
 * Usage: deno run -A tests/kv/disk_writer.ts DIR [--lazy] [--tear-after N]
 *
 * @module
 */

import { create, EntrySchema, HardStateSchema } from "../../mod.ts";
import { DiskStorage, FaultyFs } from "../../storage/mod.ts";

async function writeUntilKilled(dir: string, lazy: boolean, tearAfter: number): Promise<void> {
  const fs = lazy || tearAfter >= 0 // else the real file system, as the KV runs by default
    ? new FaultyFs({ lazy, crash: () => Deno.kill(Deno.pid, "SIGKILL") })
    : undefined;
  const disk = await DiskStorage.open(dir, { segmentBytes: 4096, keepSnapshots: 2, fs });
  const out = Deno.stdout.writable.getWriter();
  const data = new Uint8Array(100).fill(0x61);
  const first = disk.storage.lastIndex() + 1n;
  const stop = first + 5000n; // bounded, should the kill never come
  for (let i = first; i < stop; i++) {
    if (i - first === BigInt(tearAfter)) fs?.tearNextWalSync();
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
  const [dir, ...flags] = Deno.args;
  const tear = flags.indexOf("--tear-after");
  const tearAfter = tear < 0 ? -1 : Number(flags[tear + 1]);
  if (dir === undefined || (tear >= 0 && !Number.isSafeInteger(tearAfter))) {
    console.error("usage: deno run -A tests/kv/disk_writer.ts DIR [--lazy] [--tear-after N]");
    Deno.exit(2);
  }
  await writeUntilKilled(dir, flags.includes("--lazy"), tearAfter);
}
