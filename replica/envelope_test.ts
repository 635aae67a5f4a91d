import { assertEquals, assertThrows } from "@std/assert";
import { decodeEnvelope, encodeEnvelope, EnvelopeError } from "./envelope.ts";

Deno.test("envelope: origin, seq and command survive a round trip, at every varint width", () => {
  const ids = [0n, 1n, 127n, 128n, 300n, 1n << 32n, (1n << 63n) + 5n, (1n << 64n) - 1n];
  const commands = [new Uint8Array(), new Uint8Array([0]), new Uint8Array([1, 255, 0, 7])];
  for (const origin of ids) {
    for (const seq of ids) {
      for (const command of commands) {
        const e = decodeEnvelope(encodeEnvelope(origin, seq, command));
        assertEquals([e.origin, e.seq, e.command], [origin, seq, command]);
      }
    }
  }
});

Deno.test("envelope: the bytes are version, varint origin, varint seq, command", () => {
  assertEquals(encodeEnvelope(1n, 300n, new Uint8Array([7])), new Uint8Array([1, 1, 172, 2, 7]));
  assertEquals(encodeEnvelope(0n, 0n, new Uint8Array()), new Uint8Array([1, 0, 0]));
});

Deno.test("envelope: what is not one is refused, never read as a command", () => {
  assertThrows(() => decodeEnvelope(new Uint8Array()), EnvelopeError);
  assertThrows(() => decodeEnvelope(new Uint8Array([2, 1, 1])), EnvelopeError, "version byte 2");
  assertThrows(() => decodeEnvelope(new TextEncoder().encode('{"k":1}')), EnvelopeError);
  assertThrows(() => decodeEnvelope(new Uint8Array([1, 0x80])), EnvelopeError, "truncated");
  assertThrows(() => decodeEnvelope(new Uint8Array([1, 1])), EnvelopeError, "truncated");
  const long = new Uint8Array([1, ...new Array(11).fill(0x80), 0]);
  assertThrows(() => decodeEnvelope(long), EnvelopeError, "too long");
  assertThrows(() => encodeEnvelope(-1n, 0n, new Uint8Array()), RangeError);
});
