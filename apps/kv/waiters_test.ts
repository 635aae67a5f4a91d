import { assertEquals, assertRejects } from "@std/assert";
import { RequestTimeoutError } from "./errors.ts";
import { AppliedIndexWaiters, Waiters } from "./waiters.ts";

Deno.test("waiters: resolve in FIFO order per key; time out with RequestTimeoutError", async () => {
  const w = new Waiters<number>();
  const a = w.wait("k", 1000, "first");
  const b = w.wait("k", 1000, "second");
  const late = w.wait("other", 20, "PUT /other");
  assertEquals(w.size, 3);
  assertEquals(w.resolve("k", 1), true);
  assertEquals(w.resolve("k", 2), true);
  assertEquals(w.resolve("k", 3), false);
  assertEquals([await a, await b], [1, 2]);
  const e = await assertRejects(() => late, RequestTimeoutError);
  assertEquals(e.message.startsWith("PUT /other was not done within 20 ms"), true);
  assertEquals([w.size, w.has("other")], [0, false]);
});

Deno.test("waiters: rejectAll fails every wait and clears its timer", async () => {
  const w = new Waiters<void>();
  const p = w.wait("k", 60_000, "x");
  w.rejectAll(new Error("stopping"));
  await assertRejects(() => p, Error, "stopping");
  assertEquals(w.size, 0);
});

Deno.test("applied-index waiters: released once the applied index reaches theirs", async () => {
  const w = new AppliedIndexWaiters();
  const order: number[] = [];
  const p5 = w.wait(5n).then(() => order.push(5));
  const p9 = w.wait(9n).then(() => order.push(9));
  w.advance(4n);
  await Promise.resolve();
  assertEquals(order, []);
  w.advance(6n);
  await p5;
  assertEquals([order, w.size], [[5], 1]);
  await w.wait(6n); // already applied: resolves at once
  w.advance(3n); // never goes back
  w.advance(9n);
  await p9;
  assertEquals(order, [5, 9]);
  const never = w.wait(100n);
  w.rejectAll(new Error("stop"));
  await assertRejects(() => never, Error, "stop");
});
