import { assertEquals, assertThrows } from "@std/assert";
import { jsonCodec, ProposalDecodeError } from "./codec.ts";

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
