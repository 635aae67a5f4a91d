/**
 * The envelope around each command in the log: a version byte, the id of
 * the replica that proposed it and that replica's sequence number, then the
 * command's bytes. The proposer knows its own entry by (origin, seq) when it
 * applies it, whatever else is in flight; other replicas ignore both.
 *
 * Layout: `0x01`, origin as an unsigned LEB128 varint, seq as one, command.
 *
 * @module
 */

/**
 * The envelope version this code writes and reads.
 *
 * @example
 * ```ts
 * import { ENVELOPE_VERSION } from "@rafthttp/rafthttp/replica";
 * console.log(ENVELOPE_VERSION); // 1
 * ```
 */
export const ENVELOPE_VERSION = 1;

/**
 * A decoded envelope.
 *
 * @example
 * ```ts
 * import { decodeEnvelope, encodeEnvelope } from "@rafthttp/rafthttp/replica";
 * const e = decodeEnvelope(encodeEnvelope(1n, 7n, new Uint8Array([42])));
 * console.log(e.origin, e.seq, e.command); // 1n 7n Uint8Array(1) [ 42 ]
 * ```
 */
export interface Envelope {
  /** The replica that proposed the entry. */
  origin: bigint;
  /** The proposer's sequence number. */
  seq: bigint;
  /** The command, as given to `propose` (a view into the entry's bytes). */
  command: Uint8Array;
}

/**
 * An entry's bytes are not an envelope of a known version.
 *
 * @example
 * ```ts
 * import { decodeEnvelope, EnvelopeError } from "@rafthttp/rafthttp/replica";
 * try {
 *   decodeEnvelope(new Uint8Array([9]));
 * } catch (e) {
 *   console.log(e instanceof EnvelopeError); // true
 * }
 * ```
 */
export class EnvelopeError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "EnvelopeError";
  }
}

function varintLength(n: bigint): number {
  let len = 1;
  while (n >= 0x80n) {
    n >>= 7n;
    len++;
  }
  return len;
}

function putVarint(out: Uint8Array, at: number, n: bigint): number {
  while (n >= 0x80n) {
    out[at++] = Number(n & 0x7fn) | 0x80;
    n >>= 7n;
  }
  out[at++] = Number(n);
  return at;
}

/**
 * The entry bytes for `command` proposed by `origin` as its `seq`-th.
 *
 * @example
 * ```ts
 * import { encodeEnvelope } from "@rafthttp/rafthttp/replica";
 * console.log(encodeEnvelope(1n, 300n, new Uint8Array([7]))); // Uint8Array(5) [ 1, 1, 172, 2, 7 ]
 * ```
 */
export function encodeEnvelope(origin: bigint, seq: bigint, command: Uint8Array): Uint8Array {
  if (origin < 0n || seq < 0n) throw new RangeError("envelope ids must not be negative");
  const out = new Uint8Array(1 + varintLength(origin) + varintLength(seq) + command.length);
  out[0] = ENVELOPE_VERSION;
  let at = putVarint(out, 1, origin);
  at = putVarint(out, at, seq);
  out.set(command, at);
  return out;
}

function readVarint(data: Uint8Array, at: number): [bigint, number] {
  let n = 0n;
  for (let shift = 0n; shift < 70n; shift += 7n) {
    if (at >= data.length) throw new EnvelopeError("truncated envelope");
    const b = data[at++];
    n |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return [n, at];
  }
  throw new EnvelopeError("envelope varint too long");
}

/**
 * Reads an envelope; throws {@link EnvelopeError} on bytes that are not one.
 *
 * @example
 * ```ts
 * import { decodeEnvelope } from "@rafthttp/rafthttp/replica";
 * console.log(decodeEnvelope(new Uint8Array([1, 1, 172, 2, 7])).seq); // 300n
 * ```
 */
export function decodeEnvelope(data: Uint8Array): Envelope {
  if (data.length === 0 || data[0] !== ENVELOPE_VERSION) {
    throw new EnvelopeError(
      `not a replica envelope (version byte ${data[0] ?? "missing"}, expected ${ENVELOPE_VERSION})`,
    );
  }
  const [origin, afterOrigin] = readVarint(data, 1);
  const [seq, at] = readVarint(data, afterOrigin);
  return { origin, seq, command: data.subarray(at) };
}
