/**
 * etcd's peer headers, id formatting and version checks.
 *
 * @module
 */

import { AUTH_HEADER, type RequestAuth } from "./auth.ts";

/** The version this transport announces: etcd 3.4's protocol. */
export const DEFAULT_SERVER_VERSION = "3.4.23";
/** The oldest cluster version we can join, as etcd 3.4 announces it. */
export const DEFAULT_MIN_CLUSTER_VERSION = "3.0.0";

/** Header names, as etcd sends them (HTTP header names are case-insensitive). */
export const H = {
  from: "X-Server-From",
  serverVersion: "X-Server-Version",
  minClusterVersion: "X-Min-Cluster-Version",
  clusterId: "X-Etcd-Cluster-ID",
  raftTo: "X-Raft-To",
  peerUrls: "X-PeerURLs",
} as const;

/** Formats an id as etcd does: lowercase hex, no prefix, no padding. */
export function formatId(id: bigint): string {
  return id.toString(16);
}

const HEX_U64 = /^[0-9a-fA-F]{1,16}$/;

/**
 * Parses an id as Go's `strconv.ParseUint(s, 16, 64)` does (any case,
 * leading zeros allowed); undefined if it is not a 64-bit hex number.
 */
export function parseId(s: string | null): bigint | undefined {
  if (s === null) return undefined;
  const t = s.replace(/^0+(?=[0-9a-fA-F])/, "");
  if (!HEX_U64.test(t)) return undefined;
  return BigInt("0x" + t);
}

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

/** The identity headers every request to a peer carries. */
export interface LocalIdentity {
  id: bigint;
  clusterId: bigint;
  urls: string[];
  serverVersion: string;
  minClusterVersion: string;
  /** Request signing, when enabled. */
  auth?: RequestAuth;
}

/** Builds the headers etcd sends on every peer request. */
export function identityHeaders(local: LocalIdentity): Record<string, string> {
  const h: Record<string, string> = {
    [H.from]: formatId(local.id),
    [H.serverVersion]: local.serverVersion,
    [H.minClusterVersion]: local.minClusterVersion,
    [H.clusterId]: formatId(local.clusterId),
  };
  if (local.urls.length > 0) h[H.peerUrls] = [...local.urls].sort().join(",");
  return h;
}

/**
 * The headers of a request to a peer: etcd's identity headers, `extra`, and
 * the signature when request signing is on.
 */
export async function requestHeaders(
  local: LocalIdentity,
  method: string,
  url: string,
  extra: Record<string, string> = {},
): Promise<Record<string, string>> {
  const h = { ...identityHeaders(local), ...extra };
  if (local.auth !== undefined) {
    h[AUTH_HEADER] = await local.auth.sign(
      method,
      new URL(url).pathname,
      formatId(local.id),
      formatId(local.clusterId),
    );
  }
  return h;
}

/**
 * Checks and normalises peer URLs: http or https, a host, no path, query
 * or credentials. Throws a TypeError naming the bad URL.
 */
export function normalizeUrls(urls: readonly string[]): string[] {
  if (urls.length === 0) throw new TypeError("a peer needs at least one URL");
  return urls.map((u) => {
    let url: URL;
    try {
      url = new URL(u);
    } catch {
      throw new TypeError(`invalid peer URL ${JSON.stringify(u)}: not a URL`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new TypeError(`invalid peer URL ${JSON.stringify(u)}: scheme must be http or https`);
    }
    if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash || url.username) {
      throw new TypeError(`invalid peer URL ${JSON.stringify(u)}: must be scheme://host:port only`);
    }
    return `${url.protocol}//${url.host}`;
  }).sort();
}
