import { assert, assertEquals, assertThrows } from "@std/assert";
import { ChunkQueue } from "./chunk_queue.ts";

/** The bytes 0..n-1 with a pattern that makes every position distinct mod 251. */
function pattern(n: number, seed = 7): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 37 + seed) % 251);
}

/** Pushes `bytes` cut at `cuts` (sorted offsets) into a fresh queue. */
function queueOf(bytes: Uint8Array, cuts: number[]): ChunkQueue {
  const q = new ChunkQueue();
  let at = 0;
  for (const c of [...cuts, bytes.length]) {
    q.push(bytes.slice(at, c));
    at = c;
  }
  return q;
}

/** The unconsumed bytes of `q`, read through byteAt. */
function contents(q: ChunkQueue): number[] {
  return Array.from({ length: q.length }, (_, i) => q.byteAt(i));
}

function fromHex(s: string): Uint8Array {
  return Uint8Array.from(s.match(/../g)!, (h) => parseInt(h, 16));
}

/** The reference value of 8 big-endian bytes, as ChunkQueue rounds it. */
function u64(bytes: Uint8Array, at: number): number {
  let v = 0n;
  for (let j = 0; j < 8; j++) v = (v << 8n) | BigInt(bytes[at + j]);
  return Number(v);
}

Deno.test("ChunkQueue: push keeps chunks, counts length and ignores empty chunks", () => {
  const q = new ChunkQueue();
  assertEquals([q.length, q.firstLength(), q.parts.length], [0, 0, 0]);
  q.push(new Uint8Array([1, 2, 3]));
  q.push(new Uint8Array(0));
  q.push(new Uint8Array([4, 5]));
  assertEquals(q.length, 5);
  assertEquals(q.parts.length, 2, "an empty chunk must not be kept");
  assertEquals(q.firstLength(), 3);
  assertEquals(contents(q), [1, 2, 3, 4, 5]);
  assertThrows(() => q.byteAt(5), RangeError);
});

Deno.test("ChunkQueue: u64At reads big-endian values inside one chunk", () => {
  const bytes = fromHex("0000000000000102" + "ffffffffffffffff" + "8000000180000000");
  const q = queueOf(bytes, []);
  assertEquals(q.u64At(0), 0x102);
  assertEquals(q.u64At(8), 2 ** 64);
  assertEquals(q.u64At(16), u64(bytes, 16));
  assert(q.u64At(16) > 2 ** 63, "the high bit must not make the value negative");
  assertEquals(q.u64At(3), u64(bytes, 3));
});

Deno.test("ChunkQueue: u64At across chunk boundaries, at every split and offset", () => {
  const bytes = pattern(20, 200); // values up to 250: high bits set often
  for (let a = 0; a <= bytes.length; a++) {
    for (let b = a; b <= bytes.length; b += 3) {
      const q = queueOf(bytes, [a, b]);
      for (let i = 0; i + 8 <= bytes.length; i++) {
        assertEquals(q.u64At(i), u64(bytes, i), `cuts ${a},${b} offset ${i}`);
      }
    }
  }
});

Deno.test("ChunkQueue: u64At and byteAt count from the consumed head", () => {
  const bytes = pattern(30);
  const q = queueOf(bytes, [5, 11, 12, 20]);
  q.skip(7);
  assertEquals(q.length, 23);
  assertEquals(q.consumed, 7);
  for (let i = 0; i + 8 <= q.length; i++) assertEquals(q.u64At(i), u64(bytes, 7 + i));
  assertEquals(contents(q), Array.from(bytes.subarray(7)));
});

Deno.test("ChunkQueue: contiguous copies exactly the first n bytes and keeps the rest", () => {
  const bytes = pattern(40);
  for (const cuts of [[3, 9, 20], [1, 2, 3, 4], [10, 30]]) {
    for (let skip = 0; skip < 3; skip++) {
      for (let n = 1; n <= 40 - skip; n++) {
        const q = queueOf(bytes, cuts);
        q.skip(skip);
        q.contiguous(n);
        assert(q.firstLength() >= n, `cuts ${cuts} skip ${skip} n ${n}`);
        assertEquals(
          Array.from(q.parts[0].subarray(q.head, q.head + n)),
          Array.from(bytes.subarray(skip, skip + n)),
        );
        assertEquals(q.length, 40 - skip, "contiguous must not consume");
        assertEquals(contents(q), Array.from(bytes.subarray(skip)), "bytes lost or reordered");
      }
    }
  }
});

Deno.test("ChunkQueue: contiguous is a no-op when the first chunk already has n bytes", () => {
  const first = pattern(10);
  const q = new ChunkQueue();
  q.push(first);
  q.push(pattern(5, 3));
  q.skip(2);
  q.contiguous(8);
  assert(q.parts[0] === first, "no copy expected");
  assertEquals(q.head, 2);
  assertEquals(q.parts.length, 2);
});

Deno.test("ChunkQueue: contiguous copies only the spanning frame, not the later chunks", () => {
  const q = new ChunkQueue();
  const c1 = pattern(4, 1);
  const c2 = pattern(6, 2);
  const c3 = pattern(100, 3);
  q.push(c1);
  q.push(c2);
  q.push(c3);
  q.contiguous(7); // 4 from c1, 3 from c2
  assertEquals(q.parts[0].length, 7);
  assertEquals(q.parts.length, 3);
  assertEquals(Array.from(q.parts[1]), Array.from(c2.subarray(3)));
  assert(q.parts[2] === c3, "a chunk the frame does not reach must stay as it is");
  assertEquals(q.length, 110);
});

Deno.test("ChunkQueue: skip drops whole chunks and tracks head and consumed", () => {
  const bytes = pattern(20);
  const q = queueOf(bytes, [4, 10, 15]);
  q.skip(4); // exactly the first chunk
  assertEquals([q.parts.length, q.head, q.length, q.consumed], [3, 0, 16, 4]);
  q.skip(8); // all of the second chunk and 2 of the third
  assertEquals([q.parts.length, q.head, q.length, q.consumed], [2, 2, 8, 12]);
  assertEquals(q.firstLength(), 3);
  assertEquals(contents(q), Array.from(bytes.subarray(12)));
  q.skip(8); // everything
  assertEquals([q.parts.length, q.head, q.length, q.consumed], [0, 0, 0, 20]);
  assertEquals(q.firstLength(), 0);
  q.push(new Uint8Array([9, 8]));
  assertEquals(contents(q), [9, 8]);
  assertEquals(q.consumed, 20);
});
