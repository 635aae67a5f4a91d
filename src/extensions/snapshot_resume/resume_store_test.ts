import { assert, assertEquals, assertRejects } from "@std/assert";
import { ResumeConflictError, type ResumeKey, ResumeStore } from "./resume_store.ts";

const key = (transfer: string, size = 100): ResumeKey => ({
  from: 1n,
  index: 10n,
  term: 2n,
  size,
  window: 10,
  transfer,
  digest: "crc32",
});
const bytes = (n: number, v = 1) => new Uint8Array(n).fill(v);

for (const memory of [false, true]) {
  Deno.test(`resume store${memory ? " (memory)" : ""}: keeps what was appended, reads it back, resumes only at that offset`, async () => {
    await using _ = { [Symbol.asyncDispose]: () => store.stop() };
    const store = new ResumeStore({ maxBytes: 1000, ttlMs: 60_000, memory });
    const a = (await store.begin(key("a"), 0))!;
    await a.append(bytes(10, 1));
    await a.append(bytes(5, 2));
    a.digests.push(new Uint8Array(32), new Uint8Array(32));
    await a.release();
    assertEquals(store.offset(key("a")), 15);
    assertEquals(store.offset(key("b")), 0);
    await assertRejects(() => store.begin(key("a"), 14), ResumeConflictError);
    const b = (await store.begin(key("a"), 15))!;
    assertEquals(b.digests.length, 1); // only the whole window counts as verified
    await assertRejects(() => store.begin(key("a"), 15), ResumeConflictError); // busy
    assertEquals(await b.readAll(10, 15), bytes(5, 2));
    const all: number[] = [];
    for await (const c of b.read(0, 15)) all.push(...c);
    assertEquals(all, [...bytes(10, 1), ...bytes(5, 2)]);
    await b.discard();
    assertEquals(store.offset(key("a")), 0);
    assertEquals(store.usedBytes, 0);
  });
}

Deno.test("resume store: bounded in space: idle entries are evicted, a too big transfer is not kept", async () => {
  const store = new ResumeStore({ maxBytes: 30, ttlMs: 60_000 });
  try {
    const a = (await store.begin(key("a"), 0))!;
    await a.append(bytes(20));
    await a.release();
    const b = (await store.begin(key("b"), 0))!;
    await b.append(bytes(20)); // a (idle) makes room
    assertEquals(store.offset(key("a")), 0);
    await b.append(bytes(20)); // b alone would exceed: b stops keeping
    await b.release();
    assertEquals(store.offset(key("b")), 0);
    assert(store.usedBytes <= 30);
    assertEquals(store.size, 0);
    const off = new ResumeStore({ maxBytes: 0, ttlMs: 1 });
    assertEquals(await off.begin(key("c"), 0), undefined);
    await off.stop();
  } finally {
    await store.stop();
  }
});

Deno.test("resume store: bounded in time: an idle entry expires by the timer; stop releases it", async () => {
  const store = new ResumeStore({ maxBytes: 1000, ttlMs: 50 });
  try {
    const a = (await store.begin(key("a"), 0))!;
    await a.append(bytes(10));
    await a.release();
    assertEquals(store.offset(key("a")), 10);
    await new Promise((r) => setTimeout(r, 150));
    assertEquals(store.offset(key("a")), 0);
    const b = (await store.begin(key("b"), 0))!;
    await b.append(bytes(10));
    await b.release(); // its timer is pending: stop() must release it
  } finally {
    await store.stop();
  }
});

Deno.test("resume store: a restarted store on the same directory starts over; the temporary one is removed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = new ResumeStore({ dir, maxBytes: 1000, ttlMs: 60_000 });
    const a = (await first.begin(key("a"), 0))!;
    await a.append(bytes(10));
    await a.release();
    // A crash: the file stays, the next store must not trust it.
    const second = new ResumeStore({ dir, maxBytes: 1000, ttlMs: 60_000 });
    assertEquals(second.offset(key("a")), 0);
    assertEquals(await second.begin(key("a"), 0).then((x) => x?.discard()), undefined);
    assertEquals([...Deno.readDirSync(dir)].length, 0);
    await second.stop();
    await first.stop();
    const tmp = new ResumeStore({ maxBytes: 1000, ttlMs: 60_000 });
    const t = (await tmp.begin(key("t"), 0))!;
    await t.append(bytes(3));
    await t.release();
    const names = [...Deno.readDirSync(Deno.env.get("TMPDIR") ?? "/tmp")].length;
    await tmp.stop();
    assert([...Deno.readDirSync(Deno.env.get("TMPDIR") ?? "/tmp")].length < names);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("resume store: where no file can be made, transfers are received without being kept", async () => {
  const store = new ResumeStore({
    dir: "/proc/rafthttp-no-such-dir",
    maxBytes: 1000,
    ttlMs: 60_000,
  });
  try {
    assertEquals(await store.begin(key("a"), 0), undefined);
    await assertRejects(() => store.begin(key("a"), 5), ResumeConflictError);
    assertEquals(store.offset(key("a")), 0);
  } finally {
    await store.stop();
  }
});
