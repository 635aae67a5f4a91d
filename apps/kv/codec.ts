/**
 * How a PUT travels through the raft log: a pluggable codec, so that a
 * member can later speak raftexample's own encoding (gob) instead of ours.
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
};
