/**
 * Who is in the cluster besides raft's ids: each member's peer URLs and the
 * ids that were removed. It starts from `peers`, follows the applied conf
 * changes (the URLs travel in their context), and is kept in each raft
 * snapshot's `data` (the state machine's data is a file apart), so that a
 * member restarted or caught up from a snapshot still knows the URLs of
 * members whose conf changes were compacted away.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface TableJson {
  v: 1;
  urls: Record<string, string[]>;
  removed: string[];
}

/**
 * The peer URLs in a conf change's context: the URL as UTF-8 text, as the
 * KV (and raftexample) write it; several URLs joined by commas.
 *
 * @example
 * ```ts
 * import { decodeUrlsContext, encodeUrlsContext } from "@rafthttp/rafthttp/replica";
 * console.log(decodeUrlsContext(encodeUrlsContext(["http://a:1", "http://b:1"]))); // [ "http://a:1", "http://b:1" ]
 * ```
 */
export function encodeUrlsContext(urls: readonly string[]): Uint8Array {
  return encoder.encode(urls.join(","));
}

/**
 * The URLs of a conf change's context (none for an empty one).
 *
 * @example
 * ```ts
 * import { decodeUrlsContext } from "@rafthttp/rafthttp/replica";
 * console.log(decodeUrlsContext(new TextEncoder().encode("http://127.0.0.1:9004"))); // [ "http://127.0.0.1:9004" ]
 * ```
 */
export function decodeUrlsContext(context: Uint8Array): string[] {
  if (context.length === 0) return [];
  return decoder.decode(context).split(",").map((u) => u.trim()).filter((u) => u !== "");
}

/**
 * The URL table of one replica.
 *
 * @example
 * ```ts
 * import { MemberTable } from "@rafthttp/rafthttp/replica";
 * const t = new MemberTable(new Map([[1n, ["http://127.0.0.1:9001"]]]));
 * t.remove(1n);
 * const again = MemberTable.decode(t.encode())!;
 * console.log(again.isRemoved(1n), again.urls(1n)); // true [ "http://127.0.0.1:9001" ]
 * ```
 */
export class MemberTable {
  readonly #urls: Map<bigint, string[]>;
  readonly #removed: Set<bigint>;

  /** A table of `urls` (a copy), with `removed` ids. */
  constructor(urls: ReadonlyMap<bigint, readonly string[]>, removed: Iterable<bigint> = []) {
    this.#urls = new Map([...urls].map(([id, u]) => [id, [...u]]));
    this.#removed = new Set(removed);
  }

  /** Reads a table written by {@link encode}; undefined for empty data. */
  static decode(data: Uint8Array): MemberTable | undefined {
    if (data.length === 0) return undefined;
    const json = JSON.parse(decoder.decode(data)) as TableJson;
    if (json.v !== 1) throw new Error(`unknown member table version ${json.v}`);
    const urls = new Map(Object.entries(json.urls).map(([id, u]) => [BigInt(id), u]));
    return new MemberTable(urls, json.removed.map((id) => BigInt(id)));
  }

  /** The table as bytes (JSON), for a raft snapshot's `data`. */
  encode(): Uint8Array {
    const json: TableJson = {
      v: 1,
      urls: Object.fromEntries([...this.#urls].map(([id, u]) => [`${id}`, u])),
      removed: [...this.#removed].map((id) => `${id}`),
    };
    return encoder.encode(JSON.stringify(json));
  }

  /** Peer URLs of `id` (empty if unknown). */
  urls(id: bigint): string[] {
    return this.#urls.get(id) ?? [];
  }

  /** Members known with URLs and not removed. */
  known(): bigint[] {
    return [...this.#urls.keys()].filter((id) => !this.#removed.has(id));
  }

  /** True if `id` was removed from the cluster. */
  isRemoved(id: bigint): boolean {
    return this.#removed.has(id);
  }

  /** Records member `id` (added or re-added); URLs are kept when `urls` is empty. */
  add(id: bigint, urls: readonly string[]): void {
    this.#removed.delete(id);
    if (urls.length > 0) this.#urls.set(id, [...urls]);
  }

  /** Records the removal of `id`. */
  remove(id: bigint): void {
    this.#removed.add(id);
  }

  /**
   * Takes a snapshot's table: its URLs and removals win; URLs of members it
   * does not name are kept (from `peers`, for a member joining).
   */
  replaceWith(other: MemberTable): void {
    for (const [id, u] of other.#urls) this.#urls.set(id, [...u]);
    this.#removed.clear();
    for (const id of other.#removed) this.#removed.add(id);
  }
}
