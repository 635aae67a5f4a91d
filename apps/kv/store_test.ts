import { assertEquals, assertThrows } from "@std/assert";
import { KvStore, SnapshotDataError } from "./store.ts";

Deno.test("store: applies writes in order; later writes win", () => {
  const s = new KvStore();
  s.apply({ key: "/a", value: "1" });
  s.apply({ key: "/b", value: "2" });
  s.apply({ key: "/a", value: "3" });
  assertEquals([s.get("/a"), s.get("/b"), s.get("/c"), s.size], ["3", "2", undefined, 2]);
});

Deno.test("store: the snapshot is raftexample's JSON object and restores exactly", () => {
  const s = new KvStore();
  s.apply({ key: "/my-key", value: "hello" });
  assertEquals(new TextDecoder().decode(s.snapshot()), '{"/my-key":"hello"}');
  const t = new KvStore();
  t.apply({ key: "/gone", value: "x" });
  t.restore(s.snapshot());
  assertEquals([t.get("/my-key"), t.get("/gone"), t.size], ["hello", undefined, 1]);
});

Deno.test("store: bad snapshot data is refused and the map is kept", () => {
  const s = new KvStore();
  s.apply({ key: "/a", value: "1" });
  for (const raw of ["x", "[]", "null", '{"a":1}']) {
    assertThrows(() => s.restore(new TextEncoder().encode(raw)), SnapshotDataError);
  }
  assertEquals(s.get("/a"), "1");
});
