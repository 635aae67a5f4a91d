/**
 * etcd's peer headers and id formatting: what every request to a peer
 * carries, and how ids appear in headers and paths.
 *
 * @module
 */

import { AUTH_HEADER, type RequestAuth } from "./auth.ts";

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
