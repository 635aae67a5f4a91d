import { assert, assertEquals } from "@std/assert";
import { loadDigest } from "./digest.ts";
import { FrameEncoder, type WindowPlan, type WirePart } from "./framing.ts";
import { framedData } from "./resume_receiver.ts";
import type { ResumeAttempt, ResumeKey, ResumeStore } from "./resume_store.ts";

const d = (await loadDigest())!;
const WINDOW = 64 * 1024;
const WINDOWS = 16;
const CHUNK = 16 * 1024;

function data(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

async function encode(src: Uint8Array, plan: WindowPlan): Promise<Uint8Array> {
  const enc = new FrameEncoder(d, plan, []);
  const parts: WirePart[] = [];
  const push = (b: WirePart) => parts.push(b);
  enc.push(src, push);
  enc.finish(push);
  const out = await Promise.all(parts);
  const wire = new Uint8Array(out.reduce((n, b) => n + b.length, 0));
  let o = 0;
  for (const b of out) wire.set(b, (o += b.length) - b.length);
  return wire;
}

/** A store whose appends wait until `release` is called; counts the bytes appended. */
function stalledStore() {
  const waiting: (() => void)[] = [];
  let held = false;
  const kept: Uint8Array[] = [];
  const attempt: ResumeAttempt = {
    offset: 0,
    digests: [],
    read: () => new ReadableStream(),
    readAll: () => Promise.resolve(new Uint8Array(0)),
    append: (b) => {
      kept.push(b.slice());
      if (!held) return Promise.resolve();
      return new Promise<void>((resolve) => waiting.push(resolve));
    },
    release: () => Promise.resolve(),
    discard: () => Promise.resolve(),
  };
  const store = { begin: () => Promise.resolve(attempt) } as unknown as ResumeStore;
  return {
    store,
    kept,
    hold: () => held = true,
    release: () => {
      held = false;
      for (const w of waiting.splice(0)) w();
    },
    get waiting() {
      return waiting.length;
    },
  };
}

Deno.test("framed receive: the body is not read ahead while a window's write is pending", async () => {
  const src = data(WINDOWS * WINDOW);
  const plan = { size: src.length, window: WINDOW, offset: 0 };
  const wire = await encode(src, plan);
  let pulled = 0;
  const raw = new ReadableStream<Uint8Array>({
    pull(c) {
      if (pulled >= wire.length) return c.close();
      const n = Math.min(CHUNK, wire.length - pulled);
      c.enqueue(wire.slice(pulled, pulled + n));
      pulled += n;
    },
  }, { highWaterMark: 0 });
  const s = stalledStore();
  s.hold();
  const key = { from: 1n, index: 1n, term: 1n, size: src.length, window: WINDOW } as ResumeKey;
  const f = await framedData(raw, plan, key, d, s.store);
  const got: Uint8Array[] = [];
  const drained = (async () => {
    for await (const b of f.stream) got.push(b.slice());
  })();
  // Let the receive run as far as it goes with the first write stalled.
  for (let i = 0; i < 50; i++) await new Promise((r) => setTimeout(r, 0));
  assertEquals(s.waiting, 1, "one write in flight, the next window waits for it");
  // Bound: the window being written, the windows checked ahead (4), one chunk.
  const bound = (1 + 4) * (WINDOW + d.size) + CHUNK;
  assert(pulled <= bound, `read ${pulled} bytes of ${wire.length} with a write pending`);
  assert(pulled < wire.length);
  s.release();
  await drained;
  assertEquals(pulled, wire.length);
  assert(f.complete());
  const all = new Uint8Array(src.length);
  let at = 0;
  for (const b of got) all.set(b, (at += b.length) - b.length);
  assertEquals(at, src.length);
  assertEquals(all, src);
  assertEquals(s.kept.reduce((n, b) => n + b.length, 0), src.length);
  await f.settle(true);
});
