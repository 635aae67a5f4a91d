import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import { silentLogger } from "../../mod.ts";
import { jsonCodec } from "./codec.ts";
import { gobCodec } from "./gob.ts";
import { KvStore, SnapshotDataError } from "./store.ts";

const put = (s: KvStore, key: string, value: string) =>
  s.apply(jsonCodec.encode({ key, value, id: crypto.randomUUID() }));

Deno.test("store: applies writes in order; later writes win", () => {
  const s = new KvStore(jsonCodec);
  put(s, "/a", "1");
  put(s, "/b", "2");
  put(s, "/a", "3");
  assertEquals([s.get("/a"), s.get("/b"), s.get("/c"), s.size], ["3", "2", undefined, 2]);
});

Deno.test("store: entries of raftexample's gob apply with the gob codec", () => {
  const s = new KvStore(gobCodec);
  s.apply(gobCodec.encode({ key: "/g", value: "from go" }));
  assertEquals(s.get("/g"), "from go");
});

Deno.test("store: an entry that is not a proposal is skipped, not applied", () => {
  const s = new KvStore(jsonCodec, silentLogger);
  s.apply(new TextEncoder().encode("not a proposal"), 7n);
  assertEquals(s.size, 0);
});

Deno.test("store: the snapshot is raftexample's JSON object and restores exactly", async () => {
  const s = new KvStore(jsonCodec);
  put(s, "/my-key", "hello");
  assertEquals(new TextDecoder().decode(s.snapshot()), '{"/my-key":"hello"}');
  const t = new KvStore(jsonCodec);
  put(t, "/gone", "x");
  await t.restore(ReadableStream.from([s.snapshot()]));
  assertEquals([t.get("/my-key"), t.get("/gone"), t.size, t.restores], ["hello", undefined, 1, 1]);
});

Deno.test("store: bad snapshot data is refused and the map is kept", async () => {
  const s = new KvStore(jsonCodec);
  put(s, "/a", "1");
  for (const raw of ["x", "[]", "null", '{"a":1}']) {
    assertThrows(() => s.restoreBytes(new TextEncoder().encode(raw)), SnapshotDataError);
  }
  const stream = ReadableStream.from([new TextEncoder().encode("[")]);
  await assertRejects(() => s.restore(stream), SnapshotDataError);
  assertEquals([s.get("/a"), s.restores], ["1", 0]);
});
