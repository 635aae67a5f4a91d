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
import { type Logger, RateLimitedLog } from "../logger.ts";
import type { Transport } from "../transport.ts";
import { isPeerPortPath } from "../http/router.ts";
import { type BodySource, setBodySource } from "../http/body_source.ts";
import {
  CERT_AUTH_FAILED,
  type PeerCertificate,
  type ResolvedTls,
  resolveTls,
  type TlsOptions,
} from "./tls.ts";

/**
 * Where a {@link PeerServer} listens.
 *
 * @example
 * ```ts
 * import type { PeerServerAddr } from "@rafthttp/rafthttp";
 * const addr: PeerServerAddr = { hostname: "127.0.0.1", port: 2380 };
 * console.log(`http://${addr.hostname}:${addr.port}`);
 * ```
 */
export interface PeerServerAddr {
  /** The address it is bound to (127.0.0.1 unless told). */
  hostname: string;
  /** The port (the one picked when `port` was 0). */
  port: number;
}

/** The same as {@link PeerServerAddr} (its name before `serve()` shared it). */
export type NodeServerAddr = PeerServerAddr;

/** Options of {@link serveNode} (and of `serve()` on its node engine). */
export interface NodeServeOptions extends TlsOptions {
  /** Port to listen on (0 picks a free one). */
  port: number;
  /** Address to listen on. Default 127.0.0.1. */
  hostname?: string;
  /** Shuts the server down (as {@link PeerServer.shutdown}) when aborted. */
  signal?: AbortSignal;
  /** Answers requests outside `/raft`, `/version` and `/members` (default: 404). */
  fallback?: (req: Request) => Response | Promise<Response>;
  /**
   * Also answer `GET /metrics` with `transport.metrics()` (Prometheus text
   * format 0.0.4). Default false: the peer port serves only what an etcd
   * member's does.
   */
  metrics?: boolean;
  /**
   * Where failures of the server itself go, rate-limited: a client refused
   * by the TLS checks at `warn`, a handler that rejects (answered with 500)
   * at `error`, a response body that fails mid-way at `warn`, a client that
   * went away at `debug`. Pass the transport's logger to have them in one
   * place. Default: nothing is logged.
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

/**
 * A listening peer-port server, whatever serves it (`serve()` on either
 * engine, {@link serveNode}): the names of `Deno.HttpServer`.
 *
 * @example
 * ```ts
 * import { type PeerServer, serve, Transport } from "@rafthttp/rafthttp";
 * const transport = new Transport({
 *   id: 1n,
 *   clusterId: 1n,
 *   urls: ["http://127.0.0.1:0"],
 *   raft: { process() {}, isIDRemoved: () => false, reportUnreachable() {}, reportSnapshot() {} },
 * });
 * const server: PeerServer = await serve(transport, { port: 0 });
 * console.log(server.addr.port > 0); // true
 * await transport.stop();
 * await server.shutdown(); // or `await using server = ...`
 * ```
 */
export interface PeerServer extends AsyncDisposable {
  /** Where it listens. */
  readonly addr: PeerServerAddr;
  /** Resolves once the server is closed and every connection has ended. */
  readonly finished: Promise<void>;
  /**
   * Stops listening, closes idle connections and resolves once the responses
   * in flight have ended. Stop the transport first: its streams end then.
   */
  shutdown(): Promise<void>;
}

/** The same as {@link PeerServer} (its name before `serve()` shared it). */
export type NodeServer = PeerServer;

/** Node's writable side of a response, as far as a body pump needs it. */
type Res = ServerResponse<IncomingMessage>;

/**
 * What a server answers: the transport's peer port, `/metrics` if asked, `fallback` else.
 *
 * @example
 * ```ts
 * import { Transport } from "../transport.ts";
 * import { peerPortHandler } from "./node_server.ts";
 * const transport = new Transport({
 *   id: 1n,
 *   clusterId: 1n,
 *   urls: ["http://127.0.0.1:0"],
 *   raft: { process() {}, isIDRemoved: () => false, reportUnreachable() {}, reportSnapshot() {} },
 * });
 * const handler = peerPortHandler(transport, { metrics: true });
 * console.log((await handler(new Request("http://x/elsewhere"))).status); // 404
 * await transport.stop();
 * ```
 */
export function peerPortHandler(
  transport: Transport,
  options: Pick<NodeServeOptions, "fallback" | "metrics">,
): (req: Request) => Promise<Response> {
  const raft = transport.handler();
  const fallback = options.fallback ??
    (() => new Response("404 page not found\n", { status: 404 }));
  const metrics = options.metrics === true ? transport.metricsHandler() : undefined;
  return (req: Request): Promise<Response> => {
    const path = new URL(req.url).pathname;
    if (isPeerPortPath(path)) return raft(req);
    return Promise.resolve().then(() =>
      metrics !== undefined && path === "/metrics" ? metrics(req) : fallback(req)
    );
  };
}

/**
 * Serves `transport.handler()` on Node's `http.createServer` (or
 * `https.createServer` with `cert` and `key`): requests under `/raft`,
 * `/version` and `/members` go to the transport, others to `fallback`.
 * Response bodies stream chunk by chunk with Node's backpressure, headers
 * are sent at once, Nagle's algorithm is off, and a body is cancelled when
 * its client goes away, so the transport's stream writers notice at once.
 * Request bodies reach the snapshot and pipeline receivers from Node's
 * `data` events, pausing the socket when they are not read. With
 * `clientCertAuth` (and `allowedCN` / `allowedHostname`) it checks client
 * certificates as an etcd member's peer port does. Runs on Node.js 22+ (and
 * on Deno, where `serve()` uses it by default, and Bun).
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
export function serveNode(transport: Transport, options: NodeServeOptions): Promise<PeerServer> {
  return listenNode("serveNode", peerPortHandler(transport, options), options);
}

/**
 * The node edge under {@link serveNode} and `serve()`: `handler` on a
 * `node:http` or `node:https` server. `fn` names the caller in errors.
 *
 * @example
 * ```ts
 * import { listenNode } from "./node_server.ts";
 * const server = await listenNode("example", () => Promise.resolve(new Response("hi")), { port: 0 });
 * const res = await fetch(`http://127.0.0.1:${server.addr.port}/`);
 * console.log(await res.text()); // hi
 * await server.shutdown();
 * ```
 */
export async function listenNode(
  fn: string,
  handler: (req: Request) => Promise<Response>,
  options: NodeServeOptions,
): Promise<PeerServer> {
  const tls = resolveTls(fn, options);
  const hostname = options.hostname ?? "127.0.0.1";
  const log = options.logger === undefined ? undefined : new RateLimitedLog(options.logger);
  const server = await createServer(tls, options.requestTimeoutMs ?? 300_000, log);
  server.on("connection", (socket: Socket) => socket.setNoDelay(true));
  const allow = tls?.allow;
  const checked = new WeakMap<object, boolean>();
  let origin = "";
  let closing = false;
  // Every connection and the requests it has in flight: at shutdown the idle
  // ones are closed by us (Deno's node:http does not always count a kept-alive
  // connection as idle, and one left open keeps the server from closing),
  // the others as soon as their last response has gone out.
  const conns = new Map<Socket, number>();
  server.on(tls === undefined ? "connection" : "secureConnection", (socket: Socket) => {
    conns.set(socket, 0);
    socket.once("close", () => conns.delete(socket));
  });
  server.on("request", (req: IncomingMessage, res: Res) => {
    // Shutting down: no connection stays open for another request (a peer
    // redialling on a kept-alive connection would keep the server up).
    if (closing) res.setHeader("connection", "close");
    const socket = req.socket;
    conns.set(socket, (conns.get(socket) ?? 0) + 1);
    res.once("close", () => {
      const left = (conns.get(socket) ?? 1) - 1;
      if (conns.has(socket)) conns.set(socket, left);
      if (closing && left === 0) socket.destroy();
    });
    if (allow !== undefined && !admitted(req, allow, checked, log)) {
      reply(res, 403, CERT_AUTH_FAILED + "\n");
      return;
    }
    handle(req, res, origin, handler, log).catch((e) => {
      // handle() catches what it can; this is the last resort.
      log?.event("node-last-resort", "error", "node server: failed to answer a request", {
        error: String(e),
      });
      res.destroy();
    });
  });
  server.on("clientError", (e: Error & { code?: string }, socket: Socket) => {
    clientError(e, socket, log);
  });

  await new Promise<void>((resolve, reject) => {
    const failed = (e: Error) => reject(e);
    server.once("error", failed);
    server.listen(options.port, hostname, () => {
      server.off("error", failed);
      resolve();
    });
  });
  server.on("error", (e: Error) =>
    log?.event("node-error", "error", "node server: error", {
      error: e.message,
    }));
  const bound = server.address();
  if (bound === null || typeof bound === "string") throw new Error(`${fn}: no TCP address`);
  const addr = { hostname: bound.address, port: bound.port };
  origin = `${tls === undefined ? "http" : "https"}://${
    addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname
  }:${addr.port}`;

  const finished = new Promise<void>((resolve) =>
    server.once("close", () => {
      log?.close();
      resolve();
    })
  );
  const shutdown = (): Promise<void> => {
    if (!closing) {
      closing = true;
      server.close();
      for (const [socket, inFlight] of conns) if (inFlight === 0) socket.destroy();
      server.closeIdleConnections();
    }
    return finished;
  };
  if (options.signal !== undefined) {
    if (options.signal.aborted) void shutdown();
    else options.signal.addEventListener("abort", () => void shutdown(), { once: true });
  }
  return { addr, finished, shutdown, [Symbol.asyncDispose]: shutdown };
}

/** A `node:http` server, or `node:https` with `tls`; handshake failures are logged. */
async function createServer(
  tls: ResolvedTls | undefined,
  requestTimeout: number,
  log: RateLimitedLog | undefined,
): Promise<Server> {
  const base = { noDelay: true, requestTimeout };
  if (tls === undefined) return (await import("node:http")).createServer(base);
  const server = (await import("node:https")).createServer({
    ...base,
    cert: tls.cert,
    key: tls.key,
    ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
    requestCert: tls.clientCertAuth,
    rejectUnauthorized: tls.clientCertAuth,
  }) as unknown as Server;
  server.on("tlsClientError", (e: Error & { code?: string }) => {
    log?.event("tls-handshake", "warn", "refused a TLS connection (handshake failed)", {
      error: e.message,
      code: e.code,
    });
  });
  return server;
}

/**
 * A connection-level error: a malformed request, headers too large, a
 * request over requestTimeoutMs, a reset socket. Answered with a status
 * where the socket still takes one, then closed; logged at debug.
 */
function clientError(
  e: Error & { code?: string },
  socket: Socket,
  log: RateLimitedLog | undefined,
): void {
  log?.event("node-client-error", "debug", "node server: client connection error", {
    error: e.message,
    code: e.code,
  });
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
}

/**
 * Whether the verified client certificate of `req`'s connection passes the
 * CN or hostname check (decided once per connection); a refusal is logged.
 */
function admitted(
  req: IncomingMessage,
  allow: (c: PeerCertificate) => boolean,
  checked: WeakMap<object, boolean>,
  log: RateLimitedLog | undefined,
): boolean {
  const socket = req.socket as Socket & { getPeerCertificate?: () => PeerCertificate };
  const known = checked.get(socket);
  if (known !== undefined) return known;
  const cert = socket.getPeerCertificate?.() ?? {};
  const ok = allow(cert);
  checked.set(socket, ok);
  if (!ok) {
    log?.event("tls-refused", "warn", `refused a client certificate (${CERT_AUTH_FAILED})`, {
      cn: String(cert.subject?.CN ?? ""),
      san: cert.subjectaltname ?? "",
      "remote-addr": socket.remoteAddress ?? "",
    });
  }
  return ok;
}

/** Answers one request: a Web Request in, the handler's Response out. */
async function handle(
  req: IncomingMessage,
  res: Res,
  origin: string,
  handler: (req: Request) => Promise<Response>,
  log: RateLimitedLog | undefined,
): Promise<void> {
  res.on(
    "error",
    (e: Error) =>
      log?.event("node-res-error", "debug", "node server: response error", { error: e.message }),
  );
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
    log?.event("node-bad-request", "debug", "node server: bad request", { error: String(e) });
    reply(res, 400, "400 Bad Request\n");
    return;
  }
  let response: Response;
  try {
    response = await handler(request);
  } catch (e) {
    log?.event("node-handler", "error", "node server: the handler failed", {
      error: String(e),
      path: req.url,
    });
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
  const writes = new ChunkWrites(res);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || res.destroyed) break;
      await writes.write(value);
    }
    if (!res.destroyed) res.end();
  } catch (e) {
    // The body failed mid-way: the status is out, so cut the response.
    if (!res.destroyed) {
      log?.event("node-body", "warn", "node server: a response body failed", {
        error: String(e),
        path: req.url,
      });
      res.destroy();
    }
  } finally {
    writes.release();
    reader.releaseLock();
  }
}

