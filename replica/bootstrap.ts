/**
 * The first log of a new cluster, as etcd's `StartNode` writes it: one
 * EntryConfChange (ConfChangeAddNode of member i) per member at term 1,
 * index i, all committed. A member that shares a cluster with Go
 * raftexample must start from exactly this log.
 *
 * @module
 */

import { create, HardStateSchema } from "../raftpb/mod.ts";
import { bootstrapEntries } from "../raft/mod.ts";
import type { DiskStorage } from "../storage/mod.ts";

/** True if the storage holds nothing yet (no hard state, no entries, no snapshot). */
export function isEmpty(disk: DiskStorage): boolean {
  const s = disk.storage;
  const { hardState } = s.initialState();
  return s.lastIndex() === 0n && hardState.term === 0n && hardState.commit === 0n;
}

/**
 * Writes (and fsyncs) the bootstrap log of an `n`-member cluster if the
 * storage is empty; a restarted member keeps what it has.
 */
export async function bootstrapIfNew(disk: DiskStorage, n: number): Promise<boolean> {
  if (!isEmpty(disk)) return false;
  const entries = bootstrapEntries(Array.from({ length: n }, (_, i) => BigInt(i + 1)));
  const hardState = create(HardStateSchema, { term: 1n, vote: 0n, commit: BigInt(n) });
  await disk.save({ hardState, entries, mustSync: true });
  return true;
}
