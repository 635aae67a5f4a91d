/**
 * `GET /version` on the peer port, as an etcd 3.4 member serves it:
 * `{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}` as `application/json`,
 * no trailing newline. etcd leaders read it from every member to decide the
 * cluster version (the lowest `etcdserver` of all members, as major.minor.0);
 * a member that does not answer keeps the cluster at 3.0.0 and makes the
 * leader log "failed to get version" every few seconds.
 *
 * @module
 */

import type { Config } from "../options.ts";
import type { Receiver } from "./receiver.ts";

/** The options the version receiver reads. */
export type VersionReceiverConfig = Pick<Config, "serverVersion" | "clusterVersion">;

/** The body of `GET /version`, byte for byte as etcd's `json.Marshal` writes it. */
export function versionBody(cfg: VersionReceiverConfig): string {
  return JSON.stringify({ etcdserver: cfg.serverVersion, etcdcluster: cfg.clusterVersion });
}

/** Builds the `GET /version` receiver (the router checks the method: 405 with `Allow: GET`). */
export function versionReceiver(cfg: VersionReceiverConfig): Receiver {
  const body = versionBody(cfg);
  return () => new Response(body, { headers: { "Content-Type": "application/json" } });
}
