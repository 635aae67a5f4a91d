/**
 * Serving a transport's handler on Node.js 22+ (`node:http`), for members
 * that run the bundle on Node: each `IncomingMessage` becomes a Web
 * `Request`, each `Response` is written back as it streams.
 *
 * `node:http` is imported when {@link serveNode} is first called, never at
 * load time, so the bundle that contains this file still loads on runtimes
 * without it (workerd). No Node type appears in the exported signatures:
 * a user needs neither Deno's nor Node's type declarations.
 *
 * @module
 */

import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Logger } from "../logger.ts";
import type { Transport } from "../transport.ts";
import { isPeerPortPath } from "../http/router.ts";

/** Where a {@link NodeServer} listens. */
export interface NodeServerAddr {
  /** The address it is bound to (127.0.0.1 unless told). */
  hostname: string;
  /** The port (the one picked when `port` was 0). */
  port: number;
}

/** Options of {@link serveNode}. */
export interface NodeServeOptions {
  /** Port to listen on (0 picks a free one). */
  port: number;
  /** Address to listen on. Default 127.0.0.1. */
  hostname?: string;
  /** Shuts the server down (as {@link NodeServer.shutdown}) when aborted. */
  signal?: AbortSignal;
  /** Answers requests outside `/raft` (default: 404). */
  fallback?: (req: Request) => Response | Promise<Response>;
  /**
   * Where failures of the server itself go: a handler that rejects (answered
   * with 500) at `error`, a response body that fails mid-way at `warn`, a
   * client that went away at `debug`. Pass the transport's logger to have
   * them in one place. Default: nothing is logged.
   */
  logger?: Logger;
  /**
   * Milliseconds a client may take to send a whole request, body included
   * (Node's `requestTimeout`). Default 300000, Node's default and etcd's
   * `ReadTimeout` on its peer listener: a snapshot must arrive within 5
   * minutes, as an etcd member requires. Raise it for larger snapshots over
   * slow links; 0 turns it off, and with it Node's `headersTimeout` (60 s) on
   * clients that never finish their headers.
   */
  requestTimeoutMs?: number;
}

/** What {@link serveNode} returns: the listening server. */
export interface NodeServer {
  /** Where it listens. */
  readonly addr: NodeServerAddr;
  /** Resolves once the server is closed and every connection has ended. */
  readonly finished: Promise<void>;
  /**
   * Stops listening, closes idle connections and resolves once the responses
   * in flight have ended. Stop the transport first: its streams end then.
   */
  shutdown(): Promise<void>;
}

/** Node's writable side of a response, as far as a body pump needs it. */
type Res = ServerResponse<IncomingMessage>;

/**
 * Serves `transport.handler()` on Node's `http.createServer`: requests under
 * `/raft` go to the transport, others to `fallback`. Response bodies stream
 * chunk by chunk with Node's backpressure, headers are sent at once, Nagle's
 * algorithm is off, and a body is cancelled when its client goes away, so the
 * transport's stream writers notice at once. Runs on Node.js 22+ (and on Deno
 * and Bun, which provide `node:http`); plain HTTP only.
 *
 * @example
 * ```ts
 * import { serveNode, Transport } from "@rafthttp/rafthttp";
 * const transport = new Transport({
 *   id: 1n,
 *   clusterId: 1n,
 *   urls: ["http://127.0.0.1:0"],
 *   raft: { process() {}, isIDRemoved: () => false, reportUnreachable() {}, reportSnapshot() {} },
 * });
 * const server = await serveNode(transport, { port: 0 });
 * const res = await fetch(`http://127.0.0.1:${server.addr.port}/raft/probing`);
 * console.log(res.status, (await res.json()).OK); // 200 true
 * await transport.stop();
 * await server.shutdown();
 * ```
 */
