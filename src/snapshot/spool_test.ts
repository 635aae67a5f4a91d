import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { PAUSED_SPOOL_LIMIT, spool, type SpoolOptions } from "./spool.ts";
import { concat } from "../testdata/bytes.ts";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Lets pending promise chains (the spool's pump) run. */
const settle = () => sleep(5);

function chunk(i: number, size = 10): Uint8Array {
  return Uint8Array.from({ length: size }, (_, j) => (i * 31 + j) & 0xff);
}

/**
 * A body that yields `chunks` one per read (no read-ahead: `reads` counts
 * exactly the reads the spool made), then ends, unless `hang` is set, in
 * which case it stays silent after the last chunk.
 */
function body(chunks: Uint8Array[], opts: { hang?: boolean } = {}) {
  const state = { reads: 0, cancelled: undefined as unknown, cancels: 0 };
  let i = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < chunks.length) {
        state.reads++;
        controller.enqueue(chunks[i++]);
      } else if (!opts.hang) {
        controller.close();
      }
      // hang: no chunk and no close, the read stays pending
    },
    cancel(reason) {
      state.cancels++;
      state.cancelled = reason;
    },
  }, { highWaterMark: 0 });
  return { stream, state };
}

function options(o: Partial<SpoolOptions> = {}): SpoolOptions & { seen: number[] } {
  const seen: number[] = [];
  return {
    limit: 1 << 20,
    progressTimeoutMs: 1000,
    onBytes: (n) => seen.push(n),
    seen,
    ...o,
  };
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of stream) parts.push(c);
  return concat(parts);
}

Deno.test("spool: yields every byte in order and reports each chunk's size", async () => {
  const chunks = Array.from({ length: 50 }, (_, i) => chunk(i, 1 + (i % 7)));
  const src = body(chunks);
  const opts = options();
  const s = spool(src.stream.getReader(), opts);
  assert(!s.complete(), "complete before the body was read");
  const got = await readAll(s.stream);
  assertEquals(Array.from(got), Array.from(concat(chunks)));
  assertEquals(opts.seen, chunks.map((c) => c.length));
  assert(s.complete(), "a clean end must be complete");
  assertEquals(src.state.cancels, 0);
});

Deno.test("spool: reads ahead of the consumer, stops above the limit, resumes below half", async () => {
  const src = body(Array.from({ length: 100 }, (_, i) => chunk(i)));
  const s = spool(src.stream.getReader(), options({ limit: 50 }));
  const reader = s.stream.getReader();
  try {
    await settle();
    // 5 chunks of 10 bytes reach the limit of 50: no sixth read.
    assertEquals(src.state.reads, 5, "reads before the limit");
    await settle();
    assertEquals(src.state.reads, 5, "kept reading above the limit");

    // Taking chunks down to 40 and 30 bytes (above half the limit) does not resume.
    assertEquals(Array.from((await reader.read()).value!), Array.from(chunk(0)));
    await reader.read();
    await settle();
    assertEquals(src.state.reads, 5, "resumed above half of the limit");

    // Down to 20 (< 25) resumes, up to the limit again: 3 more reads.
    assertEquals(Array.from((await reader.read()).value!), Array.from(chunk(2)));
    await settle();
    assertEquals(src.state.reads, 8, "reads after falling below half");

    // And the order is kept across the pause.
    for (let i = 3; i < 8; i++) {
      assertEquals(Array.from((await reader.read()).value!), Array.from(chunk(i)));
    }
  } finally {
    await reader.cancel();
    await settle();
  }
  assertEquals(src.state.cancels, 1);
  assert(!s.complete());
});

Deno.test("spool: a silent sender fails the stream with the progress timeout", async () => {
  const src = body([chunk(0)], { hang: true });
  const s = spool(src.stream.getReader(), options({ progressTimeoutMs: 40 }));
  const reader = s.stream.getReader();
  const first = await reader.read();
  assertEquals(Array.from(first.value!), Array.from(chunk(0)));
  const started = Date.now();
  const e = await assertRejects(() => reader.read(), Error);
  assert(Date.now() - started >= 30, "failed before the timeout");
  assertStringIncludes(e.message, "progress timeout");
  assertStringIncludes(e.message, "40 ms");
  await settle();
  assertEquals(src.state.cancels, 1, "the silent body must be cancelled");
  assertEquals(src.state.cancelled, e);
  assert(!s.complete());
});

