/**
 * The {@link Dialer} over `node:http` and `node:https` (Deno's built-in
 * ones, or Node.js 22+'s): response bodies arrive as `data` events, pushed
 * straight into the caller's synchronous decoder, which reads a Go peer that
 * flushes every message several times faster than `fetch` can on Deno.
 *
 * `node:http` and `node:https` are imported on the first request, never at
 * load time, so a bundle containing this file still loads on runtimes
 * without them (workerd). No Node type appears in the exported signatures.
 *
 * @module
 */

import type { Agent, ClientRequest, IncomingMessage } from "node:http";
import type { DialBody, Dialer, DialRequest, DialResponse } from "../http/dialer.ts";
import { decodeText, unixNeedsFetch } from "../http/dialer.ts";
import { isUnixUrl } from "../http/peer_urls.ts";

/**
 * The client side of TLS for `https://` peers: PEM strings. The transport's
 * `security.tls` option, or {@link NodeDialerOptions.tls}.
 *
 * @example
 * ```ts
 * import type { DialerTlsOptions } from "@rafthttp/rafthttp";
 * const tls: DialerTlsOptions = { ca: "-----BEGIN CERTIFICATE-----\n..." };
 * console.log(typeof tls.ca); // string
 * ```
 */
export interface DialerTlsOptions {
  /**
   * The CA certificates peers' certificates must chain to, in place of the
   * runtime's roots. Default: the runtime's roots.
   */
  ca?: string | string[];
  /** This member's client certificate (for peers that require one: mTLS). */
  cert?: string;
  /** The client certificate's private key. */
  key?: string;
}

/**
 * Options of {@link nodeDialer}.
 *
 * @example
 * ```ts
 * import { nodeDialer, type NodeDialerOptions } from "@rafthttp/rafthttp";
 * const options: NodeDialerOptions = { maxSocketsPerHost: 8 };
 * nodeDialer(options).close();
 * ```
 */
export interface NodeDialerOptions {
  /** TLS for `https://` peers. The server's name is verified as Node does by default. */
  tls?: DialerTlsOptions;
  /**
   * Connections open at most per peer address (streams hold two, the
   * pipeline up to its worker count, snapshots and probes the rest); more
   * requests wait for one. Default 32.
   */
  maxSocketsPerHost?: number;
}

/**
 * A {@link Dialer} that owns connections: close it when done.
 *
 * @example
 * ```ts
 * import { type NodeDialer, nodeDialer } from "@rafthttp/rafthttp";
 * const dialer: NodeDialer = nodeDialer();
 * dialer.close(); // idempotent; later dials are refused
 * ```
 */
export interface NodeDialer extends Dialer {
  /** Destroys every connection (requests in flight fail); later dials are refused. */
  close(): void;
}

type Http = typeof import("node:http");
type Https = typeof import("node:https");

/**
 * A {@link Dialer} on `node:http`/`node:https`: a keep-alive agent with a
 * bounded number of sockets per peer, Nagle's algorithm off, streamed
 * request bodies written with backpressure, aborts that destroy the request.
 * What a transport uses by default on Deno and Node.js; build one yourself to
 * share it or to tune it, and close it after the transports that use it.
 *
 * @example
 * ```ts
 * import { nodeDialer } from "@rafthttp/rafthttp";
 * const server = Deno.serve({ port: 0, onListen() {} }, () => new Response("hi"));
 * const dialer = nodeDialer();
 * const res = await dialer.dial({ method: "GET", url: `http://127.0.0.1:${server.addr.port}/` });
 * console.log(res.status, await res.body.text(1024)); // 200 hi
 * dialer.close();
 * await server.shutdown();
 * ```
 */