/**
 * Writes a response's chunks one at a time, each resolving once it has gone
 * to the socket (or `res` is gone). Pulling the next chunk only then is what
 * `Deno.serve` does too: the stream writers coalesce what queued meanwhile
 * into one chunk, instead of writing each message alone into Node's buffer.
 * One 'close' listener serves every write (adding and removing one per
 * write showed in the heartbeat profile).
 */
class ChunkWrites {
  #res: Res;
  #pending: (() => void) | undefined;
  #closed = false;
  readonly #settle = () => {
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.();
  };
  readonly #onClose = () => {
    this.#closed = true;
    this.#settle();
  };

  constructor(res: Res) {
    this.#res = res;
    res.once("close", this.#onClose);
  }

  /** Writes `chunk`; resolves once it went to the socket or the response closed. */
  write(chunk: Uint8Array): Promise<void> {
    if (this.#closed || this.#res.destroyed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#pending = resolve;
      this.#res.write(chunk, this.#settle);
    });
  }

  /** Removes the listener (the body is done). */
  release(): void {
    this.#res.off("close", this.#onClose);
  }
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
  if (method === "GET" || method === "HEAD") return new Request(url, { method, headers, signal });
  const source = new NodeBodySource(req);
  const request = new Request(url, {
    method,
    headers,
    signal,
    body: source.stream(),
    duplex: "half",
  } as RequestInit);
  setBodySource(request, source);
  return request;
}

