/**
 * The first log of a new cluster, as etcd's `StartNode` writes it: one
 * EntryConfChange (ConfChangeAddNode of member i) per member at term 1,
 * index i, all committed. A member that shares a cluster with Go
 * raftexample must start from exactly this log.
 *
 * @module
 */

import { toBinary } from "npm:@bufbuild/protobuf@2.17.0";
import {
  ConfChangeSchema,
  ConfChangeType,
  create,
  type Entry,
  EntrySchema,
  EntryType,
  HardStateSchema,
} from "../mod.ts";
import type { DiskStorage } from "../storage/disk_storage.ts";

/**
 * The bootstrap entries for members 1..n, or for the given ids (in
 * ascending order, so that every initial member writes the same log).
 *
 * @example
 * ```ts
 * import { bootstrapEntries } from "@rafthttp/rafthttp/replica";
 * console.log(bootstrapEntries([20n, 10n]).map((e) => e.index)); // [ 1n, 2n ]
 * ```
 */
export function bootstrapEntries(members: number | readonly bigint[]): Entry[] {
  const ids = typeof members === "number"
    ? Array.from({ length: members }, (_, i) => BigInt(i + 1))
    : [...members].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return ids.map((nodeId, i) => {
    const cc = create(ConfChangeSchema, { type: ConfChangeType.ConfChangeAddNode, nodeId });
    return create(EntrySchema, {
      term: 1n,
      index: BigInt(i + 1),
      type: EntryType.EntryConfChange,
      data: toBinary(ConfChangeSchema, cc),
    });
  });
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
  const entries = bootstrapEntries(members);
  const n = entries.length;
  const hardState = create(HardStateSchema, { term: 1n, vote: 0n, commit: BigInt(n) });
  await disk.save({ hardState, entries, mustSync: true });
  return true;
}
