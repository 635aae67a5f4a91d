/**
 * Peer URLs on unix sockets (`unix://host:port`, `unixs://host:port`), as
 * etcd supports them: etcd listens on the socket file named `host:port` in
 * its working directory and speaks HTTP (unixs: HTTPS) over it. Deno's
 * `fetch` reaches a unix socket through an HTTP client whose proxy transport
 * is that socket; `Deno.serve({ path })` listens on one. Deno-specific, like
 * `serve()`.
 *
 * @module
 */

import type { Transport } from "../transport.ts";
import { isUnixUrl } from "../http/peer_urls.ts";
import { isPeerPortPath } from "../http/router.ts";

/** Options of {@link unixFetch}. */
export interface UnixFetchOptions {
  /** Directory the `host:port` socket names are relative to. Default: the working directory. */
  dir?: string;
  /** TLS options for `unixs://` (and `https://`): CA certificates, client certificate and key (PEM). */
  tls?: { caCerts?: string[]; cert?: string; key?: string };
  /** The fetch used for every other URL. Default: the global `fetch`. */
  fallback?: typeof fetch;
}

/** A fetch that reaches `unix://` and `unixs://` peer URLs; `close()` releases its clients. */
export interface UnixFetch extends Disposable {
  /** Pass as the transport's `fetch` option. */
  readonly fetch: typeof fetch;
  /** Closes the HTTP clients (one per socket). Call after `transport.stop()`. */
  close(): void;
}

/**
 * A fetch for a transport whose peers have `unix://` or `unixs://` URLs:
 * `unix://localhost:2380/raft` is `http://localhost:2380/raft` over the
 * socket file `localhost:2380` (relative to `dir`); other URLs go to
 * `fallback`.
 *
 * @example
 * ```ts
 * import { Transport, unixFetch } from "@rafthttp/rafthttp";
 * using unix = unixFetch({ dir: Deno.cwd() });
 * await using transport = new Transport({
 *   id: 1n,
 *   clusterId: 7n,
 *   urls: ["unix://localhost:23801"],
 *   raft: { process() {}, isIDRemoved: () => false, reportUnreachable() {}, reportSnapshot() {} },
 *   fetch: unix.fetch,
 *   probeIntervalMs: 0,
 * });
 * console.log(transport.id); // 1n
 * ```
 */
export function unixFetch(options: UnixFetchOptions = {}): UnixFetch {
  const clients = new Map<string, Deno.HttpClient>();
  const fallback = options.fallback ?? ((input, init) => fetch(input, init));
  const dir = options.dir ?? Deno.cwd();
  let closed = false;
  const client = (path: string): Deno.HttpClient => {
    let c = clients.get(path);
    if (c === undefined) {
      c = Deno.createHttpClient({
        proxy: { transport: "unix", path },
        caCerts: options.tls?.caCerts,
        cert: options.tls?.cert,
        key: options.tls?.key,
      } as Deno.CreateHttpClientOptions);
      clients.set(path, c);
    }
    return c;
  };
  const f = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const href = input instanceof Request ? input.url : String(input);
    if (!isUnixUrl(href)) return fallback(input, init);
    if (closed) return Promise.reject(new TypeError("unixFetch: used after close()"));
    const url = new URL(href);
    const scheme = url.protocol === "unixs:" ? "https:" : "http:";
    const target = `${scheme}//${url.host}${url.pathname}${url.search}`;
    const path = `${dir.replace(/\/$/, "")}/${url.host}`;
    return fetch(target, { ...init, client: client(path) } as RequestInit);
  };
  const close = () => {
    closed = true;
    for (const c of clients.values()) c.close();
    clients.clear();
  };
  return { fetch: f as typeof fetch, close, [Symbol.dispose]: close };
}

/** Options of {@link serveUnix}. */
export interface ServeUnixOptions {
  /** The socket file: for the peer URL `unix://localhost:2380`, `localhost:2380` (in `dir`). */
  path: string;
  /** Stops the server when aborted. */
  signal?: AbortSignal;
  /** Answers requests outside the peer port's paths (default: 404). */
  fallback?: (req: Request) => Response | Promise<Response>;
}

/**
 * Serves `transport.handler()` on a unix socket with `Deno.serve({ path })`
 * (plain HTTP: `unix://` URLs; Deno.serve has no TLS on unix sockets). A
 * stale socket file left by an earlier run is removed first. Call
 * `server.shutdown()` after `transport.stop()`.
 *
 * @example
 * ```ts
 * import { serveUnix, Transport } from "@rafthttp/rafthttp";
 * const dir = await Deno.makeTempDir();
 * const transport = new Transport({
 *   id: 1n,
 *   clusterId: 7n,
 *   urls: ["unix://localhost:23801"],
 *   raft: { process() {}, isIDRemoved: () => false, reportUnreachable() {}, reportSnapshot() {} },
 *   probeIntervalMs: 0,
 * });
 * const server = serveUnix(transport, { path: `${dir}/localhost:23801` });
 * await transport.stop();
 * await server.shutdown();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function serveUnix(
  transport: Transport,
  options: ServeUnixOptions,
): Deno.HttpServer<Deno.UnixAddr> {
  try {
    if (Deno.lstatSync(options.path).isSocket) Deno.removeSync(options.path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const raft = transport.handler();
  const fallback = options.fallback ??
    (() => new Response("404 page not found\n", { status: 404 }));
  return Deno.serve({ path: options.path, signal: options.signal, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    return isPeerPortPath(path) ? raft(req) : fallback(req);
  });
}
