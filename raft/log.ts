/**
 * RaftLog: the log as raft sees it, Storage (persisted) followed by
 * Unstable (accepted, not yet persisted), with the commit and apply marks.
 *
 * @module
 */

import type { Entry, Snapshot } from "../raftpb/mod.ts";
import { limitSize, NO_LIMIT } from "./entries.ts";
import { CompactedError, RaftError, UnavailableError } from "./errors.ts";
import type { Storage } from "./storage.ts";
import { Unstable } from "./unstable.ts";

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

/** The log: persisted entries, unstable entries, and the committed/applied indexes. */
export class RaftLog {
  /** Entries not yet persisted. */
  readonly unstable: Unstable;
  /** Highest index known to be committed by a quorum. */
  committed: bigint;
  /** Highest index the application applied. */
  applied: bigint;

  /** `maxNextEntsSize` bounds the committed entries handed out per Ready. */
  constructor(readonly storage: Storage, readonly maxNextEntsSize: number = NO_LIMIT) {
    const first = storage.firstIndex();
    this.unstable = new Unstable(storage.lastIndex() + 1n);
    this.committed = first - 1n;
    this.applied = first - 1n;
  }

  /**
   * Appends the leader's entries after (index, logTerm) if the log matches
   * there; returns the last new index, or undefined on mismatch.
   */
  maybeAppend(
    index: bigint,
    logTerm: bigint,
    committed: bigint,
    ents: Entry[],
  ): bigint | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = index + BigInt(ents.length);
    const ci = this.findConflict(ents);
    if (ci !== 0n) {
      if (ci <= this.committed) {
        throw new RaftError(
          `entry ${ci} conflicts with committed entry (committed ${this.committed})`,
        );
      }
      this.append(ents.slice(Number(ci - (index + 1n))));
    }
    this.commitTo(minBig(committed, lastNew));
    return lastNew;
  }

  /** Appends entries to the unstable log; returns the new last index. */
  append(ents: Entry[]): bigint {
    if (ents.length === 0) return this.lastIndex();
    if (ents[0].index - 1n < this.committed) {
      throw new RaftError(
        `appending after ${ents[0].index - 1n} is below committed ${this.committed}`,
      );
    }
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /** The index of the first entry whose term differs from ours (0 if none). */
  findConflict(ents: Entry[]): bigint {
    for (const e of ents) if (!this.matchTerm(e.index, e.term)) return e.index;
    return 0n;
  }

  /**
   * The largest index <= `index` whose term is <= `term`: where a leader
   * with that term could match us (fast backtracking of rejections).
   */
  findConflictByTerm(index: bigint, term: bigint): bigint {
    if (index > this.lastIndex()) return index;
    for (;;) {
      const t = this.termOrUndefined(index);
      if (t === undefined || t <= term) return index;
      index--;
    }
  }

  /** Committed entries not yet applied, bounded by maxNextEntsSize. */
  nextEnts(): Entry[] {
    const off = maxBig(this.applied + 1n, this.firstIndex());
    if (this.committed + 1n > off) {
      return this.slice(off, this.committed + 1n, this.maxNextEntsSize);
    }
    return [];
  }

  /** True if committed entries wait to be applied. */
  hasNextEnts(): boolean {
    return this.committed + 1n > maxBig(this.applied + 1n, this.firstIndex());
  }

  /** The pending snapshot, or the storage's. */
  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  /** First index of the log. */
  firstIndex(): bigint {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  /** Last index of the log. */
  lastIndex(): bigint {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** Raises the commit index (never lowers it). */
  commitTo(toCommit: bigint): void {
    if (this.committed >= toCommit) return;
    if (this.lastIndex() < toCommit) {
      throw new RaftError(`commit ${toCommit} is beyond last index ${this.lastIndex()}; log lost?`);
    }
    this.committed = toCommit;
  }

  /** Records that the application applied up to `i`. */
  appliedTo(i: bigint): void {
    if (i === 0n) return;
    if (this.committed < i || i < this.applied) {
      throw new RaftError(`applied ${i} is outside [${this.applied}, ${this.committed}]`);
    }
    this.applied = i;
  }

  /** The term of the last entry. */
  lastTerm(): bigint {
    return this.term(this.lastIndex());
  }

  /** The term of entry `i`; 0 if outside the log; throws CompactedError if compacted. */
  term(i: bigint): bigint {
    const dummy = this.firstIndex() - 1n;
    if (i < dummy || i > this.lastIndex()) return 0n;
    return this.unstable.maybeTerm(i) ?? this.storage.term(i);
  }

  /** The term of entry `i`, or undefined if it is compacted or missing. */
  termOrUndefined(i: bigint): bigint | undefined {
    try {
      return this.term(i);
    } catch (e) {
      if (e instanceof CompactedError || e instanceof UnavailableError) return undefined;
      throw e;
    }
  }

  /** Entries from `i` to the end, at most `maxSize` bytes. */
  entries(i: bigint, maxSize: number): Entry[] {
    if (i > this.lastIndex()) return [];
    return this.slice(i, this.lastIndex() + 1n, maxSize);
  }

  /** True if a log ending at (lastIndex, term) is at least as up to date as ours. */
  isUpToDate(lastIndex: bigint, term: bigint): boolean {
    const ourTerm = this.lastTerm();
    return term > ourTerm || (term === ourTerm && lastIndex >= this.lastIndex());
  }

  /** True if entry `i` exists with term `term`. */
  matchTerm(i: bigint, term: bigint): boolean {
    const t = this.termOrUndefined(i);
    return t !== undefined && t === term;
  }

  /** Commits up to `maxIndex` if that entry is from `term` (the leader's current term). */
  maybeCommit(maxIndex: bigint, term: bigint): boolean {
    if (maxIndex > this.committed && (this.termOrUndefined(maxIndex) ?? 0n) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  /** Replaces the log with a snapshot from the leader. */
  restore(snap: Snapshot): void {
    this.committed = snap.metadata?.index ?? 0n;
    this.unstable.restore(snap);
  }

  /** Entries in [lo, hi), at most `maxSize` bytes (at least one). Throws CompactedError. */
  slice(lo: bigint, hi: bigint, maxSize: number): Entry[] {
    this.checkBounds(lo, hi);
    if (lo === hi) return [];
    let ents: Entry[] = [];
    const off = this.unstable.offset;
    if (lo < off) {
      const stored = this.storage.entries(lo, minBig(hi, off), maxSize);
      // Storage already hit the size limit: return what it gave.
      if (BigInt(stored.length) < minBig(hi, off) - lo) return stored;
      ents = stored;
    }
    if (hi > off) {
      const uns = this.unstable.slice(maxBig(lo, off), hi);
      ents = ents.length > 0 ? ents.concat(uns) : uns;
    }
    return limitSize(ents, maxSize);
  }

  private checkBounds(lo: bigint, hi: bigint): void {
    if (lo > hi) throw new RaftError(`invalid slice ${lo} > ${hi}`);
    const first = this.firstIndex();
    if (lo < first) throw new CompactedError(lo);
    if (hi > this.lastIndex() + 1n) {
      throw new RaftError(`slice [${lo}, ${hi}) out of bound [${first}, ${this.lastIndex()}]`);
    }
  }
}
