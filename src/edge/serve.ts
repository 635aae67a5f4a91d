/**
 * The one Deno-specific file: serving a transport's handler with
 * `Deno.serve`, for users who do not compose the handler themselves.
 *
 * @module
 */

import type { Transport } from "../transport.ts";
import { isPeerPortPath } from "../http/router.ts";

/** Options of {@link serve}: where to listen, plus what `Deno.serve` takes. */
export interface ServeOptions {
  /** Address to listen on. Default 127.0.0.1. */
  hostname?: string;
  /** Port to listen on (0 picks a free one). */
  port: number;
  /** TLS certificate (PEM); with `key`, serves https. */
  cert?: string;
  /** TLS private key (PEM). */
  key?: string;
  /** Stops the server when aborted. */
  signal?: AbortSignal;
  /** Called once listening (default: silent). */
  onListen?: (addr: Deno.NetAddr) => void;
  /**
   * Also answer `GET /metrics` with `transport.metrics()` (Prometheus text
   * format 0.0.4). Default false: the peer port serves only what an etcd
   * member's does.
   */
  metrics?: boolean;
  /** Answers requests outside `/raft`, `/version` and `/members` (default: 404). */
  fallback?: (req: Request) => Response | Promise<Response>;
}

/**
 * Serves `transport.handler()` on `Deno.serve` and returns the server; call
 * `server.shutdown()` (after `transport.stop()`) to close it.
 *
 * @example
 * ```ts
 * import { serve, Transport } from "@rafthttp/rafthttp";
 * const transport = new Transport({
 *   id: 1n,
 *   clusterId: 1n,
 *   urls: ["http://127.0.0.1:0"],
 *   raft: { process() {}, isIDRemoved: () => false, reportUnreachable() {}, reportSnapshot() {} },
 * });
 * const server = serve(transport, { port: 0 });
 * console.log(server.addr.port > 0); // true
 * await transport.stop();
 * await server.shutdown();
 * ```
 */
export function serve(transport: Transport, options: ServeOptions): Deno.HttpServer<Deno.NetAddr> {
  const raft = transport.handler();
  const fallback = options.fallback ??
    (() => new Response("404 page not found\n", { status: 404 }));
  const metrics = options.metrics === true ? transport.metricsHandler() : undefined;
  const handler = (req: Request) => {
    const path = new URL(req.url).pathname;
    if (isPeerPortPath(path)) return raft(req);
    return metrics !== undefined && path === "/metrics" ? metrics(req) : fallback(req);
  };
  const base = {
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port,
    signal: options.signal,
    onListen: options.onListen ?? (() => {}),
  };
  if (options.cert !== undefined && options.key !== undefined) {
    return Deno.serve({ ...base, cert: options.cert, key: options.key }, handler);
  }
  return Deno.serve(base, handler);
}
