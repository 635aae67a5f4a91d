/**
 * etcd's version announcements and checks: which peers may talk to us, and
 * which of them support the streams.
 *
 * @module
 */

import { H } from "./headers.ts";

/** The version this transport announces: etcd 3.4's protocol. */
export const DEFAULT_SERVER_VERSION = "3.4.23";
/** The cluster version `GET /version` announces by default, as an etcd 3.4 member does. */
export const DEFAULT_CLUSTER_VERSION = "3.4.0";
/** The oldest cluster version we can join, as etcd 3.4 announces it. */
export const DEFAULT_MIN_CLUSTER_VERSION = "3.0.0";

/** Major and minor of a strict `x.y.z[-pre][+meta]` semver, or undefined if malformed. */
export function parseMajorMinor(v: string): [number, number] | undefined {
  const m = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/
    .exec(v);
  if (m === null) return undefined;
  return [Number(m[1]), Number(m[2])];
}

function less(a: [number, number], b: [number, number]): boolean {
  return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
}

/** The outcome of etcd's version compatibility check. */
export type VersionCheck = "ok" | "incompatible" | "malformed";

/**
 * etcd's `checkVersionCompatibility`: the remote's server version must not
 * be below our minimum cluster version, and its minimum cluster version must
 * not be above our version. Missing headers count as 2.0.0.
 */
export function checkVersionCompatibility(
  headers: Headers,
  localVersion: string,
  localMinClusterVersion: string,
): VersionCheck {
  const remote = parseMajorMinor(headers.get(H.serverVersion) ?? "2.0.0");
  const remoteMin = parseMajorMinor(headers.get(H.minClusterVersion) ?? "2.0.0");
  if (remote === undefined || remoteMin === undefined) return "malformed";
  const local = parseMajorMinor(localVersion)!;
  const localMin = parseMajorMinor(localMinClusterVersion)!;
  if (less(remote, localMin)) return "incompatible";
  if (less(local, remoteMin)) return "incompatible";
  return "ok";
}

/**
 * Whether a peer answering with `X-Server-Version: remoteVersion` supports
 * the streams: etcd consults its table only for peers older than itself,
 * where 2.0 (and a missing header) supports none and 2.1 to 3.4 support
 * both.
 */
export function supportsStreams(remoteVersion: string | null, localVersion: string): boolean {
  const remote = parseMajorMinor(remoteVersion ?? "2.0.0");
  if (remote === undefined) return false;
  const local = parseMajorMinor(localVersion)!;
  if (!less(remote, local)) return true;
  return !(remote[0] === 2 && remote[1] === 0) && !less(remote, [2, 0]);
}
