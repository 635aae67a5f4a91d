/**
 * bootstrapPeers: writes etcd StartNode's initial log straight into a
 * MemoryStorage, for applications that set up storage before the node.
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
} from "../raftpb/mod.ts";
import { ConfigError, RaftError } from "./errors.ts";
import type { MemoryStorage } from "./memory_storage.ts";

/**
 * Writes one EntryConfChange (AddNode) per peer at term 1, index 1..n and
 * a HardState {term 1, commit n} into an empty storage: the log etcd's
 * StartNode creates. Create the RawNode afterwards (applied 0): the first
 * Ready hands the n conf changes to apply, which adds the voters.
 *
 * @example
 * ```ts
 * import { bootstrapPeers, MemoryStorage } from "@rafthttp/rafthttp/raft";
 * const storage = new MemoryStorage();
 * bootstrapPeers(storage, [1n, 2n, 3n]);
 * console.log(storage.lastIndex(), storage.initialState().hardState.commit); // 3n 3n
 * ```
 */
export function bootstrapPeers(storage: MemoryStorage, peers: bigint[]): void {
  if (peers.length === 0) throw new ConfigError("bootstrap needs at least one peer");
  if (storage.lastIndex() !== 0n) {
    throw new RaftError("cannot bootstrap a non-empty storage; restart from it instead");
  }
  storage.append(bootstrapEntries(peers));
  storage.setHardState(create(HardStateSchema, { term: 1n, commit: BigInt(peers.length) }));
}

/**
 * etcd StartNode's initial log, byte for byte: one EntryConfChange
 * (ConfChangeAddNode, its id 0 written out as etcd's non-nullable field is)
 * per peer, at term 1 and indexes 1..n.
 *
 * @example
 * ```ts
 * import { bootstrapEntries } from "@rafthttp/rafthttp/raft";
 * console.log(bootstrapEntries([1n, 2n, 3n]).map((e) => e.index)); // [ 1n, 2n, 3n ]
 * ```
 */
export function bootstrapEntries(peers: bigint[]): Entry[] {
  return peers.map((nodeId, i) =>
    create(EntrySchema, {
      type: EntryType.EntryConfChange,
      term: 1n,
      index: BigInt(i + 1),
      data: toBinary(
        ConfChangeSchema,
        create(ConfChangeSchema, { id: 0n, type: ConfChangeType.ConfChangeAddNode, nodeId }),
      ),
    })
  );
}
