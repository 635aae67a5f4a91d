/**
 * The bytes of a stream that have arrived but are not yet decoded, kept as
 * the chunks they arrived in. Frames that lie inside one chunk are decoded
 * in place; only a frame that spans chunks is copied, once and alone, into a
 * slab of the queue's own. So decoding stays linear however the stream is chunked.
 *
 * @module
 */

/** Size of the slabs spanning frames are copied into. */
const SLAB = 256 * 1024;

/** A FIFO of received chunks with random access by logical offset. */
export class ChunkQueue {
  /** Received chunks; `parts[0]` starts at `head`. */
  parts: Uint8Array[] = [];
  /** Bytes of `parts[0]` already consumed. */
  head = 0;
  /** Bytes received and not yet consumed. */
  length = 0;
  /** Bytes consumed since the stream began: the stream offset of `head`. */
  consumed = 0;
  /**
   * Where spanning frames are copied: one allocation per 256 KiB instead of
   * one per frame (a peer that writes in 4 KiB pieces, as Go's net/http does,
   * makes every 16 KiB frame span chunks). Decoded messages keep views into
   * it, so a slab is only ever replaced, never reused.
   */
  #slab = new Uint8Array(0);
  #slabUsed = 0;

  /** Appends a chunk. The queue keeps a reference: do not reuse it. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.parts.push(chunk);
    this.length += chunk.length;
  }

  /** Unconsumed bytes available contiguously in `parts[0]`. */
  firstLength(): number {
    return this.parts.length === 0 ? 0 : this.parts[0].length - this.head;
  }

  /** The byte at logical offset `i` (requires `i < length`). */
  byteAt(i: number): number {
    let k = this.head + i;
    for (const p of this.parts) {
      if (k < p.length) return p[k];
      k -= p.length;
    }
    throw new RangeError(`offset ${i} is past the queued bytes`);
  }

  /**
   * The 64-bit big-endian integer at logical offset `i` (requires
   * `i + 8 <= length`), as a number; values above 2^53 lose precision, which
   * is fine for comparing them with a limit.
   */
  u64At(i: number): number {
    const p0 = this.parts[0];
    const k = this.head + i;
    let hi: number;
    let lo: number;
    if (k + 8 <= p0.length) {
      hi = ((p0[k] << 24) | (p0[k + 1] << 16) | (p0[k + 2] << 8) | p0[k + 3]) >>>
        0;
      lo = ((p0[k + 4] << 24) | (p0[k + 5] << 16) | (p0[k + 6] << 8) |
        p0[k + 7]) >>> 0;
    } else {
      hi = 0;
      lo = 0;
      for (let j = 0; j < 4; j++) hi = hi * 256 + this.byteAt(i + j);
      for (let j = 4; j < 8; j++) lo = lo * 256 + this.byteAt(i + j);
    }
    return hi * 0x100000000 + lo;
  }

  /**
   * Makes the first `n` unconsumed bytes contiguous in `parts[0]`, copying
   * exactly those `n` bytes (a frame that spans chunks) into a new buffer;
   * the rest of the last chunk they reach stays where it is.
   */
  contiguous(n: number): void {
    if (this.firstLength() >= n) return;
    if (this.#slab.length - this.#slabUsed < n) {
      this.#slab = new Uint8Array(Math.max(SLAB, n));
      this.#slabUsed = 0;
    }
    const merged = this.#slab.subarray(this.#slabUsed, this.#slabUsed + n);
    this.#slabUsed += n;
    const first = this.parts[0].subarray(this.head);
    merged.set(first);
    let at = first.length;
    let k = 1;
    while (at < n) {
      const p = this.parts[k];
      const take = Math.min(p.length, n - at);
      merged.set(p.subarray(0, take), at);
      at += take;
      if (take < p.length) {
        this.parts[k] = p.subarray(take);
        break;
      }
      k++;
    }
    this.parts.splice(0, k, merged);
    this.head = 0;
  }

  /** Consumes `n` bytes. */
  skip(n: number): void {
    this.length -= n;
    this.consumed += n;
    let k = this.head + n;
    while (this.parts.length > 0 && k >= this.parts[0].length) {
      k -= this.parts[0].length;
      this.parts.shift();
    }
    this.head = this.parts.length === 0 ? 0 : k;
  }
}
