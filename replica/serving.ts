/**
 * The replica's peer port: where `serve()` listens (this member's URL unless
 * told), the handler for a server of the user's own, and `/metrics` (the
 * transport's metrics and the replica's gauges) when asked for.
 *
 * @module
 */

import type { ServeOptions, Transport } from "../mod.ts";
import type { RawNode } from "../raft/mod.ts";
import type { ReplicaConfig, ReplicaServeOptions } from "./options.ts";

/**
 * What the metrics read of a replica.
 *
 * @example
 * ```ts ignore
 * const text = metricsText(node); // a ReplicaNode is a MetricsSource
 * ```
 */
export interface MetricsSource {
  /** The core. */
  raft: RawNode;
  /** The transport, once started. */
  transport: Transport | undefined;
  /** The index of the last entry applied. */
  appliedIndex: bigint;
  /** Proposals and reads in flight. */
  readonly proposer: { table: { size: number } };
  /** Reads in flight. */
  readonly reads: { size: number };
}

const gauge = (name: string, help: string, value: bigint | number) =>
  `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${name} ${value}\n`;

/**
 * The transport's metrics and the replica's gauges, in the Prometheus text
 * format 0.0.4.
 *
 * @example
 * ```ts ignore
 * console.log(metricsText(node)); // ... rafthttp_replica_applied_index 42 ...
 * ```
 */
export function metricsText(src: MetricsSource): string {
  const s = src.raft.status();
  return (src.transport?.metrics() ?? "") +
    gauge("rafthttp_replica_applied_index", "Index of the last entry applied.", src.appliedIndex) +
    gauge("rafthttp_replica_commit_index", "Raft's commit index.", s.commit) +
    gauge("rafthttp_replica_term", "Raft's current term.", s.term) +
    gauge("rafthttp_replica_is_leader", "1 if this replica leads.", s.state === "leader" ? 1 : 0) +
    gauge("rafthttp_replica_proposals_pending", "Proposals waiting.", src.proposer.table.size) +
    gauge("rafthttp_replica_reads_pending", "Reads waiting.", src.reads.size);
}

function metricsResponse(src: MetricsSource): Response {
  return new Response(metricsText(src), {
    headers: { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" },
  });
}

const isMetrics = (req: Request) =>
  req.method === "GET" && new URL(req.url).pathname === "/metrics";

/**
 * `serve()`'s options for this member: its URL's host and port unless told, `/metrics` if asked.
 *
 * @example
 * ```ts ignore
 * const server = await serve(transport, serveOptionsFor(cfg, cfg.serve, node)); // 127.0.0.1:9001 for http://127.0.0.1:9001
 * ```
 */
export function serveOptionsFor(
  cfg: ReplicaConfig<unknown>,
  s: ReplicaServeOptions,
  src: MetricsSource,
): ServeOptions {
  const url = new URL(cfg.urls[0]);
  const port = s.port ?? Number(url.port || (url.protocol === "https:" ? 443 : 80));
  const hostname = s.hostname ?? url.hostname.replace(/^\[|\]$/g, "");
  const fallback = s.fallback;
  return {
    ...s,
    hostname,
    port,
    metrics: false,
    fallback: cfg.metrics
      ? (req) => isMetrics(req) ? metricsResponse(src) : fallback?.(req) ?? notFound()
      : fallback,
  };
}

/**
 * The peer port's handler for a server of the user's own (with `/metrics` if asked).
 *
 * @example
 * ```ts ignore
 * Deno.serve({ port: 9001 }, replicaHandler(cfg, transport, node));
 * ```
 */
export function replicaHandler(
  cfg: ReplicaConfig<unknown>,
  transport: Transport,
  src: MetricsSource,
): (req: Request) => Promise<Response> {
  const inner = transport.handler();
  if (!cfg.metrics) return inner;
  return (req) => isMetrics(req) ? Promise.resolve(metricsResponse(src)) : inner(req);
}

function notFound(): Response {
  return new Response("404 page not found\n", { status: 404 });
}
