import { assert, assertEquals, assertThrows } from "@std/assert";
import { loadDigest } from "./digest.ts";
import {
  FrameDecoder,
  framedLength,
  FrameEncoder,
  SnapshotDigestError,
  type WindowPlan,
  windowStart,
} from "./framing.ts";

const d = (await loadDigest())!;

function data(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

/** Encodes `src` from `plan.offset` in chunks of `chunk`; returns the wire bytes. */
function encode(src: Uint8Array, plan: WindowPlan, digests: Uint8Array[], chunk: number) {
  const enc = new FrameEncoder(d, plan, digests);
  const out: Uint8Array[] = [];
  const copy = (b: Uint8Array) => out.push(b.slice());
  for (let at = windowStart(plan); at < src.length; at += chunk) {
    enc.push(src.subarray(at, Math.min(src.length, at + chunk)), copy);
  }
  enc.finish(copy);
  const wire = new Uint8Array(out.reduce((n, b) => n + b.length, 0));
  let o = 0;
  for (const b of out) wire.set(b, (o += b.length) - b.length);
  return wire;
}

Deno.test("framing: round trip for sizes around the window, any chunking", () => {
  for (const size of [0, 1, 99, 100, 101, 250, 1000]) {
    for (const chunk of [1, 7, 100, 4096]) {
      const src = data(size);
      const plan = { size, window: 100, offset: 0 };
      const wire = encode(src, plan, [], chunk);
      assertEquals(wire.length, framedLength(plan, d.size));
      const dec = new FrameDecoder(d, plan, [], new Uint8Array(0));
      const got: number[] = [];
      for (let at = 0; at < wire.length; at += chunk) {
        dec.push(wire.subarray(at, at + chunk), (w) => got.push(...w));
      }
      dec.finish();
      assertEquals(new Uint8Array(got), src);
    }
  }
});

Deno.test("framing: a transfer cut anywhere resumes from what the receiver holds", () => {
  const size = 1050;
  const src = data(size);
  const plan = { size, window: 100, offset: 0 };
  const full = encode(src, plan, [], 64);
  for (const cutAt of [0, 1, 99, 100, 132, 133, 500, 1049, full.length - 1]) {
    const senderDigests: Uint8Array[] = [];
    encode(src, plan, senderDigests, 64);
    const recvDigests: Uint8Array[] = [];
    const got: number[] = [];
    const dec = new FrameDecoder(d, plan, recvDigests, new Uint8Array(0));
    dec.push(full.subarray(0, cutAt), (w) => got.push(...w));
    assertThrows(() => dec.finish());
    // What the receiver keeps: verified windows and the pending bytes, as a
    // file of `offset` bytes and the digests of the whole windows in it.
    const offset = dec.position;
    const kept = [...got, ...dec.pending];
    assertEquals(kept.length, offset);
    recvDigests.length = Math.floor(offset / 100);
    const resumed = { size, window: 100, offset };
    const partial = new Uint8Array(kept.slice(windowStart(resumed)));
    got.length = windowStart(resumed);
    const wire = encode(src, resumed, senderDigests, 37);
    assertEquals(wire.length, framedLength(resumed, d.size));
    const dec2 = new FrameDecoder(d, resumed, recvDigests, partial);
    dec2.push(wire, (w) => got.push(...w));
    dec2.finish();
    assertEquals(got.length, size);
    assertEquals(new Uint8Array(got), src, `cut at ${cutAt}`);
    assert(partial.length <= 100);
  }
});

Deno.test("framing: a flipped byte anywhere fails before its window is handed on", () => {
  const size = 300;
  const plan = { size, window: 100, offset: 0 };
  const wire = encode(data(size), plan, [], 1000);
  for (const at of [0, 50, 99, 100, 131, 132, 250, wire.length - 1]) {
    const bad = wire.slice();
    bad[at] ^= 0x10;
    const dec = new FrameDecoder(d, plan, [], new Uint8Array(0));
    let handed = 0;
    assertThrows(
      () => dec.push(bad, (w) => handed += w.length),
      SnapshotDigestError,
    );
    // Only windows before the damaged one went on.
    assert(handed <= Math.floor(at / (100 + d.size)) * 100, `flip at ${at}`);
  }
});

Deno.test("framing: short, long and inconsistent input is refused", () => {
  const plan = { size: 10, window: 4, offset: 0 };
  const enc = new FrameEncoder(d, plan, []);
  assertThrows(() => enc.push(new Uint8Array(11), () => {}), RangeError);
  const enc2 = new FrameEncoder(d, plan, []);
  enc2.push(new Uint8Array(9), () => {});
  assertThrows(() => enc2.finish(() => {}), RangeError);
  const wire = encode(data(10), plan, [], 3);
  const dec = new FrameDecoder(d, plan, [], new Uint8Array(0));
  dec.push(wire, () => {});
  assertThrows(() => dec.push(new Uint8Array(1), () => {}), SnapshotDigestError);
  assertThrows(() => new FrameEncoder(d, { ...plan, offset: 8 }, []), RangeError);
  assertThrows(
    () => new FrameDecoder(d, { ...plan, offset: 6 }, [], new Uint8Array(1)),
    RangeError,
  );
});
