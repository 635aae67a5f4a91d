/**
 * The HTTP side of a transport: a web-standard `(Request) => Promise<Response>`
 * for a member's peer port, as etcd serves it: everything under `/raft`, and
 * `GET /version` and `GET /members`. It authenticates (when signing is on), finds
 * the route, checks the method, and calls the channel's receiver; every
 * refusal a receiver throws becomes etcd's reply here, and nothing escapes:
 * an unexpected error is logged and answered 500.
 *
 * @module
 */

import type { Config } from "../options.ts";
import { F, type RateLimitedLog } from "../logger.ts";
import { H } from "./headers.ts";
import { HttpError } from "./http_error.ts";
import type { Receiver, ReceiverContext } from "./receiver.ts";
import { probingReceiver } from "./probing.ts";
import { pipelineReceiver } from "../pipeline/receiver.ts";
import { snapshotReceiver } from "../snapshot/receiver.ts";
import { streamReceiver } from "../stream/receiver.ts";
import { STREAM_PREFIX } from "../stream/types.ts";
import { versionReceiver, type VersionReceiverConfig } from "./version_receiver.ts";
import { membersReceiver } from "./members_receiver.ts";
import type { PipelineReceiverConfig } from "../pipeline/receiver.ts";
import type { SnapshotReceiverConfig } from "../snapshot/receiver.ts";
import type { StreamReceiverConfig } from "../stream/receiver.ts";

/** The options the router and the receivers read. */
export type RouterConfig =
  & Pick<Config, "auth" | "serverVersion">
  & VersionReceiverConfig
  & PipelineReceiverConfig
  & SnapshotReceiverConfig
  & StreamReceiverConfig;

/** One endpoint: its method (any when absent), the headers of its replies, its receiver. */
interface Route {
  method?: string;
  headers: Record<string, string>;
  receive: Receiver;
  /** Extensions add their headers to its answers (a stream dial's). */
  answered?: boolean;
}

/**
 * The paths an etcd member's peer port serves, and so the handler: what a
 * server edge hands to it (everything else goes to the edge's fallback).
 */
export function isPeerPortPath(path: string): boolean {
  return path === "/raft" || path.startsWith("/raft/") || path === "/version" ||
    path === "/members";
}

/** Builds the handler of a transport. */
export function createHandler(
  ctx: ReceiverContext,
  cfg: RouterConfig,
  log: RateLimitedLog,
): (req: Request) => Promise<Response> {
  const cluster = { [H.clusterId]: ctx.admission.clusterId };
  const routes = new Map<string, Route>([
    ["/raft", { method: "POST", headers: cluster, receive: pipelineReceiver(ctx, cfg) }],
    ["/raft/snapshot", { method: "POST", headers: cluster, receive: snapshotReceiver(ctx, cfg) }],
    ["/raft/probing", { headers: {}, receive: probingReceiver }],
    ["/version", { method: "GET", headers: {}, receive: versionReceiver(cfg) }],
    ["/members", { method: "GET", headers: cluster, receive: membersReceiver(ctx.members) }],
  ]);
  // Extensions' endpoints answer as etcd's POST endpoints do (the host kept them off etcd's paths).
  for (const [path, r] of ctx.extensions.routes) {
    routes.set(path, { method: r.method, headers: cluster, receive: (req) => r.handle(req) });
  }
  const stream: Route = {
    method: "GET",
    headers: { [H.serverVersion]: cfg.serverVersion, ...cluster },
    receive: streamReceiver(ctx, cfg),
    answered: true,
  };
  return async (req) => {
    let headers: Record<string, string> = {};
    try {
      const path = new URL(req.url).pathname;
      await authenticate(req, path, cfg, log);
      const route = routes.get(path) ?? (path.startsWith(STREAM_PREFIX) ? stream : undefined);
      if (route === undefined) throw new HttpError(404, "404 page not found");
      if (route.method !== undefined && req.method !== route.method) {
        throw new HttpError(405, "Method Not Allowed", { Allow: route.method });
      }
      headers = route.headers;
      const res = await route.receive(req, path);
      if (route.answered && res.status === 200) ctx.extensions.answer(req, path, res);
      for (const name in headers) res.headers.set(name, headers[name]);
      return res;
    } catch (e) {
      await req.body?.cancel().catch(() => {});
      if (e instanceof HttpError) return e.toResponse(headers);
      log.event("handler", "error", "unexpected error in the raft handler", {
        [F.error]: e instanceof Error ? e.stack : String(e),
      });
      return new HttpError(500, "internal error").toResponse();
    }
  };
}

/** With request signing on, 401 for a request without a valid, fresh signature. */
async function authenticate(
  req: Request,
  path: string,
  cfg: Pick<Config, "auth">,
  log: RateLimitedLog,
): Promise<void> {
  if (cfg.auth === undefined) return;
  const refused = await cfg.auth.verify(req, path);
  if (refused === undefined) return;
  log.event("refused:auth", "warn", "refused an unauthenticated request", {
    path,
    [F.remote]: req.headers.get(H.from),
    reason: refused,
  });
  throw new HttpError(401, `unauthorized: ${refused}`);
}
