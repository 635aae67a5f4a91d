// The payload byte stream of the peer benchmark protocol
// (bench/PROTOCOL.md): xorshift32 with state 0x92D68CA2,
// shifts 13/17/5, each 32-bit output written little-endian; a payload of
// SIZE bytes is the first SIZE bytes of the stream.

/** The seed of the payload stream. */
export const PAYLOAD_SEED = 0x92d68ca2;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** A position in the payload stream; `fill` continues where the last call stopped. */
export class PayloadStream {
  #x = PAYLOAD_SEED;
  #tail: Uint8Array | undefined; // bytes of a word cut by the previous fill

  /** The next 32-bit word of the stream. */
  next(): number {
    let x = this.#x;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#x = x >>> 0;
    return this.#x;
  }

  /** Writes the next `out.length` bytes of the stream into `out`. */
  fill(out: Uint8Array): void {
    let i = 0;
    if (this.#tail !== undefined) {
      const t = this.#tail;
      const n = Math.min(t.length, out.length);
      out.set(t.subarray(0, n));
      this.#tail = n < t.length ? t.subarray(n) : undefined;
      i = n;
      if (this.#tail !== undefined) return;
    }
    const words = (out.length - i) >>> 2;
    if (LITTLE_ENDIAN && ((out.byteOffset + i) & 3) === 0) {
      const u32 = new Uint32Array(out.buffer, out.byteOffset + i, words);
      let x = this.#x;
      for (let j = 0; j < words; j++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        u32[j] = x;
      }
      this.#x = x >>> 0;
      i += words * 4;
    } else {
      const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
      for (let j = 0; j < words; j++, i += 4) dv.setUint32(i, this.next(), true);
    }
    if (i < out.length) {
      const word = new Uint8Array(4);
      new DataView(word.buffer).setUint32(0, this.next(), true);
      const n = out.length - i;
      out.set(word.subarray(0, n), i);
      this.#tail = word.subarray(n);
    }
  }
}

/** The first `size` bytes of the payload stream. */
export function payload(size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  new PayloadStream().fill(out);
  return out;
}

/**
 * The same bytes as {@link payload}, built `slice` bytes at a time with a
 * turn of the event loop between slices: a member builds a snapshot's
 * payload (a second or more for 1 GiB) after its streams are up, and its
 * link heartbeats must keep going meanwhile, or its peer declares the link
 * dead. `slice` must be a multiple of 4.
 */
export async function payloadYielding(
  size: number,
  slice = 8 << 20,
): Promise<Uint8Array<ArrayBuffer>> {
  if (slice <= 0 || slice % 4 !== 0) throw new RangeError(`slice ${slice}: want a multiple of 4`);
  const out = new Uint8Array(size);
  const stream = new PayloadStream();
  for (let off = 0; off < size; off += slice) {
    stream.fill(out.subarray(off, Math.min(size, off + slice)));
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return out;
}

/**
 * Compares a file with the payload stream, reading it in 1 MiB pieces.
 * Returns the offset of the first differing byte, or -1 if it matches.
 */
export async function verifyPayloadFile(path: string): Promise<number> {
  using file = await Deno.open(path);
  const got = new Uint8Array(1 << 20);
  const want = new Uint8Array(1 << 20);
  const stream = new PayloadStream();
  let offset = 0;
  for (;;) {
    // fill `got` completely (or to EOF) so that the stream stays word-aligned
    let n = 0;
    while (n < got.length) {
      const r = await file.read(got.subarray(n));
      if (r === null) break;
      n += r;
    }
    if (n === 0) return -1;
    stream.fill(want.subarray(0, n));
    const words = n >>> 2;
    const g32 = new Uint32Array(got.buffer, 0, words);
    const w32 = new Uint32Array(want.buffer, 0, words);
    for (let i = 0; i < words; i++) {
      if (g32[i] !== w32[i]) return offset + firstDiff(got, want, i * 4);
    }
    const at = firstDiff(got.subarray(0, n), want.subarray(0, n), words * 4);
    if (at >= 0) return offset + at;
    offset += n;
    if (n < got.length) return -1;
  }
}

function firstDiff(a: Uint8Array, b: Uint8Array, from: number): number {
  for (let i = from; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}
