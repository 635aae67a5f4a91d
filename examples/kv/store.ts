/**
 * The replicated state machine: a map from key to value, fed by committed
 * entries in log order, and its snapshot format (raftexample's: the map as
 * a JSON object).
 *
 * @module
 */

import type { Proposal } from "./codec.ts";

/**
 * Snapshot data that is not a JSON object of strings.
 *
 * @example
 * ```ts
 * import { KvStore, SnapshotDataError } from "./store.ts";
 * try {
 *   new KvStore().restore(new TextEncoder().encode("[1]"));
 * } catch (e) {
 *   console.log(e instanceof SnapshotDataError); // true
 * }
 * ```
 */
export class SnapshotDataError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "SnapshotDataError";
  }
}

/**
 * The key-value map one member holds.
 *
 * @example
 * ```ts
 * import { KvStore } from "./store.ts";
 * const s = new KvStore();
 * s.apply({ key: "/a", value: "1" });
 * const copy = new KvStore();
 * copy.restore(s.snapshot());
 * console.log(copy.get("/a")); // 1
 * ```
 */
export class KvStore {
  #map = new Map<string, string>();

  /** The value of `key`, or undefined. */
  get(key: string): string | undefined {
    return this.#map.get(key);
  }

  /** Number of keys. */
  get size(): number {
    return this.#map.size;
  }

  /** Applies one committed write. */
  apply(p: Proposal): void {
    this.#map.set(p.key, p.value);
  }

  /** The whole map as snapshot data: a JSON object, as raftexample's `getSnapshot`. */
  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(Object.fromEntries(this.#map)));
  }

  /** Replaces the map with snapshot data; throws {@link SnapshotDataError} on bad data. */
  restore(data: Uint8Array): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(data));
    } catch (e) {
      throw new SnapshotDataError(`snapshot data is not JSON: ${(e as Error).message}`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new SnapshotDataError("snapshot data must be a JSON object of key to value");
    }
    const next = new Map<string, string>();
    for (const [k, v] of Object.entries(parsed)) {
      if (typeof v !== "string") {
        throw new SnapshotDataError(`snapshot value of key ${JSON.stringify(k)} is not a string`);
      }
      next.set(k, v);
    }
    this.#map = next;
  }
}