Deno.test("spool: a full queue (consumer not reading) does not trip the progress timeout", async () => {
  const chunks = Array.from({ length: 12 }, (_, i) => chunk(i));
  const src = body(chunks);
  const s = spool(src.stream.getReader(), options({ limit: 20, progressTimeoutMs: 40 }));
  await sleep(150); // well past the timeout, with the queue full all along
  assertEquals(src.state.reads, 2, "the queue should have filled to the limit and stopped");
  const got = await readAll(s.stream);
  assertEquals(Array.from(got), Array.from(concat(chunks)));
  assert(s.complete());
  assertEquals(src.state.cancels, 0);
});

Deno.test("spool: cancelling the output cancels the body while a read is pending", async () => {
  const src = body([], { hang: true });
  const s = spool(src.stream.getReader(), options());
  await settle();
  const reason = new Error("receiver gave up");
  await s.stream.cancel(reason);
  await settle();
  assertEquals(src.state.cancels, 1);
  assertEquals(src.state.cancelled, reason);
  assert(!s.complete());
});

Deno.test("spool: cancelling the output cancels the body while the queue is full", async () => {
  const src = body(Array.from({ length: 10 }, (_, i) => chunk(i)));
  const s = spool(src.stream.getReader(), options({ limit: 10 }));
  await settle();
  assertEquals(src.state.reads, 1);
  await s.stream.cancel("stop");
  await settle();
  assertEquals(src.state.cancels, 1);
  assertEquals(src.state.reads, 1, "kept reading after the cancel");
  assert(!s.complete());
});

Deno.test("spool: complete() is false until the end, and false after a failing body", async () => {
  {
    let ctl!: ReadableStreamDefaultController<Uint8Array>;
    const manual = new ReadableStream<Uint8Array>({ start: (c) => void (ctl = c) });
    const s = spool(manual.getReader(), options());
    const reader = s.stream.getReader();
    ctl.enqueue(chunk(0));
    assertEquals(Array.from((await reader.read()).value!), Array.from(chunk(0)));
    ctl.enqueue(chunk(1));
    await settle();
    assert(!s.complete(), "complete before the body ended");
    ctl.close();
    await settle();
    assert(s.complete(), "the body ended cleanly");
    assertEquals(Array.from((await reader.read()).value!), Array.from(chunk(1)));
    assert((await reader.read()).done);
    assert(s.complete());
  }
  {
    let n = 0;
    const broken = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (n++ === 0) controller.enqueue(chunk(0));
        else controller.error(new Error("connection reset"));
      },
    }, { highWaterMark: 0 });
    const s = spool(broken.getReader(), options());
    const reader = s.stream.getReader();
    assertEquals(Array.from((await reader.read()).value!), Array.from(chunk(0)));
    const e = await assertRejects(() => reader.read(), Error);
    assertEquals(e.message, "connection reset");
    assert(!s.complete(), "a body that failed is not complete");
  }
});

Deno.test("spool: over a source that pauses its sender it holds PAUSED_SPOOL_LIMIT, not the limit", async () => {
  const size = 256 * 1024;
  const chunks = Array.from({ length: 64 }, (_, i) => chunk(i, size)); // 16 MiB
  const src = body(chunks);
  const reader = src.stream.getReader();
  const pausing = {
    read: () => reader.read(),
    cancel: (r?: unknown) => reader.cancel(r),
    pausesSender: true,
  };
  const s = spool(pausing, options({ limit: 32 << 20 }));
  await settle();
  // Nobody reads: the spool stops at its bound instead of taking all 16 MiB.
  assertEquals(src.state.reads * size, PAUSED_SPOOL_LIMIT);
  const all = await readAll(s.stream);
  assertEquals(all.length, 64 * size);
  assert(s.complete());
  // Without pausesSender the same source is drained up to the limit ahead of the reader.
  const again = body(chunks);
  const greedy = spool(again.stream.getReader(), options({ limit: 32 << 20 }));
  await settle();
  await waitReads(again.state, 64);
  assertEquals(again.state.reads, 64);
  await readAll(greedy.stream);
});

async function waitReads(state: { reads: number }, n: number) {
  for (let i = 0; i < 200 && state.reads < n; i++) await settle();
}
