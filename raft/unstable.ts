/**
 * The unstable part of the log: entries (and possibly a snapshot) that
 * raft accepted but the application has not yet persisted to Storage.
 *
 * @module
 */

import type { Entry, Snapshot } from "../raftpb/mod.ts";

/** Entries from `offset` on (and an incoming snapshot) not yet in Storage. */
export class Unstable {
  /** A snapshot received from the leader, waiting to be persisted. */
  snapshot: Snapshot | undefined;
  /** Entries at indexes offset, offset+1, ... */
  entries: Entry[] = [];

  /** `offset` is the index the first unstable entry will have. */
  constructor(public offset: bigint) {}

  /** The first index of the log if a pending snapshot defines it. */
  maybeFirstIndex(): bigint | undefined {
    const snap = this.snapshot;
    return snap ? (snap.metadata?.index ?? 0n) + 1n : undefined;
  }

  /** The last index held here, if any entry or snapshot is held. */
  maybeLastIndex(): bigint | undefined {
    if (this.entries.length > 0) return this.offset + BigInt(this.entries.length - 1);
    return this.snapshot ? (this.snapshot.metadata?.index ?? 0n) : undefined;
  }

  /** The term of entry `i` if it is held here. */
  maybeTerm(i: bigint): bigint | undefined {
    if (i < this.offset) {
      const meta = this.snapshot?.metadata;
      return meta && meta.index === i ? meta.term : undefined;
    }
    const last = this.maybeLastIndex();
    if (last === undefined || i > last) return undefined;
    return this.entries[Number(i - this.offset)].term;
  }

  /** Entries up to (i, t) were persisted: drop them, unless they were replaced since. */
  stableTo(i: bigint, t: bigint): void {
    const gt = this.maybeTerm(i);
    if (gt === undefined || gt !== t || i < this.offset) return;
    this.entries = this.entries.slice(Number(i + 1n - this.offset));
    this.offset = i + 1n;
  }

  /** The snapshot at index `i` was persisted. */
  stableSnapTo(i: bigint): void {
    if (this.snapshot?.metadata?.index === i) this.snapshot = undefined;
  }

  /** Replaces everything with `snap` (a snapshot from the leader). */
  restore(snap: Snapshot): void {
    this.offset = (snap.metadata?.index ?? 0n) + 1n;
    this.entries = [];
    this.snapshot = snap;
  }

  /** Appends `ents`, replacing any held entries at or after the first new index. */
  truncateAndAppend(ents: Entry[]): void {
    const after = ents[0].index;
    const end = this.offset + BigInt(this.entries.length);
    if (after === end) {
      for (const e of ents) this.entries.push(e);
    } else if (after <= this.offset) {
      this.offset = after;
      this.entries = ents.slice();
    } else {
      this.entries = this.entries.slice(0, Number(after - this.offset)).concat(ents);
    }
  }

  /** Entries in [lo, hi); the caller checked the bounds. */
  slice(lo: bigint, hi: bigint): Entry[] {
    return this.entries.slice(Number(lo - this.offset), Number(hi - this.offset));
  }
}
