/**
 * A growable output buffer that encoders write into directly, so that many
 * frames can be packed into one chunk without intermediate arrays.
 *
 * @module
 */

/** An append-only byte buffer that grows by doubling. */
export class ByteWriter {
  /** The backing store; valid bytes are `[0, pos)`. */
  buf: Uint8Array<ArrayBuffer>;
  /** Number of bytes written so far. */
  pos = 0;

  /**
   * Creates a writer with `capacity` bytes of initial space, or writing
   * into `buf` (which it replaces with a larger copy if it must grow).
   */
  constructor(capacity = 4096, buf?: Uint8Array<ArrayBuffer>) {
    this.buf = buf ?? new Uint8Array(capacity);
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** Appends a 64-bit big-endian unsigned integer given as a number. */
  u64(v: number): void {
    this.ensure(8);
    this.#u32(Math.floor(v / 0x100000000));
    this.#u32(v >>> 0);
  }

  /** Overwrites the 8 bytes at `at` with `v`, big-endian (a length written after its body). */
  patchU64(at: number, v: number): void {
    const pos = this.pos;
    this.pos = at;
    this.#u32(Math.floor(v / 0x100000000));
    this.#u32(v >>> 0);
    this.pos = pos;
  }

  /** Appends a 64-bit big-endian unsigned integer given as a bigint. */
  u64big(v: bigint): void {
    this.ensure(8);
    this.#u32(Number((v >> 32n) & 0xffffffffn));
    this.#u32(Number(v & 0xffffffffn));
  }

  #u32(v: number): void {
    const b = this.buf;
    const p = this.pos;
    b[p] = v >>> 24;
    b[p + 1] = v >>> 16;
    b[p + 2] = v >>> 8;
    b[p + 3] = v;
    this.pos = p + 4;
  }

  /** Appends raw bytes. */
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Returns a copy of the written bytes and empties the writer. */
  take(): Uint8Array<ArrayBuffer> {
    const out = this.buf.slice(0, this.pos);
    this.pos = 0;
    return out;
  }

  /**
   * Hands over the written bytes without copying and starts a fresh buffer
   * of `capacity` bytes: for output that is passed on and never reused.
   */
  detach(capacity: number): Uint8Array<ArrayBuffer> {
    const out = this.buf.subarray(0, this.pos);
    this.buf = new Uint8Array(capacity);
    this.pos = 0;
    return out;
  }

  /** Empties the writer, keeping its storage. */
  reset(): void {
    this.pos = 0;
  }
}

const SLAB_SIZE = 64 * 1024;
let slab = new Uint8Array(SLAB_SIZE);
let slabUsed = 0;

/**
 * A zeroed `size`-byte array carved from a shared slab: allocating small
 * typed arrays one by one costs ten times more. The slab region is never
 * handed out twice, so the array is the caller's to keep.
 */
export function allocBytes(size: number): Uint8Array<ArrayBuffer> {
  if (size > SLAB_SIZE / 8) return new Uint8Array(size);
  if (slabUsed + size > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + size);
  slabUsed += size;
  return out;
}
