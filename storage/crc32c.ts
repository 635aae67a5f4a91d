/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): the checksum of WAL
 * records and snapshot files. Table-driven, eight bytes per step ("slicing by
 * 8") so that checksumming a large snapshot stays cheap next to writing it.
 *
 * @module
 */

const POLY = 0x82f63b78;

// TABLES[k][b]: the CRC of byte b followed by k zero bytes; TABLES[0] is the
// classic byte-at-a-time table.
const TABLES: Uint32Array[] = buildTables();

function buildTables(): Uint32Array[] {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let b = 0; b < 256; b++) {
    let c = b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    tables[0][b] = c >>> 0;
  }
  for (let b = 0; b < 256; b++) {
    for (let k = 1; k < 8; k++) {
      const prev = tables[k - 1][b];
      tables[k][b] = ((prev >>> 8) ^ tables[0][prev & 0xff]) >>> 0;
    }
  }
  return tables;
}

/**
 * Continues a CRC-32C over `data`. Start with `crc = 0` (the default); feed
 * the result back in to checksum a message given in pieces.
 *
 * @example
 * ```ts
 * import { crc32c } from "./crc32c.ts";
 * const whole = crc32c(new TextEncoder().encode("123456789"));
 * console.log(whole.toString(16)); // "e3069283"
 * ```
 */
export function crc32c(data: Uint8Array, crc = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES;
  let c = ~crc >>> 0;
  let i = 0;
  const end8 = data.length - (data.length % 8);
  for (; i < end8; i += 8) {
    const lo = (c ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24))) >>>
      0;
    c = t7[lo & 0xff] ^ t6[(lo >>> 8) & 0xff] ^ t5[(lo >>> 16) & 0xff] ^ t4[lo >>> 24] ^
      t3[data[i + 4]] ^ t2[data[i + 5]] ^ t1[data[i + 6]] ^ t0[data[i + 7]];
  }
  for (; i < data.length; i++) c = t0[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
