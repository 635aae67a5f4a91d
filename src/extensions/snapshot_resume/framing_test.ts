import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { loadDigest } from "./digest.ts";
import {
  FrameDecoder,
  framedLength,
  FrameEncoder,
  SnapshotDigestError,
  type WindowPlan,
  windowStart,
  WindowVerifier,
  type WirePart,
} from "./framing.ts";

const d = (await loadDigest())!;

function data(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

/** Encodes `src` from `plan.offset` in chunks of `chunk`; returns the wire bytes. */
async function encode(src: Uint8Array, plan: WindowPlan, digests: Uint8Array[], chunk: number) {
  const enc = new FrameEncoder(d, plan, digests);
  const parts: WirePart[] = [];
  const push = (b: WirePart) => parts.push(b instanceof Uint8Array ? b.slice() : b);
  for (let at = windowStart(plan); at < src.length; at += chunk) {
    enc.push(src.subarray(at, Math.min(src.length, at + chunk)), push);
  }
  enc.finish(push);
  const out = await Promise.all(parts);
  const wire = new Uint8Array(out.reduce((n, b) => n + b.length, 0));
  let o = 0;
  for (const b of out) wire.set(b, (o += b.length) - b.length);
  return wire;
}

/** What a receiver does: decodes, verifies in order; returns the verified bytes and the decoder. */
async function decode(
  wire: Uint8Array,
  plan: WindowPlan,
  digests: Uint8Array[],
  partial: Uint8Array,
  chunk: number,
) {
  const dec = new FrameDecoder(d.size, plan, partial);
  const ver = new WindowVerifier(d, plan.window, digests);
  const got: number[] = [];
  let chain: Uint8Array | undefined;
  for (let at = 0; at < wire.length; at += chunk) {
    dec.push(wire.subarray(at, at + chunk), (w, dg) => ver.add(w, dg), (c) => chain = c);
  }
  while (ver.queued > 0) for (const p of (await ver.next()).parts) got.push(...p);
  if (chain !== undefined) await ver.chain(chain);
  return { got, dec };
}

Deno.test("framing: round trip for sizes around the window, any chunking", async () => {
  for (const size of [0, 1, 99, 100, 101, 250, 1000]) {
    for (const chunk of [1, 7, 100, 4096]) {
      const src = data(size);
      const plan = { size, window: 100, offset: 0 };
      const wire = await encode(src, plan, [], chunk);
      assertEquals(wire.length, framedLength(plan, d.size));
      const { got, dec } = await decode(wire, plan, [], new Uint8Array(0), chunk);
      dec.finish();
      assertEquals(new Uint8Array(got), src);
    }
  }
});

Deno.test("framing: a transfer cut anywhere resumes from what the receiver holds", async () => {
  const size = 1050;
  const src = data(size);
  const plan = { size, window: 100, offset: 0 };
  const full = await encode(src, plan, [], 64);
  for (const cutAt of [0, 1, 99, 100, 132, 133, 500, 1049, full.length - 1]) {
    const senderDigests: Uint8Array[] = [];
    await encode(src, plan, senderDigests, 64);
    const recvDigests: Uint8Array[] = [];
    const first = await decode(full.subarray(0, cutAt), plan, recvDigests, new Uint8Array(0), 64);
    assertThrows(() => first.dec.finish());
    // What the receiver keeps: verified windows and the pending bytes, as a
    // file and the digests of the whole windows in it.
    const kept = [...first.got, ...first.dec.pending];
    const offset = kept.length;
    recvDigests.length = Math.floor(offset / 100);
    const resumed = { size, window: 100, offset };
    const partial = new Uint8Array(kept.slice(windowStart(resumed)));
    const wire = await encode(src, resumed, senderDigests, 37);
    assertEquals(wire.length, framedLength(resumed, d.size));
    const second = await decode(wire, resumed, recvDigests, partial, 1000);
    second.dec.finish();
    const all = [...kept.slice(0, windowStart(resumed)), ...second.got];
    assertEquals(new Uint8Array(all), src, `cut at ${cutAt}`);
    assert(partial.length <= 100);
  }
});

Deno.test("framing: a flipped byte anywhere fails before its window is handed on", async () => {
  const size = 300;
  const plan = { size, window: 100, offset: 0 };
  const wire = await encode(data(size), plan, [], 1000);
  for (const at of [0, 50, 99, 100, 131, 132, 250, wire.length - 1]) {
    const bad = wire.slice();
    bad[at] ^= 0x10;
    const dec = new FrameDecoder(d.size, plan, new Uint8Array(0));
    const ver = new WindowVerifier(d, 100, []);
    let chain: Uint8Array | undefined;
    dec.push(bad, (w, dg) => ver.add(w, dg), (c) => chain = c);
    let handed = 0;
    await assertRejects(async () => {
      while (ver.queued > 0) handed += (await ver.next()).length;
      await ver.chain(chain!);
    }, SnapshotDigestError);
    // Only windows before the damaged one went on.
    assert(handed <= Math.floor(at / (100 + d.size)) * 100, `flip at ${at}`);
  }
});

Deno.test("framing: short, long and inconsistent input is refused", async () => {
  const plan = { size: 10, window: 4, offset: 0 };
  const enc = new FrameEncoder(d, plan, []);
  assertThrows(() => enc.push(new Uint8Array(11), () => {}), RangeError);
  const enc2 = new FrameEncoder(d, plan, []);
  enc2.push(new Uint8Array(9), () => {});
  assertThrows(() => enc2.finish(() => {}), RangeError);
  const wire = await encode(data(10), plan, [], 3);
  const dec = new FrameDecoder(d.size, plan, new Uint8Array(0));
  dec.push(wire, () => {}, () => {});
  dec.finish();
  assertThrows(() => dec.push(new Uint8Array(1), () => {}, () => {}), SnapshotDigestError);
  assertThrows(() => new FrameEncoder(d, { ...plan, offset: 8 }, []), RangeError);
  assertThrows(
    () => new FrameDecoder(d.size, { ...plan, offset: 6 }, new Uint8Array(1)),
    RangeError,
  );
});

Deno.test("framing: digests that finish out of order still go out, and chain, in window order", async () => {
  let n = 0;
  const jumbled = {
    ...d,
    create() {
      const h = d.create();
      const slow = n++ % 2 === 0;
      return {
        update: (b: Uint8Array) => h.update(b),
        async digest() {
          const got = await h.digest();
          if (slow) await new Promise((r) => setTimeout(r, 5));
          return got;
        },
      };
    },
  };
  const size = 1000;
  const plan = { size, window: 100, offset: 0 };
  const enc = new FrameEncoder(jumbled, plan, []);
  const parts: WirePart[] = [];
  enc.push(data(size), (b) => parts.push(b));
  enc.finish((b) => parts.push(b));
  const out = await Promise.all(parts);
  const wire = new Uint8Array(out.reduce((k, b) => k + b.length, 0));
  let o = 0;
  for (const b of out) wire.set(b, (o += b.length) - b.length);
  const { got, dec } = await decode(wire, plan, [], new Uint8Array(0), 4096);
  dec.finish();
  assertEquals(new Uint8Array(got), data(size));
});
