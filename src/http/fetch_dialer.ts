/**
 * The {@link Dialer} over any `fetch`: what the `fetch` option becomes, and
 * the default on runtimes without `node:http` (Bun, workerd). Bodies are read
 * with a {@link ChunkReader} (BYOB into slabs of our own where the body
 * offers it).
 *
 * @module
 */

import type { DialBody, Dialer, DialRequest, DialResponse } from "./dialer.ts";
import { readTextLimited } from "./body.ts";
import { ChunkReader } from "../stream/chunk_reader.ts";

/**
 * A {@link Dialer} that sends every request with `fetchFn` (default: the
 * global `fetch`). Streamed request bodies go with `duplex: "half"`.
 *
 * @example
 * ```ts
 * import { fetchDialer } from "@rafthttp/rafthttp";
 * const dialer = fetchDialer(fetch);
 * const server = Deno.serve({ port: 0, onListen() {} }, () => new Response("hi"));
 * const res = await dialer.dial({ method: "GET", url: `http://127.0.0.1:${server.addr.port}/` });
 * console.log(res.status, await res.body.text(1024)); // 200 hi
 * await server.shutdown();
 * ```
 */
export function fetchDialer(fetchFn: typeof fetch = (i, init) => fetch(i, init)): Dialer {
  return {
    async dial(req: DialRequest): Promise<DialResponse> {
      const init: RequestInit & { duplex?: "half" } = {
        method: req.method,
        headers: req.headers,
        signal: req.signal,
      };
      if (req.body !== undefined) {
        init.body = req.body as BodyInit;
        if (req.body instanceof ReadableStream) init.duplex = "half";
      }
      const res = await fetchFn(req.url, init);
      return { status: res.status, headers: res.headers, body: responseBody(res, req.signal) };
    },
  };
}

/** A fetch Response's body as a {@link DialBody}. */
export function responseBody(res: Response, signal?: AbortSignal): DialBody {
  let used = false;
  const once = () => {
    if (used) throw new TypeError("the response body was already read");
    used = true;
  };
  return {
    async consume(onChunk: (chunk: Uint8Array) => void): Promise<void> {
      once();
      if (res.body === null) return;
      const reader = new ChunkReader(res.body);
      let clean = false;
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          onChunk(value);
        }
        clean = true;
      } catch (e) {
        throw signal?.aborted ? signal.reason : e;
      } finally {
        if (!clean) await reader.cancel().catch(() => {});
      }
    },
    text(limit: number): Promise<string> {
      once();
      return readTextLimited(res, limit);
    },
    async cancel(reason?: unknown): Promise<void> {
      if (used) return;
      used = true;
      await res.body?.cancel(reason).catch(() => {});
    },
  };
}
