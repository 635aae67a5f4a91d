import { assertEquals, assertThrows } from "@std/assert";
import { create, EntrySchema, SnapshotSchema } from "../raftpb/mod.ts";
import { MemoryStorage } from "./memory_storage.ts";
import { CompactedError, SnapshotOutOfDateError, UnavailableError } from "./errors.ts";

function ents(...pairs: [number, number][]) {
  return pairs.map(([index, term]) =>
    create(EntrySchema, { index: BigInt(index), term: BigInt(term) })
  );
}

function storageWith(...pairs: [number, number][]): MemoryStorage {
  const s = new MemoryStorage();
  s.append(ents(...pairs));
  return s;
}

Deno.test("MemoryStorage: term() of the placeholder, held and missing indexes", () => {
  const s = storageWith([1, 1], [2, 2], [3, 2]);
  assertEquals(s.term(0n), 0n);
  assertEquals(s.term(3n), 2n);
  assertThrows(() => s.term(4n), UnavailableError);
  s.compact(2n);
  assertEquals(s.term(2n), 2n);
  assertThrows(() => s.term(1n), CompactedError);
});

Deno.test("MemoryStorage: entries() respects the range and the size limit", () => {
  const s = storageWith([1, 1], [2, 1], [3, 1], [4, 1]);
  assertEquals(s.entries(2n, 4n, 1 << 20).map((e) => e.index), [2n, 3n]);
  assertEquals(s.entries(1n, 5n, 0).length, 1);
  assertEquals(s.entries(1n, 5n, 50).length, 2);
  assertThrows(() => s.entries(1n, 6n, 100), UnavailableError);
  s.compact(2n);
  assertThrows(() => s.entries(2n, 3n, 100), CompactedError);
});

Deno.test("MemoryStorage: append truncates a conflicting suffix and skips compacted entries", () => {
  const s = storageWith([1, 1], [2, 1], [3, 1]);
  s.append(ents([2, 3], [3, 3], [4, 3]));
  assertEquals(s.entries(1n, 5n, 1 << 20).map((e) => e.term), [1n, 3n, 3n, 3n]);
  s.compact(3n);
  s.append(ents([1, 1], [2, 3], [3, 3], [4, 3], [5, 3]));
  assertEquals(s.firstIndex(), 4n);
  assertEquals(s.lastIndex(), 5n);
  assertThrows(() => s.append(ents([9, 3])));
});

Deno.test("MemoryStorage: createSnapshot, compact and applySnapshot", () => {
  const s = storageWith([1, 1], [2, 1], [3, 2]);
  const data = new Uint8Array([7]);
  const snap = s.createSnapshot(3n, { voters: [1n, 2n] } as never, data);
  assertEquals(snap.metadata?.term, 2n);
  assertEquals(snap.metadata?.confState?.voters, [1n, 2n]);
  assertThrows(() => s.createSnapshot(2n, undefined, data), SnapshotOutOfDateError);
  s.compact(3n);
  assertEquals(s.firstIndex(), 4n);
  const newer = create(SnapshotSchema, { metadata: { index: 10n, term: 4n } });
  s.applySnapshot(newer);
  assertEquals([s.firstIndex(), s.lastIndex(), s.term(10n)], [11n, 10n, 4n]);
  assertThrows(() => s.applySnapshot(newer), SnapshotOutOfDateError);
});

Deno.test("MemoryStorage: setHardState and initialState", () => {
  const s = new MemoryStorage();
  s.setHardState({ term: 3n, vote: 2n, commit: 1n } as never);
  const st = s.initialState();
  assertEquals([st.hardState.term, st.hardState.vote, st.hardState.commit], [3n, 2n, 1n]);
  assertEquals(st.confState.voters, []);
});
