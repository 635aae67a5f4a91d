import { assert, assertEquals } from "@std/assert";
import { BoundedQueue } from "./bounded_queue.ts";

Deno.test("BoundedQueue: holds at most capacity items and refuses the rest", () => {
  const q = new BoundedQueue<number>(3);
  assertEquals(q.capacity, 3);
  assert(q.push(1));
  assert(q.push(2));
  assert(q.push(3));
  assertEquals(q.length, 3);
  assert(!q.push(4), "a full queue must refuse");
  assertEquals(q.length, 3);
  assertEquals([q.shift(), q.shift(), q.shift()], [1, 2, 3]);
  assertEquals(q.shift(), undefined);
  assertEquals(q.length, 0);
});

Deno.test("BoundedQueue: keeps FIFO order across many wrap-arounds", () => {
  const q = new BoundedQueue<number>(4);
  const out: number[] = [];
  let next = 0;
  // Interleave pushes and shifts so the head walks around the ring several times.
  for (let round = 0; round < 10; round++) {
    const pushes = 1 + (round % 4);
    for (let i = 0; i < pushes; i++) if (q.push(next)) next++;
    const shifts = 1 + (round % 2);
    for (let i = 0; i < shifts; i++) {
      const v = q.shift();
      if (v !== undefined) out.push(v);
    }
  }
  while (q.length > 0) out.push(q.shift()!);
  assert(next > 8, "the test should have wrapped the ring");
  assertEquals(out, Array.from({ length: next }, (_, i) => i));
});

Deno.test("BoundedQueue: a full ring refuses after wrap-around and keeps its items", () => {
  const q = new BoundedQueue<string>(3);
  q.push("a");
  q.push("b");
  assertEquals(q.shift(), "a");
  q.push("c");
  q.push("d"); // wraps to slot 0
  assertEquals(q.length, 3);
  assert(!q.push("e"));
  assertEquals([q.shift(), q.shift(), q.shift(), q.shift()], ["b", "c", "d", undefined]);
});

Deno.test("BoundedQueue: clear returns how many items it dropped", () => {
  const q = new BoundedQueue<number>(5);
  assertEquals(q.clear(), 0);
  q.push(1);
  q.push(2);
  q.shift();
  q.push(3);
  q.push(4);
  assertEquals(q.clear(), 3);
  assertEquals(q.length, 0);
  assertEquals(q.shift(), undefined);
});

Deno.test("BoundedQueue: works normally after clear, to full capacity", () => {
  const q = new BoundedQueue<number>(3);
  q.push(1);
  q.push(2);
  q.shift();
  q.push(3);
  q.push(4);
  q.clear();
  assert(q.push(10));
  assert(q.push(11));
  assert(q.push(12));
  assert(!q.push(13));
  assertEquals([q.shift(), q.shift(), q.shift()], [10, 11, 12]);
  assertEquals(q.length, 0);
});
