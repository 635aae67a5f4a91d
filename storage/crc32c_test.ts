import { assertEquals, assertNotEquals } from "@std/assert";
import { crc32c } from "./crc32c.ts";

const ascii = (s: string) => new TextEncoder().encode(s);

// Reference values: RFC 3720 appendix B.4 (iSCSI) and the common "123456789" check value.
Deno.test("crc32c: known vectors", () => {
  assertEquals(crc32c(new Uint8Array(0)), 0);
  assertEquals(crc32c(ascii("123456789")), 0xe3069283);
  assertEquals(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assertEquals(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assertEquals(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assertEquals(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
  assertEquals(crc32c(ascii("a")), 0xc1d04330);
});

// The 8-byte fast path must agree with a plain bitwise computation at every length and split.
Deno.test("crc32c: agrees with a bitwise reference, whole and in pieces", () => {
  const bitwise = (d: Uint8Array) => {
    let c = 0xffffffff;
    for (const b of d) {
      c ^= b;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    }
    return ~c >>> 0;
  };
  const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 7919 + 13) & 0xff);
  for (let n = 0; n <= data.length; n += 7) {
    const d = data.subarray(0, n);
    assertEquals(crc32c(d), bitwise(d), `length ${n}`);
    const cut = Math.floor(n / 3);
    assertEquals(crc32c(d.subarray(cut), crc32c(d.subarray(0, cut))), bitwise(d), `split ${n}`);
  }
  const flipped = data.slice();
  flipped[100] ^= 1;
  assertNotEquals(crc32c(flipped), crc32c(data));
});
