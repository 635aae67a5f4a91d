/**
 * The Storage interface: what the Raft core reads of the durable log
 * (etcd's `raft.Storage`). The application writes it; raft only reads.
 *
 * @module
 */

import type { ConfState, Entry, HardState, Snapshot } from "../raftpb/mod.ts";

/**
 * The persisted state raft restarts from.
 *
 * @example
 * ```ts
 * import { MemoryStorage, type InitialState } from "@rafthttp/rafthttp/raft";
 * const st: InitialState = new MemoryStorage().initialState();
 * console.log(st.hardState.term); // 0n
 * ```
 */
export interface InitialState {
  /** Term, vote and commit last persisted. */
  hardState: HardState;
  /** The membership as of the last snapshot (later conf changes are in the log). */
  confState: ConfState;
}

/**
 * The log raft reads: entries after the last snapshot, their terms, and
 * the snapshot itself. Indexes are bigint as on the wire. Implementations:
 * {@link MemoryStorage}, and the durable storage built on it.
 *
 * @example
 * ```ts
 * import { MemoryStorage, type Storage } from "@rafthttp/rafthttp/raft";
 * const s: Storage = new MemoryStorage();
 * console.log(s.firstIndex(), s.lastIndex()); // 1n 0n
 * ```
 */
export interface Storage {
  /** The saved HardState and ConfState. */
  initialState(): InitialState;
  /**
   * Entries in [lo, hi), at most `maxSize` bytes but always at least one.
   * Throws CompactedError if lo was compacted, UnavailableError if hi is
   * beyond lastIndex()+1.
   */
  entries(lo: bigint, hi: bigint, maxSize: number): Entry[];
  /**
   * The term of entry `i`, for i in [firstIndex()-1, lastIndex()] (the
   * term of the snapshot's last entry is kept). Throws CompactedError /
   * UnavailableError outside that range.
   */
  term(i: bigint): bigint;
  /** Index of the first entry available through entries() (snapshot index + 1). */
  firstIndex(): bigint;
  /** Index of the last entry in storage. */
  lastIndex(): bigint;
  /** The most recent snapshot; may throw SnapshotTemporarilyUnavailableError. */
  snapshot(): Snapshot;
}
