// The behaviour every Dialer must have, run by src/http/fetch_dialer_test.ts and
// src/edge/node_dialer_test.ts against a Deno.serve server on 127.0.0.1.
// A test helper, not a test file.
import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import type { Dialer } from "../src/http/dialer.ts";

const te = new TextEncoder();

/** A server whose routes the suite uses; `stop` shuts it down. */
function server(): { url: string; stop: () => Promise<void>; hits: string[] } {
  const hits: string[] = [];
  const gates: (() => void)[] = [];
  const s = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    hits.push(`${req.method} ${path}`);
    switch (path) {
      case "/hello":
        return new Response("hello\n", { status: 201, headers: { "X-Answer": "42" } });
      case "/chunks": {
        // Three chunks apart in time, each a distinct byte pattern.
        let i = 0;
        return new Response(
          new ReadableStream({
            async pull(c) {
              if (i === 3) return c.close();
              await new Promise((r) => setTimeout(r, 20));
              c.enqueue(new Uint8Array(3000).fill(0x41 + i++));
            },
          }),
        );
      }
      case "/echo": {
        let n = 0;
        let sum = 0;
        for await (const c of req.body!) {
          n += c.length;
          for (let j = 0; j < c.length; j++) sum += c[j];
        }
        return new Response(`${n} ${req.headers.get("content-length")} ${sum}`);
      }
      case "/big":
        return new Response(new Uint8Array(100_000).fill(0x62));
      case "/slow":
        await new Promise<void>((r) => gates.push(r));
        return new Response("late");
      case "/endless":
        return new Response(
          new ReadableStream({
            start(c) {
              c.enqueue(te.encode("first"));
            },
            async pull() {
              await new Promise<void>((r) => gates.push(r));
            },
          }),
        );
      default:
        return new Response("no", { status: 404 });
    }
  });
  return {
    url: `http://127.0.0.1:${s.addr.port}`,
    hits,
    stop: async () => {
      for (const g of gates.splice(0)) g();
      await s.shutdown();
    },
  };
}

/** Registers one test of the suite: `f` gets the dialer, the server's URL and its hits. */
type DialerTest = (
  what: string,
  f: (d: Dialer, url: string, hits: string[]) => Promise<void>,
) => void;

/**
 * Registers the suite for the dialer `make` builds (`close` releases it).
 * `name` prefixes every test.
 */
export function dialerSuite(
  name: string,
  make: () => { dialer: Dialer; close: () => void | Promise<void> },
): void {
  // Each test gets a server and a dialer of its own.
  const test: DialerTest = (what, f) =>
    Deno.test(`${name}: ${what}`, async () => {
      const srv = server();
      const { dialer, close } = make();
      try {
        await f(dialer, srv.url, srv.hits);
      } finally {
        await close();
        await srv.stop();
      }
    });
  responseTests(test);
  requestBodyTests(test);
  failureTests(test);
  releaseTests(test);
}

/** What comes back: status, headers, and the body as text or as chunks. */
function responseTests(test: DialerTest): void {
  test("status, headers and body text", async (d, url) => {
    const res = await d.dial({ method: "GET", url: `${url}/hello`, headers: { "X-Q": "1" } });
    assertEquals(res.status, 201);
    assertEquals(res.headers.get("x-answer"), "42");
    assertEquals(await res.body.text(1024), "hello\n");
  });

  test("consume pushes every chunk in order, and kept chunks stay intact", async (d, url) => {
    const res = await d.dial({ method: "GET", url: `${url}/chunks` });
    const kept: Uint8Array[] = [];
    await res.body.consume((c) => kept.push(c));
    const all = new Uint8Array(kept.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of kept) {
      all.set(c, at);
      at += c.length;
    }
    assertEquals(all.length, 9000);
    for (let i = 0; i < 3; i++) {
      assert(all.subarray(i * 3000, (i + 1) * 3000).every((b) => b === 0x41 + i), `chunk ${i}`);
    }
    assert(kept.every((c) => c.constructor === Uint8Array), "chunks are plain Uint8Arrays");
  });
}

/** What goes out: a byte body with its length, a stream body without one. */
function requestBodyTests(test: DialerTest): void {
  test("a byte body goes with its Content-Length", async (d, url) => {
    const body = new Uint8Array(10_000).fill(3);
    const res = await d.dial({ method: "POST", url: `${url}/echo`, body });
    assertEquals(await res.body.text(100), "10000 10000 30000");
  });

  test("a stream body is sent as it is read, without a length", async (d, url) => {
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (pulled === 64) return c.close();
        pulled++;
        c.enqueue(new Uint8Array(64 * 1024).fill(1));
      },
    }, { highWaterMark: 0 });
    const res = await d.dial({ method: "POST", url: `${url}/echo`, body });
    assertEquals(await res.body.text(100), `${4 * 1024 * 1024} null ${4 * 1024 * 1024}`);
  });
}

/** Where dial and reading stop short: text's limit, aborts, a throwing onChunk, a refused port. */
function failureTests(test: DialerTest): void {
  test("text(limit) returns at most limit bytes", async (d, url) => {
    const res = await d.dial({ method: "GET", url: `${url}/big` });
    const text = await res.body.text(100);
    assertEquals(text, "b".repeat(100));
  });

  test("an abort before the answer rejects dial with the signal's reason", async (d, url) => {
    const abort = new AbortController();
    const reason = new Error("given up");
    const p = d.dial({ method: "GET", url: `${url}/slow`, signal: abort.signal });
    setTimeout(() => abort.abort(reason), 50);
    const e = await assertRejects(() => p);
    assertEquals(e, reason);
  });

  test("an abort while reading rejects consume with the signal's reason", async (d, url) => {
    const abort = new AbortController();
    const reason = new Error("read timeout");
    const res = await d.dial({ method: "GET", url: `${url}/endless`, signal: abort.signal });
    const got: string[] = [];
    const p = res.body.consume((c) => {
      got.push(new TextDecoder().decode(c));
      setTimeout(() => abort.abort(reason), 10);
    });
    const e = await assertRejects(() => p);
    assertEquals(e, reason);
    assertEquals(got.join(""), "first");
  });

  test("an onChunk that throws rejects consume with its error", async (d, url) => {
    const res = await d.dial({ method: "GET", url: `${url}/endless` });
    const e = await assertRejects(() =>
      res.body.consume(() => {
        throw new RangeError("frame too large");
      })
    );
    assert(e instanceof RangeError);
  });

  test("a refused connection rejects dial with an Error", async (d) => {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = l.addr.port;
    l.close();
    const e = await assertRejects(() =>
      d.dial({ method: "GET", url: `http://127.0.0.1:${port}/` })
    );
    assert(e instanceof Error, `got ${e}`);
  });
}

/** Giving a body back, and the URLs a dialer must refuse. */
function releaseTests(test: DialerTest): void {
  test("cancel releases an unread body; the next request still works", async (d, url, hits) => {
    const res = await d.dial({ method: "GET", url: `${url}/endless` });
    await res.body.cancel();
    const again = await d.dial({ method: "GET", url: `${url}/hello` });
    assertEquals(await again.body.text(10), "hello\n");
    assertEquals(hits, ["GET /endless", "GET /hello"]);
  });

  test("a unix:// URL is refused with what to do instead", async (d) => {
    try {
      const res = await d.dial({ method: "GET", url: "unix://localhost:1/raft" });
      await res.body.cancel();
      throw new Error("a unix URL was dialled");
    } catch (e) {
      assert(e instanceof TypeError, `got ${e}`);
      assertStringIncludes((e as TypeError).message, "unix");
    }
  });
}
