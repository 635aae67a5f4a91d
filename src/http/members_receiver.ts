/**
 * `GET /members` on the peer port, as an etcd 3.4 member serves it: the
 * member list as JSON (what a member joining the cluster reads), sorted by
 * id, with `X-Etcd-Cluster-ID`. etcd writes the id as a JSON number (its
 * uint64 in decimal, measured against etcd 3.4.23, not hex), then `peerURLs`,
 * `isLearner` (only when true), `name` and `clientURLs` (only when not
 * empty), and a newline after the array.
 *
 * @module
 */

import type { MemberInfo } from "./member_info.ts";
import type { Receiver } from "./receiver.ts";

const MAX_ID = (1n << 64n) - 1n;

/** Go's encoding/json escapes these in strings; JSON.stringify does not. */
function goString(s: string): string {
  return JSON.stringify(s).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function urlList(urls: readonly string[]): string {
  return `[${urls.map((u) => goString(String(u))).join(",")}]`;
}

/**
 * The body of `GET /members`, byte for byte as etcd's `json.Encoder` writes
 * it. Throws a TypeError naming the member for an id that is not a uint64.
 */
export function membersBody(members: readonly MemberInfo[]): string {
  const sorted = [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const items = sorted.map((m) => {
    if (typeof m.id !== "bigint" || m.id < 0n || m.id > MAX_ID) {
      throw new TypeError(`member id ${String(m.id)} is not a uint64`);
    }
    let s = `{"id":${m.id},"peerURLs":${urlList(m.peerURLs ?? [])}`;
    if (m.isLearner === true) s += `,"isLearner":true`;
    if (m.name !== undefined && m.name !== "") s += `,"name":${goString(m.name)}`;
    if (m.clientURLs !== undefined && m.clientURLs.length > 0) {
      s += `,"clientURLs":${urlList(m.clientURLs)}`;
    }
    return s + "}";
  });
  return `[${items.join(",")}]\n`;
}

/**
 * Builds the `GET /members` receiver over `members` (called per request).
 * The router checks the method (405 with `Allow: GET`, without the cluster
 * id, as etcd) and adds `X-Etcd-Cluster-ID` to the answer.
 */
export function membersReceiver(members: () => readonly MemberInfo[]): Receiver {
  return () =>
    new Response(membersBody(members()), { headers: { "Content-Type": "application/json" } });
}
