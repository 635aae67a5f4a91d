/**
 * The replicated state machine: a map from key to value, fed by committed
 * entries in log order (the replica's `StateMachine`), and its snapshot
 * format (raftexample's: the map as a JSON object).
 *
 * @module
 */

import { consoleLogger, type Logger } from "../../mod.ts";
import type { StateMachine } from "../../replica/mod.ts";
import { type Proposal, type ProposalCodec, ProposalDecodeError } from "./codec.ts";

/**
 * Snapshot data that is not a JSON object of strings.
 *
 * @example
 * ```ts
 * import { jsonCodec } from "./codec.ts";
 * import { KvStore, SnapshotDataError } from "./store.ts";
 * try {
 *   new KvStore(jsonCodec).restoreBytes(new TextEncoder().encode("[1]"));
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

const utf8 = new TextEncoder();

// Go's encoding/json string escapes: \" \\ \n \r \t, \u00XX for other
// controls, and HTML's < > & plus U+2028/U+2029 as \uXXXX (lowercase hex).
// deno-lint-ignore no-control-regex
const NEEDS_ESCAPE = /[\u0000-\u001f"\\<>&\u2028\u2029]/;

function goJsonString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || ch === "<" || ch === ">" || ch === "&" || c === 0x2028 || c === 0x2029) {
      out += "\\u" + c.toString(16).padStart(4, "0");
    } else out += ch;
  }
  return out + '"';
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/**
 * A map of strings as Go's `json.Marshal(map[string]string)` writes it:
 * keys sorted by their UTF-8 bytes, Go's escapes, no spaces.
 *
 * @example
 * ```ts
 * import { goJsonMap } from "./store.ts";
 * console.log(new TextDecoder().decode(goJsonMap(new Map([["/b", "<"], ["/a", "1"]])))); // {"/a":"1","/b":"\u003c"}
 * ```
 */
export function goJsonMap(map: ReadonlyMap<string, string>): Uint8Array {
  const keys = [...map.keys()].map((k) => ({ k, b: utf8.encode(k) }));
  keys.sort((x, y) => compareBytes(x.b, y.b));
  const parts = keys.map(({ k }) => `${goJsonString(k)}:${goJsonString(map.get(k)!)}`);
  return utf8.encode(`{${parts.join(",")}}`);
}

/**
 * The key-value map one member holds, as the replica's state machine:
 * `apply` decodes a committed entry with the member's codec and sets the
 * key, `snapshot` gives the map as raftexample's JSON object, `restore`
 * reads one from a stream.
 *
 * @example
 * ```ts
 * import { jsonCodec } from "./codec.ts";
 * import { KvStore } from "./store.ts";
 * const s = new KvStore(jsonCodec);
 * s.apply(jsonCodec.encode({ key: "/a", value: "1" }));
 * const copy = new KvStore(jsonCodec);
 * await copy.restore(ReadableStream.from([s.snapshot()]));
 * console.log(copy.get("/a"), copy.restores); // 1 1
 * ```
 */
export class KvStore implements StateMachine<void> {
  #map = new Map<string, string>();
  readonly #codec: ProposalCodec;
  readonly #log: Logger;
  #restores = 0;

  /** An empty map fed by entries of `codec`; entries it cannot decode are logged on `log`. */
  constructor(codec: ProposalCodec, log: Logger = consoleLogger("warn")) {
    this.#codec = codec;
    this.#log = log;
  }

  /** The value of `key`, or undefined. */
  get(key: string): string | undefined {
    return this.#map.get(key);
  }

  /** Number of keys. */
  get size(): number {
    return this.#map.size;
  }

  /** How many snapshots replaced the map (at start, or sent by the leader). */
  get restores(): number {
    return this.#restores;
  }

  /**
   * Applies one committed entry. Data that is not a proposal of this codec
   * is skipped, on every member alike (they all see the same bytes), as
   * before the KV ran on the replica.
   */
  apply(command: Uint8Array, index?: bigint): void {
    let p: Proposal;
    try {
      p = this.#codec.decode(command);
    } catch (e) {
      if (!(e instanceof ProposalDecodeError)) throw e;
      this.#log.warn("skipped an entry that is not a proposal", { index, error: e.message });
      return;
    }
    this.#map.set(p.key, p.value);
  }

  /**
   * The whole map as snapshot data: a JSON object, byte for byte what
   * raftexample's `getSnapshot` (Go's `json.Marshal` of the map) writes.
   * Built at the call, so later applies do not change it.
   */
  snapshot(): Uint8Array {
    return goJsonMap(this.#map);
  }

  /** Replaces the map with a snapshot's; throws {@link SnapshotDataError} on bad data. */
  async restore(snapshot: ReadableStream<Uint8Array>): Promise<void> {
    this.restoreBytes(await new Response(snapshot).bytes());
  }

  /** Replaces the map with snapshot data; throws {@link SnapshotDataError} on bad data. */
  restoreBytes(data: Uint8Array): void {
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
    this.#restores++;
  }
}
