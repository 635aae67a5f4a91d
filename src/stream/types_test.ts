import { assertEquals } from "@std/assert";
import { parseStreamPath, STREAM_PREFIX, STREAM_TYPES, streamPath } from "./types.ts";

Deno.test("streamPath: etcd's paths, msgappv2 under msgapp", () => {
  assertEquals(streamPath("message", "1a"), "/raft/stream/message/1a");
  assertEquals(streamPath("msgappv2", "1a"), "/raft/stream/msgapp/1a");
  for (const t of STREAM_TYPES) assertEquals(streamPath(t, "2").startsWith(STREAM_PREFIX), true);
});

Deno.test("parseStreamPath(streamPath(type, id)) round-trips", () => {
  for (const type of STREAM_TYPES) {
    for (const id of ["1", "8e9e05c52164694d", "FF", "0"]) {
      assertEquals(parseStreamPath(streamPath(type, id)), { type, from: id });
    }
  }
});

Deno.test("parseStreamPath: a path without an id names no stream type", () => {
  assertEquals(parseStreamPath("/raft/stream/message").type, undefined);
  assertEquals(parseStreamPath("/raft/stream/msgapp").type, undefined);
  assertEquals(parseStreamPath("/raft/stream/").type, undefined);
});

Deno.test("parseStreamPath: a trailing slash gives the type and an empty id", () => {
  assertEquals(parseStreamPath("/raft/stream/msgapp/"), { type: "msgappv2", from: "" });
  assertEquals(parseStreamPath("/raft/stream/message/"), { type: "message", from: "" });
});

Deno.test("parseStreamPath: unknown and nested segments name no stream type", () => {
  assertEquals(parseStreamPath("/raft/stream/other/1"), { type: undefined, from: "1" });
  assertEquals(parseStreamPath("/raft/stream/msgappv2/1"), { type: undefined, from: "1" });
  assertEquals(parseStreamPath("/raft/stream/message/extra/2"), { type: undefined, from: "2" });
  assertEquals(parseStreamPath("/raft/stream/Message/2").type, undefined);
});
