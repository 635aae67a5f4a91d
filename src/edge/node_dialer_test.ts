import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { dialerSuite } from "../../tests/dialer_suite.ts";
import { nodeDialer } from "./node_dialer.ts";

dialerSuite("nodeDialer", () => {
  const dialer = nodeDialer();
  return { dialer, close: () => dialer.close() };
});

Deno.test("nodeDialer: keeps connections alive between requests, and close() destroys them", async () => {
  const ports = new Set<number>();
  const s = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (_req, info) => {
    ports.add(info.remoteAddr.port);
    return new Response("ok");
  });
  const dialer = nodeDialer();
  try {
    for (let i = 0; i < 5; i++) {
      const res = await dialer.dial({ method: "GET", url: `http://127.0.0.1:${s.addr.port}/` });
      assertEquals(await res.body.text(10), "ok");
    }
    assertEquals(ports.size, 1, "one keep-alive connection served every request");
  } finally {
    dialer.close();
    await s.shutdown(); // would wait for a connection left open
  }
  const e = await assertRejects(() =>
    dialer.dial({ method: "GET", url: `http://127.0.0.1:${s.addr.port}/` })
  );
  assert(e instanceof TypeError && e.message.includes("after close"), String(e));
});

/** A server whose answer is 10 bytes and then nothing, never an end. */
function endlessServer(): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () =>
    new Response(
      new ReadableStream({
        start(c) {
          c.enqueue(new Uint8Array(10));
        },
      }),
    ));
}

Deno.test("nodeDialer: close() ends a body being read", async () => {
  const s = endlessServer();
  const dialer = nodeDialer();
  try {
    const res = await dialer.dial({ method: "GET", url: `http://127.0.0.1:${s.addr.port}/` });
    let got = 0;
    const reading = res.body.consume((c) => got += c.length);
    setTimeout(() => dialer.close(), 50);
    await assertRejects(() => reading);
    assertEquals(got, 10);
  } finally {
    dialer.close();
    await s.shutdown();
  }
});

Deno.test("nodeDialer: a stream body that fails closes the connection at once", async () => {
  let serverSaw = "";
  const s = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    try {
      for await (const _ of req.body!) { /* drain */ }
      serverSaw = "end";
    } catch {
      serverSaw = "error";
    }
    return new Response(null, { status: 204 });
  });
  const dialer = nodeDialer();
  const url = `http://127.0.0.1:${s.addr.port}/`;
  try {
    // A first request leaves a keep-alive connection the failing one reuses.
    const first = await dialer.dial({ method: "POST", url, body: new Uint8Array(1) });
    assertEquals(await first.body.text(10), "");
    assertEquals(serverSaw, "end");
    serverSaw = "";
    let n = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (n++ === 3) return c.error(new Error("disk read failed"));
        c.enqueue(new Uint8Array(65536));
      },
    }, { highWaterMark: 0 });
    const e = await assertRejects(() => dialer.dial({ method: "POST", url, body }));
    assertEquals((e as Error).message, "disk read failed");
    const t = Date.now();
    while (serverSaw === "" && Date.now() - t < 2000) await new Promise((r) => setTimeout(r, 10));
    assertEquals(serverSaw, "error", "the server saw the body break");
  } finally {
    dialer.close();
    await s.shutdown();
  }
});

Deno.test("nodeDialer: a stream body is pulled only as the connection takes it", async () => {
  // The server reads slowly; the client must not read far ahead of it.
  let produced = 0;
  let consumed = 0;
  let maxAhead = 0;
  const s = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    for await (const c of req.body!) {
      consumed += c.length;
      await new Promise((r) => setTimeout(r, 1));
    }
    return new Response(String(consumed));
  });
  const dialer = nodeDialer();
  const total = 64 * 1024 * 1024;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (produced === total) return c.close();
      produced += 1024 * 1024;
      maxAhead = Math.max(maxAhead, produced - consumed);
      c.enqueue(new Uint8Array(1024 * 1024));
    },
  }, { highWaterMark: 0 });
  try {
    const url = `http://127.0.0.1:${s.addr.port}/`;
    const res = await dialer.dial({ method: "POST", url, body });
    assertEquals(await res.body.text(100), String(total));
    assert(maxAhead < 24 * 1024 * 1024, `${maxAhead / 2 ** 20} MiB were read ahead of the server`);
  } finally {
    dialer.close();
    await s.shutdown();
  }
});

