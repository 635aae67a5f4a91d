import { assertEquals, assertThrows } from "@std/assert";
import { create, EntrySchema, SnapshotSchema } from "../raftpb/mod.ts";
import { CompactedError } from "./errors.ts";
import { RaftLog } from "./log.ts";
import { MemoryStorage } from "./memory_storage.ts";

const ent = (index: number, term: number) =>
  create(EntrySchema, { index: BigInt(index), term: BigInt(term) });

function logWith(stored: [number, number][], unstable: [number, number][] = []): RaftLog {
  const s = new MemoryStorage();
  s.append(stored.map(([i, t]) => ent(i, t)));
  const log = new RaftLog(s);
  log.append(unstable.map(([i, t]) => ent(i, t)));
  return log;
}

Deno.test("log: spans storage and unstable entries", () => {
  const log = logWith([[1, 1], [2, 1]], [[3, 2], [4, 2]]);
  assertEquals([log.firstIndex(), log.lastIndex(), log.lastTerm()], [1n, 4n, 2n]);
  assertEquals(log.slice(2n, 5n, 1 << 20).map((e) => e.index), [2n, 3n, 4n]);
  assertEquals(log.term(0n), 0n);
  assertEquals(log.term(9n), 0n);
});

Deno.test("log: maybeAppend matches, truncates a conflicting suffix, and commits", () => {
  const log = logWith([[1, 1], [2, 1], [3, 1]]);
  assertEquals(log.maybeAppend(3n, 2n, 3n, [ent(4, 2)]), undefined); // term mismatch at 3
  assertEquals(log.maybeAppend(1n, 1n, 3n, [ent(2, 3), ent(3, 3)]), 3n);
  assertEquals(log.term(2n), 3n);
  assertEquals(log.committed, 3n);
  // An already-held prefix is not rewritten; commit is bounded by the last new index.
  assertEquals(log.maybeAppend(1n, 1n, 10n, [ent(2, 3)]), 2n);
  assertEquals(log.lastIndex(), 3n);
});

Deno.test("log: a conflict below the commit index is refused", () => {
  const log = logWith([[1, 1], [2, 1]]);
  log.commitTo(2n);
  assertThrows(() => log.maybeAppend(0n, 0n, 2n, [ent(1, 1), ent(2, 5)]));
});

Deno.test("log: findConflict and findConflictByTerm", () => {
  const log = logWith([[1, 1], [2, 1], [3, 2], [4, 2], [5, 4]]);
  assertEquals(log.findConflict([ent(3, 2), ent(4, 3)]), 4n);
  assertEquals(log.findConflict([ent(1, 1), ent(2, 1)]), 0n);
  assertEquals(log.findConflictByTerm(5n, 3n), 4n); // last index with term <= 3
  assertEquals(log.findConflictByTerm(5n, 1n), 2n);
  assertEquals(log.findConflictByTerm(9n, 1n), 9n); // beyond our log: unchanged
});

Deno.test("log: maybeCommit only commits entries of the given term", () => {
  const log = logWith([[1, 1], [2, 2]]);
  assertEquals(log.maybeCommit(1n, 2n), false);
  assertEquals(log.maybeCommit(2n, 2n), true);
  assertEquals(log.committed, 2n);
});

Deno.test("log: nextEnts hands out committed, unapplied entries", () => {
  const log = logWith([[1, 1], [2, 1]], [[3, 1]]);
  log.commitTo(3n);
  assertEquals(log.nextEnts().map((e) => e.index), [1n, 2n, 3n]);
  log.appliedTo(2n);
  assertEquals(log.nextEnts().map((e) => e.index), [3n]);
  log.appliedTo(3n);
  assertEquals(log.hasNextEnts(), false);
});

Deno.test("log: isUpToDate compares last term, then last index", () => {
  const log = logWith([[1, 1], [2, 2]]);
  assertEquals(log.isUpToDate(1n, 3n), true);
  assertEquals(log.isUpToDate(2n, 2n), true);
  assertEquals(log.isUpToDate(1n, 2n), false);
  assertEquals(log.isUpToDate(9n, 1n), false);
});

Deno.test("log: restore from a snapshot, and compacted indexes throw", () => {
  const log = logWith([[1, 1], [2, 1]]);
  log.restore(create(SnapshotSchema, { metadata: { index: 10n, term: 3n } }));
  assertEquals([log.firstIndex(), log.lastIndex(), log.committed, log.term(10n)], [
    11n,
    10n,
    10n,
    3n,
  ]);
  assertThrows(() => log.slice(5n, 11n, 100), CompactedError);
});

Deno.test("log: unstable entries become stable only if their term still matches", () => {
  const log = logWith([], [[1, 1], [2, 1]]);
  log.unstable.stableTo(2n, 2n); // wrong term: ignored
  assertEquals(log.unstable.entries.length, 2);
  log.unstable.stableTo(1n, 1n);
  assertEquals(log.unstable.offset, 2n);
  assertEquals(log.unstable.entries.map((e) => e.index), [2n]);
});
