/**
 * How a PUT travels through the raft log: a pluggable codec (ours, JSON
 * with an id; or raftexample's gob, `gob.ts`). The log holds exactly what
 * the codec writes (the replica's raw entries), and the codec names each
 * entry for the member that waits for it.
 *
 * @module
 */

/** One write: set `key` to `value`. */
export interface Proposal {
  /** The key, as the HTTP path (raftexample keeps the leading `/`). */
  key: string;
  /** The value, the PUT's body. */
  value: string;
  /**
   * A unique id, so that the member that proposed it knows when it was
   * applied. Codecs that cannot carry one leave it out; writes are then
   * matched by key and value.
   */
  id?: string;
}

/**
 * Turns proposals into entry data and back.
 *
 * @example
 * ```ts
 * import { jsonCodec } from "./codec.ts";
 * const data = jsonCodec.encode({ key: "/a", value: "1", id: "x" });
 * console.log(jsonCodec.decode(data).value); // 1
 * ```
 */
export interface ProposalCodec {
  /** A short name, for logs. */
  readonly name: string;
  /** Encodes a proposal as entry data. */
  encode(p: Proposal): Uint8Array;
  /** Decodes entry data; throws {@link ProposalDecodeError} if it is not a proposal. */
  decode(data: Uint8Array): Proposal;
  /**
   * What the member that proposed the entry knows it by (the replica's
   * `rawEntries.match`): its id, or {@link contentKey} for a codec without
   * ids; undefined for data that is not a proposal.
   */
  waitKey(data: Uint8Array): string | undefined;
}

/**
 * The wait key of a proposal without an id: its key and value (a NUL
 * between them, which neither a URL path nor the waits need).
 *
 * @example
 * ```ts
 * import { contentKey } from "./codec.ts";
 * console.log(JSON.stringify(contentKey({ key: "/a", value: "1" }))); // "/a\u00001"
 * ```
 */
export function contentKey(p: Proposal): string {
  return `${p.key}\u0000${p.value}`;
}

/**
 * Entry data that is not a proposal of this codec (another encoding, or
 * corruption). Every member sees the same bytes, so each skips the entry.
 *
 * @example
 * ```ts
 * import { jsonCodec, ProposalDecodeError } from "./codec.ts";
 * try {
 *   jsonCodec.decode(new Uint8Array([1, 2]));
 * } catch (e) {
 *   console.log(e instanceof ProposalDecodeError); // true
 * }
 * ```
 */
export class ProposalDecodeError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "ProposalDecodeError";
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
const ascii = new TextDecoder();

/** `,"i":"` + a UUID (36 characters) + `"}`: how an entry we wrote ends. */
const ID_TAIL = encoder.encode(',"i":"');
const UUID_CHARS = 36;
const TAIL_BYTES = ID_TAIL.length + UUID_CHARS + 2;

/**
 * The id at the end of a JSON proposal, read without parsing the rest (it
 * runs for every entry appended while writes wait). Inside a JSON string a
 * quote is escaped, so these bytes can only be the `i` field itself.
 */
function tailId(data: Uint8Array): string | undefined {
  const n = data.length;
  if (n < TAIL_BYTES + 2 || data[n - 1] !== 0x7d || data[n - 2] !== 0x22) return undefined;
  const at = n - TAIL_BYTES;
  for (let i = 0; i < ID_TAIL.length; i++) if (data[at + i] !== ID_TAIL[i]) return undefined;
  for (let i = at + ID_TAIL.length; i < n - 2; i++) {
    const c = data[i];
    const hexOrDash = (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || c === 0x2d;
    if (!hexOrDash) return undefined;
  }
  return ascii.decode(data.subarray(at + ID_TAIL.length, n - 2));
}

/**
 * Our default codec: `{"k":KEY,"v":VALUE,"i":ID}` as UTF-8 JSON.
 *
 * @example
 * ```ts
 * import { jsonCodec } from "./codec.ts";
 * console.log(new TextDecoder().decode(jsonCodec.encode({ key: "/a", value: "1" }))); // {"k":"/a","v":"1"}
 * ```
 */
export const jsonCodec: ProposalCodec = {
  name: "json",
  encode(p: Proposal): Uint8Array {
    const wire: Record<string, string> = { k: p.key, v: p.value };
    if (p.id !== undefined) wire.i = p.id;
    return encoder.encode(JSON.stringify(wire));
  },
  decode(data: Uint8Array): Proposal {
    let wire: unknown;
    try {
      wire = JSON.parse(decoder.decode(data));
    } catch (e) {
      throw new ProposalDecodeError(`entry data is not a JSON proposal: ${(e as Error).message}`);
    }
    if (typeof wire !== "object" || wire === null) {
      throw new ProposalDecodeError("entry data is JSON but not an object");
    }
    const { k, v, i } = wire as Record<string, unknown>;
    if (typeof k !== "string" || typeof v !== "string") {
      throw new ProposalDecodeError('a JSON proposal needs string fields "k" and "v"');
    }
    if (i !== undefined && typeof i !== "string") {
      throw new ProposalDecodeError('the "i" field of a JSON proposal must be a string');
    }
    return i === undefined ? { key: k, value: v } : { key: k, value: v, id: i };
  },
  waitKey(data: Uint8Array): string | undefined {
    const fast = tailId(data);
    if (fast !== undefined) return fast;
    try {
      const p = jsonCodec.decode(data);
      return p.id ?? contentKey(p);
    } catch {
      return undefined;
    }
  },
};