Deno.test("nodeDialer: maxSocketsPerHost is checked", () => {
  assertThrows(() => nodeDialer({ maxSocketsPerHost: 0 }), RangeError, "maxSocketsPerHost");
});

Deno.test("nodeDialer: a peer that answers before the body is sent stops the upload", async () => {
  const s = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("too large\n", { status: 413 }),
  );
  const dialer = nodeDialer();
  let cancelled = false;
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      pulled++;
      c.enqueue(new Uint8Array(1024 * 1024)); // endless
    },
    cancel() {
      cancelled = true;
    },
  }, { highWaterMark: 0 });
  try {
    const url = `http://127.0.0.1:${s.addr.port}/`;
    const res = await dialer.dial({ method: "POST", url, body });
    assertEquals(res.status, 413);
    assertEquals(await res.body.text(100), "too large\n");
    const t = Date.now();
    while (!cancelled && Date.now() - t < 2000) await new Promise((r) => setTimeout(r, 10));
    assert(cancelled, `the body was not cancelled (${pulled} MiB pulled)`);
  } finally {
    dialer.close();
    await s.shutdown();
  }
});

Deno.test("nodeDialer: chunks handed out are never reused (decoded messages keep views into them)", async () => {
  const N = 4000;
  const piece = (i: number) => {
    const b = new Uint8Array(1000).fill(i * 31 & 0xff);
    new DataView(b.buffer).setUint32(0, i);
    return b;
  };
  let i = 0;
  const s = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () =>
    new Response(
      new ReadableStream({
        async pull(c) {
          if (i === N) return c.close();
          c.enqueue(piece(i++));
          if (i % 50 === 0) await new Promise((r) => setTimeout(r, 0)); // separate socket reads
        },
      }),
    ));
  const dialer = nodeDialer();
  try {
    const res = await dialer.dial({ method: "GET", url: `http://127.0.0.1:${s.addr.port}/` });
    const kept: Uint8Array[] = [];
    await res.body.consume((c) => kept.push(c)); // views kept, never copied
    const all = new Uint8Array(kept.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of kept) {
      all.set(c, at);
      at += c.length;
    }
    assertEquals(all.length, N * 1000);
    assert(kept.length > 10, `${kept.length} chunks`);
    for (let j = 0; j < N; j++) {
      const got = all.subarray(j * 1000, (j + 1) * 1000);
      assertEquals(got, piece(j), `piece ${j} intact`);
    }
  } finally {
    dialer.close();
    await s.shutdown();
  }
});

Deno.test("nodeDialer: a body read after its request was aborted settles at once (a stop between response and read)", async () => {
  const s = endlessServer();
  const dialer = nodeDialer();
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const res = await dialer.dial({
      method: "GET",
      url: `http://127.0.0.1:${s.addr.port}/`,
      signal: abort.signal,
    });
    abort.abort(new Error("stopped"));
    // Let the destroyed socket's events pass before the body is read.
    await new Promise((r) => setTimeout(r, 50));
    const outcome = await Promise.race([
      res.body.consume(() => {}).then(() => "ended", (e) => `rejected: ${e.message}`),
      new Promise<string>((r) => timer = setTimeout(() => r("still pending after 2 s"), 2000)),
    ]);
    assertEquals(outcome, "rejected: stopped");
  } finally {
    clearTimeout(timer);
    dialer.close();
    await s.shutdown();
  }
});