export function nodeDialer(options: NodeDialerOptions = {}): NodeDialer {
  const maxSockets = options.maxSocketsPerHost ?? 32;
  if (!Number.isSafeInteger(maxSockets) || maxSockets < 1) {
    throw new RangeError(
      `nodeDialer: maxSocketsPerHost must be an integer of at least 1, got ${maxSockets}`,
    );
  }
  let mods: Promise<{ http: Http; https: Https }> | undefined;
  let agents: { http: Agent; https: Agent } | undefined;
  let closed = false;
  const load = async () => {
    mods ??= Promise.all([import("node:http"), import("node:https")]).then(([http, https]) => {
      // lifo: the socket used last is the least likely to have been closed by the peer.
      const common = {
        keepAlive: true,
        maxSockets,
        maxFreeSockets: maxSockets,
        scheduling: "lifo" as const,
      };
      agents = {
        http: new http.Agent(common),
        https: new https.Agent({ ...common, ...options.tls }),
      };
      return { http, https };
    });
    return await mods;
  };
  return {
    async dial(req: DialRequest): Promise<DialResponse> {
      if (isUnixUrl(req.url)) throw unixNeedsFetch(req.url);
      const url = new URL(req.url);
      const secure = url.protocol === "https:";
      if (!secure && url.protocol !== "http:") {
        throw new TypeError(
          `nodeDialer: cannot dial ${req.url}: only http and https are supported`,
        );
      }
      const { http, https } = await load();
      if (closed) throw new TypeError("nodeDialer: used after close()");
      req.signal?.throwIfAborted();
      const r = (secure ? https : http).request({
        agent: secure ? agents!.https : agents!.http,
        method: req.method,
        hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"),
        port: url.port === "" ? (secure ? 443 : 80) : Number(url.port),
        path: url.pathname + url.search,
        headers: bodyHeaders(req),
      });
      return await exchange(r, req);
    },
    close(): void {
      if (closed) return;
      closed = true;
      agents?.http.destroy();
      agents?.https.destroy();
    },
  };
}

/** The request's headers, with the Content-Length of a byte body (as fetch sends it). */
function bodyHeaders(req: DialRequest): Record<string, string> {
  const h = { ...req.headers };
  if (req.body instanceof Uint8Array) h["Content-Length"] = String(req.body.length);
  return h;
}

/**
 * One request's state. Deno's `node:http` does not close a keep-alive socket
 * when its request is destroyed (the peer would wait for the rest of a body
 * until its own timeout), nor always emit `error` then: a failure destroys
 * the socket itself and settles our promises itself.
 */
class Exchange {
  #r: ClientRequest;
  #signal: AbortSignal | undefined;
  #failed: unknown;
  /** Where a failure goes while waiting for the response, then while reading the body. */
  onFail: ((e: unknown) => void) | undefined;
  /** True while a streamed request body is being written. */
  sending = false;
  /** Called once when the request fails (a body pump waiting for `drain`). */
  wakers: (() => void)[] = [];