/** Bytes a request body source holds before it pauses the socket. */
const BODY_HIGH_WATER = 256 * 1024;

/**
 * A request body fed by Node's `data` events, read by the receivers through
 * {@link BodySource} with no web stream per chunk: the socket is paused
 * while 256 KiB wait unread, resumed once they are taken. Cancelling does
 * not reset the connection (the answer still has to go out): the rest of
 * the body is read and dropped. `stream()` is the same bytes as a web
 * stream, for code that reads `req.body`.
 */
class NodeBodySource implements BodySource {
  readonly pausesSender = true;
  #req: IncomingMessage;
  #chunks: Uint8Array[] = [];
  #head = 0;
  #queued = 0;
  #ended = false;
  #failure: Error | undefined;
  #cancelled = false;
  #wake: (() => void) | undefined;

  constructor(req: IncomingMessage) {
    this.#req = req;
    req.on("data", (chunk: Uint8Array) => {
      if (this.#cancelled) return;
      this.#chunks.push(chunk);
      this.#queued += chunk.byteLength;
      if (this.#queued >= BODY_HIGH_WATER) req.pause();
      this.#notify();
    });
    req.once("end", () => {
      this.#ended = true;
      this.#notify();
    });
    const broken = (e?: Error) => {
      if (this.#ended) return;
      this.#failure ??= e ?? new Error("the client closed the connection before the body ended");
      this.#notify();
    };
    req.once("error", broken);
    req.once("close", () => {
      if (!req.complete) broken();
    });
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  async read(): Promise<ReadableStreamReadResult<Uint8Array>> {
    while (this.#head === this.#chunks.length) {
      if (this.#cancelled) return { done: true, value: undefined };
      if (this.#failure !== undefined) throw this.#failure;
      if (this.#ended) return { done: true, value: undefined };
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    const c = this.#chunks[this.#head];
    this.#chunks[this.#head++] = undefined as unknown as Uint8Array;
    if (this.#head === this.#chunks.length) {
      this.#chunks.length = 0;
      this.#head = 0;
    }
    this.#queued -= c.byteLength;
    if (this.#queued < BODY_HIGH_WATER && this.#req.isPaused()) this.#req.resume();
    // Node hands out Buffers; the core expects plain Uint8Arrays.
    return { done: false, value: new Uint8Array(c.buffer, c.byteOffset, c.byteLength) };
  }

  cancel(_reason?: unknown): Promise<void> {
    if (!this.#cancelled) {
      this.#cancelled = true;
      this.#chunks = [];
      this.#head = this.#queued = 0;
      this.#req.resume();
      this.#notify();
    }
    return Promise.resolve();
  }

  stream(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const { done, value } = await this.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel: (reason) => this.cancel(reason),
    }, { highWaterMark: 0 });
  }
}
