/**
 * Reads a stream's response body into slabs of our own.
 *
 * @module
 */

const SLAB = 256 * 1024;

/**
 * Reads a response body into slabs of our own: fetch otherwise allocates a
 * fresh 64 KiB buffer for every read, however few bytes it carries, and
 * collecting those shows up as latency spikes. Where the body offers a BYOB
 * reader, each read lands in a reused scratch buffer and is copied into the
 * current slab; decoded messages keep views into slabs, so a slab is never
 * reused, only replaced when full.
 */
export class ChunkReader {
  #byob: ReadableStreamBYOBReader | undefined;
  #plain: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #scratch = new Uint8Array(64 * 1024);
  #slab = new Uint8Array(SLAB);
  #used = 0;

  /** Reads `body`, with a BYOB reader where it offers one. */
  constructor(body: ReadableStream<Uint8Array>) {
    try {
      this.#byob = body.getReader({ mode: "byob" });
    } catch {
      this.#plain = body.getReader(); // not a byte stream: plain reads
    }
  }

  /** The next chunk: a view into a slab, valid for as long as the caller keeps it. */
  async read(): Promise<ReadableStreamReadResult<Uint8Array>> {
    if (this.#byob === undefined) return await this.#plain!.read();
    const r = await this.#byob.read(this.#scratch);
    if (r.done || r.value === undefined) return { done: true, value: undefined };
    const got = r.value;
    this.#scratch = new Uint8Array(got.buffer); // the read transferred it
    if (this.#used + got.length > this.#slab.length) {
      this.#slab = new Uint8Array(Math.max(SLAB, got.length));
      this.#used = 0;
    }
    const out = this.#slab.subarray(this.#used, this.#used + got.length);
    out.set(got);
    this.#used += got.length;
    return { done: false, value: out };
  }

  /** Cancels the body. */
  cancel(reason?: unknown): Promise<void> {
    return (this.#byob ?? this.#plain)!.cancel(reason);
  }
}
