// Member and cluster ids computed as etcd 3.4 computes them for the members
// of `--initial-cluster` (see docs: etcd-wire.md section 8), so that a Deno
// member can be configured with the ids etcd expects.

/** First 8 bytes of SHA-1(bytes), big-endian. */
async function sha1Prefix(bytes: Uint8Array<ArrayBuffer>): Promise<bigint> {
  const digest = await crypto.subtle.digest("SHA-1", bytes);
  return new DataView(digest).getBigUint64(0, false);
}

/**
 * The id etcd gives a bootstrap member: SHA-1 of its peer URLs (sorted,
 * concatenated with no separator) followed by the cluster token; the first
 * 8 bytes as a big-endian u64. The member's name is not part of it.
 */
export function memberId(peerUrls: readonly string[], token: string): Promise<bigint> {
  const input = [...peerUrls].sort().join("") + token;
  return sha1Prefix(new TextEncoder().encode(input));
}

/** The cluster id: SHA-1 of the member ids, sorted ascending, each as 8 bytes big-endian. */
export function clusterId(memberIds: readonly bigint[]): Promise<bigint> {
  const sorted = [...memberIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const buf = new Uint8Array(8 * sorted.length);
  const view = new DataView(buf.buffer);
  sorted.forEach((id, i) => view.setBigUint64(8 * i, id, false));
  return sha1Prefix(buf);
}

/** Ids of a whole bootstrap cluster given `name -> peer URLs`. */
export async function clusterIds(
  members: Record<string, string[]>,
  token: string,
): Promise<{ members: Record<string, bigint>; cluster: bigint }> {
  const ids: Record<string, bigint> = {};
  for (const [name, urls] of Object.entries(members)) ids[name] = await memberId(urls, token);
  return { members: ids, cluster: await clusterId(Object.values(ids)) };
}

/** The hex form etcd prints and sends: lowercase, no padding. */
export function hex(id: bigint): string {
  return id.toString(16);
}
