// The snapshot data of the snapshot fault tests: byte i is byteAt(i), made
// on demand in 64 KiB chunks, so that any range can be produced again (a
// resumed send's reopen) and checked on arrival without holding it.

/** Byte i of every snapshot here. */
export const byteAt = (i: number): number => (i * 7 + (i >>> 11)) & 0xff;

/** The data from byte `from` to `size`, in 64 KiB chunks made on demand. */
export function generated(size: number, from = 0): ReadableStream<Uint8Array> {
  let at = from;
  return new ReadableStream({
    pull(c) {
      const n = Math.min(64 * 1024, size - at);
      if (n === 0) return c.close();
      const chunk = new Uint8Array(n);
      for (let i = 0; i < n; i++) chunk[i] = byteAt(at + i);
      at += n;
      c.enqueue(chunk);
    },
  }, { highWaterMark: 0 });
}