  constructor(r: ClientRequest, signal: AbortSignal | undefined) {
    this.#r = r;
    this.#signal = signal;
    signal?.addEventListener("abort", this.#onAbort, { once: true });
    r.on("socket", (socket) => {
      if (this.failed) socket.destroy();
    });
  }

  #onAbort = () => this.fail(this.#signal!.reason);

  get failed(): boolean {
    return this.#failed !== undefined;
  }

  /** Why the request failed (undefined while it has not). */
  get reason(): unknown {
    return this.#failed;
  }

  /** Fails the request with `e` (or the signal's reason): the socket is destroyed. */
  fail(e: unknown): void {
    if (this.#failed !== undefined) return;
    this.#failed = this.#signal?.aborted ? this.#signal.reason : (e ?? new Error("failed"));
    this.release();
    const socket = this.#r.socket;
    this.#r.destroy();
    socket?.destroy();
    this.onFail?.(this.#failed);
    for (const wake of this.wakers.splice(0)) wake();
  }

  /** Stops listening to the signal (the exchange is over). */
  release(): void {
    this.#signal?.removeEventListener("abort", this.#onAbort);
  }
}

/** Sends `req`'s body on `r` and resolves with the response. */
function exchange(r: ClientRequest, req: DialRequest): Promise<DialResponse> {
  const x = new Exchange(r, req.signal);
  return new Promise<DialResponse>((resolve, reject) => {
    x.onFail = reject;
    r.setNoDelay(true);
    r.on("error", (e: Error) => x.fail(e));
    r.on("close", () => {
      if (x.onFail === reject) x.fail(new Error("the connection closed before a response came"));
    });
    r.on("response", (res: IncomingMessage) => {
      if (x.failed) return;
      x.onFail = undefined;
      resolve({
        status: res.statusCode ?? 0,
        headers: toHeaders(res.headers),
        body: nodeBody(x, res),
      });
    });
    const body = req.body;
    if (body === undefined) r.end();
    else if (body instanceof Uint8Array) r.end(body);
    else void pump(r, x, body);
  });
}

/** Writes `body` to `r` as the connection takes it; a failing body fails the request. */
async function pump(
  r: ClientRequest,
  x: Exchange,
  body: ReadableStream<Uint8Array>,
): Promise<void> {
  const reader = body.getReader();
  x.sending = true;
  try {
    // Headers first, and the socket known, so that a failure can close it.
    r.flushHeaders();
    if (!r.socket) await event(r, x, "socket");
    for (;;) {
      const { done, value } = await reader.read();
      if (x.failed) break;
      if (done) {
        r.end();
        return;
      }
      if (!r.write(value)) await event(r, x, "drain");
    }
  } catch (e) {
    x.fail(e);
  } finally {
    x.sending = false;
  }
  await reader.cancel().catch(() => {});
}

/** Resolves on `name`, when `r` closes, or when the request fails. */
function event(r: ClientRequest, x: Exchange, name: string): Promise<void> {
  return new Promise<void>((resolve) => {
    if (x.failed) return resolve();
    const wake = () => {
      r.off(name, wake);
      r.off("close", wake);
      const i = x.wakers.indexOf(wake);
      if (i >= 0) x.wakers.splice(i, 1);
      resolve();
    };
    r.on(name, wake);
    r.on("close", wake);
    x.wakers.push(wake);
  });
}

/** Node's response headers as Web Headers. */
function toHeaders(h: IncomingMessage["headers"]): Headers {
  const out = new Headers();
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) { for (const one of v) out.append(k, one); }
    else out.set(k, v);
  }
  return out;
}

/** A node response as a {@link DialBody}. */
function nodeBody(x: Exchange, res: IncomingMessage): DialBody {
  let used = false;
  let ended = false;
  res.once("end", () => ended = true);
  const once = () => {
    if (used) throw new TypeError("the response body was already read");
    used = true;
  };
  /** Reads the body with `onChunk` until it ends; `stop` ends it early (resolves). */
  const read = (onChunk: (chunk: Uint8Array, stop: () => void) => void) =>
    new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (e?: unknown) => {
        if (settled) return;
        settled = true;
        x.onFail = undefined;
        x.release();
        if (e === undefined) resolve();
        else reject(e);
        // Answered before the request body was all sent (a refusal): the
        // rest is not written, the connection is not reused.
        if (x.sending) x.fail(new Error("the peer answered before the request body was sent"));
      };
      // Failed already (aborted by a stop between the response and this
      // read): the socket is gone and its events are over, so settle now.
      if (x.failed) return settle(x.reason);
      x.onFail = settle;
      const stop = () => {
        settle();
        x.fail(new Error("the rest of the body was discarded"));
      };
      res.on("data", (b: Uint8Array) => {
        if (settled) return;
        try {
          onChunk(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), stop);
        } catch (e) {
          x.fail(e);
        }
      });
      res.on("end", () => settle());
      res.on("error", (e: Error) => x.fail(e));
      res.on("close", () => {
        if (!ended) x.fail(new Error("the connection closed before the response body ended"));
      });
      if (ended) settle();
    });
  return {
    consume(onChunk: (chunk: Uint8Array) => void): Promise<void> {
      once();
      return read((c) => onChunk(c));
    },
    async text(limit: number): Promise<string> {
      once();
      const chunks: Uint8Array[] = [];
      let total = 0;
      await read((c, stop) => {
        chunks.push(c);
        total += c.length;
        if (total >= limit) stop();
      }).catch(() => {}); // a broken body still has whatever text arrived
      return decodeText(chunks, total, limit);
    },
    cancel(reason?: unknown): Promise<void> {
      if (!used) {
        used = true;
        if (ended || res.complete) {
          // All of it is in: drained, the connection goes back to the pool.
          x.release();
          res.resume();
          if (x.sending) x.fail(new Error("the peer answered before the request body was sent"));
        } else x.fail(reason ?? new Error("the body was cancelled"));
      }
      return Promise.resolve();
    },
  };
}
