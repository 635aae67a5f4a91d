import { assertEquals, assertStrictEquals, assertThrows } from "@std/assert";
import { type BodySource, bodySource, setBodySource } from "./body_source.ts";

function source(): BodySource & { reads: number } {
  const s = {
    reads: 0,
    read() {
      s.reads++;
      return Promise.resolve({ done: true as const, value: undefined });
    },
    cancel: () => Promise.resolve(),
  };
  return s;
}

Deno.test("bodySource: the edge's source once, then a reader of req.body", async () => {
  const req = new Request("http://x/raft", { method: "POST", body: "abc" });
  const own = source();
  setBodySource(req, own);
  assertStrictEquals(bodySource(req), own);
  // Taken: a second call gets req.body's reader (the edge's source has one reader).
  const r = bodySource(req)!;
  assertEquals(new TextDecoder().decode((await r.read()).value), "abc");
});

Deno.test("bodySource: not the edge's source once req.body is locked or used", async () => {
  const req = new Request("http://x/raft", { method: "POST", body: "abc" });
  setBodySource(req, source());
  const reader = req.body!.getReader();
  // Someone already reads req.body: taking the body again is an error, not a second reader.
  assertThrows(() => bodySource(req), TypeError);
  reader.releaseLock();
  const used = new Request("http://x/raft", { method: "POST", body: "abc" });
  const own = source();
  setBodySource(used, own);
  await used.text();
  assertThrows(() => bodySource(used), TypeError);
});

Deno.test("bodySource: null without a body", () => {
  assertEquals(bodySource(new Request("http://x/raft")), null);
});
