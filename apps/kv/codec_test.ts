import { assertEquals, assertThrows } from "@std/assert";
import { contentKey, jsonCodec, ProposalDecodeError } from "./codec.ts";

Deno.test("codec: JSON proposals round-trip, with and without an id", () => {
  for (const p of [{ key: "/a", value: "1", id: "x" }, { key: "/ü/ß", value: 'q"\n\u0000' }]) {
    assertEquals(jsonCodec.decode(jsonCodec.encode(p)), p);
  }
});

Deno.test("codec: data that is not a proposal is refused with ProposalDecodeError", () => {
  const enc = new TextEncoder();
  for (
    const raw of ["", "[1]", "null", '{"k":1,"v":"x"}', '{"k":"a"}', '{"k":"a","v":"b","i":3}']
  ) {
    assertThrows(() => jsonCodec.decode(enc.encode(raw)), ProposalDecodeError);
  }
  assertThrows(() => jsonCodec.decode(new Uint8Array([0xff, 0xfe])), ProposalDecodeError);
});

Deno.test("codec: the wait key of a JSON entry is its id, read from its tail or parsed", () => {
  const enc = new TextEncoder();
  const id = crypto.randomUUID();
  assertEquals(jsonCodec.waitKey(jsonCodec.encode({ key: "/a", value: "1", id })), id);
  // A value that ends like an id field is escaped inside its string: parsed, not read as one.
  const tricky = `x","i":"${crypto.randomUUID()}`;
  const data = jsonCodec.encode({ key: "/a", value: tricky, id: "other" });
  assertEquals(jsonCodec.waitKey(data), "other");
  const noId = jsonCodec.encode({ key: "/a", value: tricky });
  assertEquals(jsonCodec.waitKey(noId), contentKey({ key: "/a", value: tricky }));
  assertEquals(jsonCodec.waitKey(enc.encode("not json")), undefined);
});
