import { assert, assertEquals, assertInstanceOf } from "@std/assert";
import { IdleDeadline, type IdleReason } from "./idle_deadline.ts";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

class IdleError extends Error {
  constructor(readonly tag: string, readonly idle: number, readonly limit: number) {
    super(`${tag}: idle ${idle} ms, limit ${limit} ms`);
  }
}

/** The fired error as an IdleError (failing if it is not one). */
function asIdle(e: Error): IdleError {
  assertInstanceOf(e, IdleError);
  return e as IdleError;
}

const reason = (tag: string): IdleReason => (idle, limit) => new IdleError(tag, idle, limit);

/** Records every firing; `next` resolves at the first one. */
function recorder() {
  const fired: Error[] = [];
  let resolve!: (e: Error) => void;
  const next = new Promise<Error>((r) => resolve = r);
  return {
    fired,
    next,
    onIdle: (e: Error) => {
      fired.push(e);
      resolve(e);
    },
  };
}

/** Waits for `p` at most `ms`, clearing its own timer either way. */
async function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("IdleDeadline: fires once, after the limit, with the reason's error", async () => {
  const r = recorder();
  const start = Date.now();
  const d = new IdleDeadline(40, reason("silent"), r.onIdle);
  try {
    const e = asIdle(await within(r.next, 1000));
    const elapsed = Date.now() - start;
    assert(elapsed >= 38, `fired after ${elapsed} ms, before the 40 ms limit`);
    assertEquals(e.tag, "silent");
    assertEquals(e.limit, 40);
    assert(e.idle >= 38, `idle ${e.idle} ms`);
    // It stays fired once: touching or waiting afterwards does not fire again.
    d.touch();
    await sleep(70);
    assertEquals(r.fired.length, 1);
  } finally {
    d.cleanup();
  }
});

Deno.test("IdleDeadline: touch postpones it while something moves", async () => {
  const r = recorder();
  const d = new IdleDeadline(50, reason("silent"), r.onIdle);
  try {
    const start = Date.now();
    while (Date.now() - start < 150) {
      await sleep(10);
      d.touch();
    }
    assertEquals(r.fired.length, 0, "fired although touched every 10 ms");
    const lastTouch = Date.now();
    const e = asIdle(await within(r.next, 1000));
    assert(Date.now() - lastTouch >= 45, "fired too soon after the last touch");
    assert(e.idle >= 45 && e.idle < 150, `idle ${e.idle} ms`);
  } finally {
    d.cleanup();
  }
});

Deno.test("IdleDeadline: reset gives a new limit and reason, counted from now", async () => {
  const r = recorder();
  const d = new IdleDeadline(30, reason("first"), r.onIdle);
  try {
    await sleep(15);
    const resetAt = Date.now();
    d.reset(80, reason("second"));
    await sleep(45); // past the old 30 ms limit, inside the new one
    assertEquals(r.fired.length, 0, "the old limit still applied after reset");
    const e = asIdle(await within(r.next, 1000));
    assert(Date.now() - resetAt >= 75, "fired before the new limit");
    assertEquals(e.tag, "second");
    assertEquals(e.limit, 80);
    assertEquals(r.fired.length, 1);
    // After it fired, reset is a no-op: no new timer, no second firing.
    d.reset(10, reason("third"));
    await sleep(30);
    assertEquals(r.fired.length, 1);
  } finally {
    d.cleanup();
  }
});

Deno.test("IdleDeadline: suspend stops counting; resume counts again from now", async () => {
  const r = recorder();
  const d = new IdleDeadline(40, reason("silent"), r.onIdle);
  try {
    d.suspend();
    await sleep(90);
    assertEquals(r.fired.length, 0, "fired while suspended");
    const resumedAt = Date.now();
    d.resume();
    const e = asIdle(await within(r.next, 1000));
    assert(Date.now() - resumedAt >= 38, "fired before the limit counted from resume");
    // The silence is counted from resume, not from before the suspension.
    assert(e.idle < 85, `idle ${e.idle} ms includes the suspended time`);
  } finally {
    d.cleanup();
  }
});

Deno.test("IdleDeadline: resume without suspend arms no second timer", () => {
  // A second timer would outlive cleanup and trip the timer sanitizer.
  const r = recorder();
  const d = new IdleDeadline(50, reason("silent"), r.onIdle);
  d.resume();
  d.resume();
  d.cleanup();
  assertEquals(r.fired.length, 0);
});

Deno.test("IdleDeadline: cleanup (and dispose) prevents firing, also after resume", async () => {
  const r = recorder();
  const d = new IdleDeadline(30, reason("a"), r.onIdle);
  d.cleanup();
  d.resume(); // must not re-arm after cleanup
  d.reset(30, reason("b")); // nor this
  {
    using _e = new IdleDeadline(30, reason("c"), r.onIdle);
  }
  await sleep(80);
  assertEquals(r.fired.length, 0);
});