export async function serveNode(
  transport: Transport,
  options: NodeServeOptions,
): Promise<NodeServer> {
  const http = await import("node:http");
  const raft = transport.handler();
  const fallback = options.fallback ??
    (() => new Response("404 page not found\n", { status: 404 }));
  const log = options.logger;
  const hostname = options.hostname ?? "127.0.0.1";
  const handler = (req: Request): Promise<Response> => {
    const path = new URL(req.url).pathname;
    return isPeerPortPath(path) ? raft(req) : Promise.resolve().then(() => fallback(req));
  };

  const server: Server = http.createServer({
    noDelay: true,
    requestTimeout: options.requestTimeoutMs ?? 300_000,
  });
  server.on("connection", (socket: Socket) => socket.setNoDelay(true));
  let origin = "";
  server.on("request", (req: IncomingMessage, res: Res) => {
    handle(req, res, origin, handler, log).catch((e) => {
      // handle() catches what it can; this is the last resort.
      log?.error("node server: failed to answer a request", { error: String(e) });
      res.destroy();
    });
  });
  // A connection-level error: a malformed request, headers too large, a
  // request over requestTimeoutMs, a reset socket. Answered with a status
  // where the socket still takes one, then closed; logged at debug.
  server.on("clientError", (e: Error & { code?: string }, socket: Socket) => {
    log?.debug("node server: client connection error", { error: e.message, code: e.code });
    if (e.code === "ECONNRESET" || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = e.code === "HPE_HEADER_OVERFLOW"
      ? "431 Request Header Fields Too Large"
      : e.code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? "408 Request Timeout"
      : "400 Bad Request";
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });

  await new Promise<void>((resolve, reject) => {
    const failed = (e: Error) => reject(e);
    server.once("error", failed);
    server.listen(options.port, hostname, () => {
      server.off("error", failed);
      resolve();
    });
  });
  server.on("error", (e: Error) => log?.error("node server: error", { error: e.message }));
  const bound = server.address();
  if (bound === null || typeof bound === "string") throw new Error("node server: no TCP address");
  const addr = { hostname: bound.address, port: bound.port };
  origin = `http://${
    addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname
  }:${addr.port}`;

  const finished = new Promise<void>((resolve) => server.once("close", () => resolve()));
  let closing = false;
  const shutdown = (): Promise<void> => {
    if (!closing) {
      closing = true;
      server.close();
      server.closeIdleConnections();
    }
    return finished;
  };
  if (options.signal !== undefined) {
    if (options.signal.aborted) void shutdown();
    else options.signal.addEventListener("abort", () => void shutdown(), { once: true });
  }
  return { addr, finished, shutdown };
}

/** Answers one request: a Web Request in, the handler's Response out. */
async function handle(
  req: IncomingMessage,
  res: Res,
  origin: string,
  handler: (req: Request) => Promise<Response>,
  log: Logger | undefined,
): Promise<void> {
  res.on("error", (e: Error) => log?.debug("node server: response error", { error: e.message }));
  const abort = new AbortController();
  // What to cancel when the client goes away: the body, once the handler gave it.
  const out: {
    body?: ReadableStream<Uint8Array> | null;
    reader?: ReadableStreamDefaultReader<Uint8Array>;
  } = {};
  // 'close' before 'finish': the client went away (or the socket broke).
  res.once("close", () => {
    if (res.writableFinished) return;
    abort.abort(new Error("the client closed the connection"));
    const cancelled = out.reader !== undefined
      ? out.reader.cancel(abort.signal.reason)
      : out.body?.cancel(abort.signal.reason);
    cancelled?.catch(() => {});
  });

  let request: Request;
  try {
    request = toRequest(req, origin, abort.signal);
  } catch (e) {
    log?.debug("node server: bad request", { error: String(e) });
    reply(res, 400, "400 Bad Request\n");
    return;
  }
  let response: Response;
  try {
    response = await handler(request);
  } catch (e) {
    log?.error("node server: the handler failed", { error: String(e), path: req.url });
    if (!res.headersSent && !res.destroyed) reply(res, 500, "500 Internal Server Error\n");
    else res.destroy();
    return;
  }
  const body = out.body = response.body;
  if (res.destroyed) {
    await body?.cancel().catch(() => {});
    return;
  }

  res.statusCode = response.status;
  if (response.statusText !== "") res.statusMessage = response.statusText;
  for (const [name, value] of response.headers) {
    if (name !== "set-cookie") res.setHeader(name, value);
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader("set-cookie", cookies);

  const bodiless = req.method === "HEAD" || response.status === 204 ||
    response.status === 304 || response.status < 200;
  if (body === null || bodiless) {
    await body?.cancel().catch(() => {});
    res.end();
    return;
  }
  // The stream writers' bodies never end: the peer must see the headers now,
  // and every chunk as soon as it is written.
  res.flushHeaders();
  const reader = out.reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || res.destroyed) break;
      if (!res.write(value)) await drained(res);
    }
    if (!res.destroyed) res.end();
  } catch (e) {
    // The body failed mid-way: the status is out, so cut the response.
    if (!res.destroyed) {
      log?.warn("node server: a response body failed", { error: String(e), path: req.url });
      res.destroy();
    }
  } finally {
    reader.releaseLock();
  }
}

/** Resolves when `res` can take more, or is gone. */
function drained(res: Res): Promise<void> {
  if (res.destroyed) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/** A short plain-text answer. */
function reply(res: Res, status: number, text: string): void {
  res.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "content-length": String(text.length),
  });
  res.end(text);
}

/** The Web Request for a Node request; its body streams (POST, PUT...). */
function toRequest(req: IncomingMessage, origin: string, signal: AbortSignal): Request {
  const target = req.url ?? "/";
  let url: URL;
  try {
    url = new URL(target, req.headers.host ? `http://${req.headers.host}` : origin);
  } catch {
    url = new URL(target, origin);
  }
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
  const method = req.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD";
  return new Request(url, {
    method,
    headers,
    signal,
    ...(hasBody ? { body: requestBody(req), duplex: "half" } : {}),
  } as RequestInit);
}

/**
 * The request body as a Web stream, with backpressure: Node's stream is
 * paused while the Web stream holds 256 KiB nobody has read. Cancelling it
 * does not reset the connection (the answer still has to go out): the rest
 * of the body is read and dropped.
 */
function requestBody(req: IncomingMessage): ReadableStream<Uint8Array> {
  let open = true;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      req.on("data", (chunk: Uint8Array) => {
        if (!open) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 1) <= 0) req.pause();
      });
      req.once("end", () => {
        if (!open) return;
        open = false;
        controller.close();
      });
      const broken = (e?: Error) => {
        if (!open) return;
        open = false;
        controller.error(e ?? new Error("the client closed the connection before the body ended"));
      };
      req.once("error", broken);
      req.once("close", () => {
        if (!req.complete) broken();
      });
    },
    pull() {
      req.resume();
    },
    cancel() {
      open = false;
      req.resume();
    },
  }, { highWaterMark: 256 * 1024, size: (chunk) => chunk.byteLength });
}
