/**
 * MemoryStorage: a Storage held in memory (etcd's `raft.MemoryStorage`).
 * The durable storage wraps it: the WAL restores it on restart.
 *
 * @module
 */

import {
  type ConfState,
  ConfStateSchema,
  create,
  type Entry,
  EntrySchema,
  type HardState,
  HardStateSchema,
  type Snapshot,
  SnapshotSchema,
} from "../raftpb/mod.ts";
import { limitSize } from "./entries.ts";
import { CompactedError, RaftError, SnapshotOutOfDateError, UnavailableError } from "./errors.ts";
import type { InitialState, Storage } from "./storage.ts";

/**
 * An in-memory Storage. `ents[0]` is a placeholder holding the index and
 * term of the last snapshot (or 0/0), so that `term()` of the entry just
 * before the first available one still works.
 *
 * @example
 * ```ts
 * import { create, EntrySchema } from "@rafthttp/rafthttp";
 * import { MemoryStorage } from "@rafthttp/rafthttp/raft";
 * const s = new MemoryStorage();
 * s.append([1n, 2n, 3n].map((index) => create(EntrySchema, { index, term: 1n })));
 * s.compact(2n);
 * console.log(s.firstIndex(), s.lastIndex(), s.term(2n)); // 3n 3n 1n
 * ```
 */
export class MemoryStorage implements Storage {
  #hardState: HardState = create(HardStateSchema);
  #snapshot: Snapshot = create(SnapshotSchema, { metadata: { index: 0n, term: 0n } });
  #ents: Entry[] = [create(EntrySchema)];

  /** The saved HardState and the ConfState of the last snapshot. */
  initialState(): InitialState {
    const confState = this.#snapshot.metadata?.confState ?? create(ConfStateSchema);
    return { hardState: this.#hardState, confState };
  }

  /** Saves the current HardState. */
  setHardState(hs: HardState): void {
    this.#hardState = create(HardStateSchema, { term: hs.term, vote: hs.vote, commit: hs.commit });
  }

  /** Entries in [lo, hi), limited to `maxSize` bytes (at least one entry). */
  entries(lo: bigint, hi: bigint, maxSize: number): Entry[] {
    const offset = this.#ents[0].index;
    if (lo <= offset) throw new CompactedError(lo);
    if (hi > this.lastIndex() + 1n) throw new UnavailableError(hi - 1n);
    if (this.#ents.length === 1) throw new UnavailableError(lo);
    return limitSize(this.#ents.slice(Number(lo - offset), Number(hi - offset)), maxSize);
  }

  /** The term of entry `i`, including the snapshot's last entry. */
  term(i: bigint): bigint {
    const offset = this.#ents[0].index;
    if (i < offset) throw new CompactedError(i);
    const k = Number(i - offset);
    if (k >= this.#ents.length) throw new UnavailableError(i);
    return this.#ents[k].term;
  }

  /** The last index held. */
  lastIndex(): bigint {
    return this.#ents[0].index + BigInt(this.#ents.length - 1);
  }

  /** The first index available through `entries()`. */
  firstIndex(): bigint {
    return this.#ents[0].index + 1n;
  }

  /** The most recent snapshot. */
  snapshot(): Snapshot {
    return this.#snapshot;
  }

  /** Replaces the whole contents with `snap` (a follower receiving a snapshot). */
  applySnapshot(snap: Snapshot): void {
    const index = snap.metadata?.index ?? 0n;
    const current = this.#snapshot.metadata?.index ?? 0n;
    if (index <= current) throw new SnapshotOutOfDateError(index, current);
    this.#snapshot = snap;
    this.#ents = [create(EntrySchema, { index, term: snap.metadata?.term ?? 0n })];
  }

  /**
   * Records a snapshot of the state machine at `index` (which must be
   * applied, and at most lastIndex). `cs` defaults to the previous snapshot's.
   * Call `compact` afterwards to drop the entries it covers.
   */
  createSnapshot(index: bigint, cs: ConfState | undefined, data: Uint8Array): Snapshot {
    const current = this.#snapshot.metadata?.index ?? 0n;
    if (index <= current) throw new SnapshotOutOfDateError(index, current);
    if (index > this.lastIndex()) throw new UnavailableError(index);
    const confState = cs ?? this.#snapshot.metadata?.confState ?? create(ConfStateSchema);
    this.#snapshot = create(SnapshotSchema, {
      data,
      metadata: { index, term: this.term(index), confState },
    });
    return this.#snapshot;
  }

  /** Drops the entries before `index`; `index` itself becomes the placeholder. */
  compact(index: bigint): void {
    const offset = this.#ents[0].index;
    if (index <= offset) throw new CompactedError(index);
    if (index > this.lastIndex()) throw new UnavailableError(index);
    const k = Number(index - offset);
    const head = create(EntrySchema, { index, term: this.#ents[k].term });
    this.#ents = [head, ...this.#ents.slice(k + 1)];
  }

  /**
   * Appends `entries` (consecutive indexes), first dropping what storage
   * already compacted and truncating any conflicting suffix it holds.
   */
  append(entries: Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0].index + BigInt(entries.length - 1);
    if (last < first) return;
    if (first > entries[0].index) entries = entries.slice(Number(first - entries[0].index));
    const k = Number(entries[0].index - this.#ents[0].index);
    if (k > this.#ents.length) {
      throw new RaftError(
        `missing log entries: appending at ${
          entries[0].index
        } after last index ${this.lastIndex()}; ` +
          "append consecutively",
      );
    }
    if (k === this.#ents.length) {
      for (const e of entries) this.#ents.push(e);
    } else {
      this.#ents = this.#ents.slice(0, k).concat(entries);
    }
  }
}
