/**
 * The first log of a new cluster, as etcd's `StartNode` writes it: one
 * EntryConfChange (ConfChangeAddNode of member i) per member at term 1,
 * index i, all committed. A member that shares a cluster with Go
 * raftexample must start from exactly this log.
 *
 * @module
 */

import { create, type Entry, HardStateSchema } from "../raftpb/mod.ts";
import { bootstrapEntries } from "../raft/mod.ts";
import type { DiskStorage } from "../storage/mod.ts";

/**
 * The first log of members 1..n, or of the given ids in ascending order (so
 * that every initial member writes the same log): the core's
 * `bootstrapEntries`, etcd StartNode's bytes.
 *
 * @example
 * ```ts
 * import { initialLog } from "@rafthttp/rafthttp/replica";
 * console.log(initialLog([20n, 10n]).map((e) => e.index)); // [ 1n, 2n ]
 * ```
 */
export function initialLog(members: number | readonly bigint[]): Entry[] {
  const ids = typeof members === "number"
    ? Array.from({ length: members }, (_, i) => BigInt(i + 1))
    : [...members].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return bootstrapEntries(ids);
}

/**
 * True if the storage holds nothing yet (no hard state, no entries, no snapshot).
 *
 * @example
 * ```ts
 * import { isEmpty } from "@rafthttp/rafthttp/replica";
 * import { DiskStorage } from "@rafthttp/rafthttp/storage";
 * const dir = await Deno.makeTempDir();
 * const disk = await DiskStorage.open(dir);
 * console.log(isEmpty(disk)); // true
 * await disk.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function isEmpty(disk: DiskStorage): boolean {
  const s = disk.storage;
  const { hardState } = s.initialState();
  return s.lastIndex() === 0n && hardState.term === 0n && hardState.commit === 0n;
}

/**
 * Writes (and fsyncs) the bootstrap log of an `n`-member cluster (members
 * 1..n), or of the given member ids, if the storage is empty; a restarted
 * member keeps what it has.
 *
 * @example
 * ```ts
 * import { bootstrapIfNew } from "@rafthttp/rafthttp/replica";
 * import { DiskStorage } from "@rafthttp/rafthttp/storage";
 * const dir = await Deno.makeTempDir();
 * const disk = await DiskStorage.open(dir);
 * console.log(await bootstrapIfNew(disk, [1n, 2n, 3n]), await bootstrapIfNew(disk, 3)); // true false
 * await disk.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function bootstrapIfNew(
  disk: DiskStorage,
  members: number | readonly bigint[],
): Promise<boolean> {
  if (!isEmpty(disk)) return false;
  const entries = initialLog(members);
  const n = entries.length;
  const hardState = create(HardStateSchema, { term: 1n, vote: 0n, commit: BigInt(n) });
  await disk.save({ hardState, entries, mustSync: true });
  return true;
}
