/**
 * `serve()`: a transport's peer port on Deno, for users who do not compose
 * the handler themselves. Two engines: Deno's built-in `node:http` /
 * `node:https` (the default: request bodies arrive 4× faster than through
 * `Deno.serve`, the socket pauses when a receiver stops reading, and client
 * certificates can be checked) and `Deno.serve`.
 *
 * @module
 */

import type { Transport } from "../transport.ts";
import {
  listenNode,
  type NodeServeOptions,
  peerPortHandler,
  type PeerServer,
  type PeerServerAddr,
} from "./node_server.ts";
import { resolveTls } from "./tls.ts";

/** Options of {@link serve}: where to listen, TLS, and which engine serves. */
export interface ServeOptions extends NodeServeOptions {
  /**
   * What serves the port: `"node"` (default), Deno's `node:http` /
   * `node:https`; or `"deno"`, `Deno.serve`, which cannot ask for client
   * certificates (denoland/deno#26825): `clientCertAuth` needs `"node"`.
   */
  engine?: "node" | "deno";
  /** Called once listening (default: silent). */
  onListen?: (addr: PeerServerAddr) => void;
}

/**
 * Serves `transport.handler()` on the chosen engine and resolves once it
 * listens; call `server.shutdown()` (after `transport.stop()`) to close it.
 * With `cert` and `key` it serves https; `clientCertAuth`, `ca`,
 * `allowedCN` and `allowedHostname` check peers' client certificates as
 * etcd's `--peer-client-cert-auth`, `--peer-trusted-ca-file`,
 * `--peer-cert-allowed-cn` and `--peer-cert-allowed-hostname` do. Bad
 * options are a `TypeError` naming the option; a port in use is
 * `Deno.errors.AddrInUse` on both engines.
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
 * const server = await serve(transport, { port: 0 }); // or { port: 0, engine: "deno" }
 * console.log(server.addr.port > 0); // true
 * await transport.stop();
 * await server.shutdown();
 * ```
 */
export async function serve(transport: Transport, options: ServeOptions): Promise<PeerServer> {
  const engine = options.engine ?? "node";
  if (engine !== "node" && engine !== "deno") {
    throw new TypeError(`serve: \`engine\` must be "node" or "deno", not ${String(engine)}`);
  }
  const handler = peerPortHandler(transport, options);
  if (engine === "node") {
    let server: PeerServer;
    try {
      server = await listenNode("serve", handler, options);
    } catch (e) {
      // As Deno.serve reports it, so that callers check one error class.
      if ((e as { code?: string }).code === "EADDRINUSE") {
        throw new Deno.errors.AddrInUse((e as Error).message, { cause: e });
      }
      throw e;
    }
    options.onListen?.(server.addr);
    return server;
  }
  if (
    options.clientCertAuth === true || options.ca !== undefined ||
    options.allowedCN !== undefined || options.allowedHostname !== undefined
  ) {
    throw new TypeError(
      'serve: engine "deno" (Deno.serve) cannot check client certificates (denoland/deno#26825); ' +
        'use engine "node" (the default) for `clientCertAuth`, `ca`, `allowedCN`, `allowedHostname`',
    );
  }
  const tls = resolveTls("serve", options);
  return denoServe(handler, options, tls);
}

/** `handler` on `Deno.serve`, as a {@link PeerServer}. */
function denoServe(
  handler: (req: Request) => Promise<Response>,
  options: ServeOptions,
  tls: { cert: string; key: string } | undefined,
): PeerServer {
  const base = {
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port,
    signal: options.signal,
    onListen() {},
  };
  const server = tls === undefined
    ? Deno.serve(base, handler)
    : Deno.serve({ ...base, cert: tls.cert, key: tls.key }, handler);
  const addr = { hostname: server.addr.hostname, port: server.addr.port };
  options.onListen?.(addr);
  const shutdown = () => server.shutdown();
  return { addr, finished: server.finished, shutdown, [Symbol.asyncDispose]: shutdown };
}
