/**
 * The digests of the snapshot extension, chosen by measurement (Deno 2.9.6
 * here, 1 MiB inputs, `deno run -A bench/snapshot_digest.ts`): CRC-32 from
 * `node:zlib` checks about 8 GB/s of data not in cache; `node:crypto`'s
 * streaming SHA-256 hashes 1.3-1.4 GB/s, SHA-1 1.4-1.5, MD5 0.41-0.45,
 * SHA-512 0.37-0.39, BLAKE2b-512 0.44-0.53 GB/s; WebCrypto's SHA-256 (one
 * call per window) 0.9-1.1 GB/s, on the JavaScript thread too. Against a
 * 1 GB/s snapshot path SHA-256 alone costs three quarters of the time per
 * byte on each side; CRC-32 an eighth. The digest guards against corruption
 * in transit (a digest without a key authenticates nothing: that is TLS's
 * and request signing's job), which CRC-32 per window detects (every burst
 * up to 32 bits, others but for 1 in 2^32). So the sender offers CRC-32,
 * then SHA-256, and the receiver takes the first it has; runtimes without
 * `node:zlib`'s `crc32` use SHA-256 (`node:crypto`, or WebCrypto on
 * workerd); with none, the plain protocol. The `node:` modules are imported
 * lazily so that runtimes without them still load the module.
 *
 * @module
 */

/** A running digest of one window. */
export interface Hasher {
  update(data: Uint8Array): void;
  /** The digest of everything fed; the hasher is finished afterwards. */
  digest(): Promise<Uint8Array>;
}

/** Digests of one algorithm. */
export interface Digest {
  /** Its name on the wire (`X-Rafthttp-Snapshot-Digest`). */
  readonly name: string;
  /** Digest length, bytes. */
  readonly size: number;
  /** A running digest (fed views; it neither copies nor keeps them beyond `digest()`). */
  create(): Hasher;
}

/** SHA-256's name on the wire. */
export const DIGEST_NAME = "sha256";
/** SHA-256's digest length, bytes. */
export const DIGEST_SIZE = 32;

/** WebCrypto's SHA-256: the parts are gathered and digested at once. */
const subtleSha256: Digest = {
  name: DIGEST_NAME,
  size: DIGEST_SIZE,
  create() {
    let parts: Uint8Array[] = [];
    let n = 0;
    return {
      update(d) {
        parts.push(d);
        n += d.length;
      },
      async digest() {
        const all = new Uint8Array(n);
        let at = 0;
        for (const p of parts) at += (all.set(p, at), p.length);
        parts = [];
        return new Uint8Array(await crypto.subtle.digest("SHA-256", all));
      },
    };
  },
};

let loading: Promise<readonly Digest[]> | undefined;

/** CRC-32 (IEEE, as zlib and Ethernet): 4 bytes, big-endian. */
function crc32Digest(crc32: (d: Uint8Array, v?: number) => number): Digest {
  return {
    name: "crc32",
    size: 4,
    create() {
      let c = 0;
      return {
        update: (d) => void (c = crc32(d, c)),
        digest: () => {
          const out = new Uint8Array(4);
          new DataView(out.buffer).setUint32(0, c >>> 0);
          return Promise.resolve(out);
        },
      };
    },
  };
}

/** SHA-256 from `node:crypto`, streaming. */
function nodeSha256(createHash: typeof import("node:crypto").createHash): Digest {
  return {
    name: DIGEST_NAME,
    size: DIGEST_SIZE,
    create(): Hasher {
      const h = createHash(DIGEST_NAME);
      return {
        update: (d) => void h.update(d),
        digest: () => Promise.resolve(new Uint8Array(h.digest())),
      };
    },
  };
}

/**
 * The digests this runtime has, best first: CRC-32 from `node:zlib`, SHA-256
 * from `node:crypto` (both imported here, when a snapshot first moves),
 * SHA-256 from WebCrypto. Empty where none is (plain protocol then).
 */
export function loadDigests(): Promise<readonly Digest[]> {
  loading ??= (async () => {
    const found: Digest[] = [];
    try {
      const zlib = await import("node:zlib") as { crc32?: (d: Uint8Array, v?: number) => number };
      const crc32 = zlib.crc32;
      // The check value of CRC-32: "123456789" -> cbf43926.
      if (
        typeof crc32 === "function" && crc32(new TextEncoder().encode("123456789")) === 0xcbf43926
      ) {
        found.push(crc32Digest(crc32));
      }
    } catch { /* no node:zlib */ }
    try {
      const { createHash } = await import("node:crypto");
      createHash(DIGEST_NAME).update(new Uint8Array(1)).digest();
      found.push(nodeSha256(createHash));
    } catch {
      if (typeof crypto === "object" && typeof crypto.subtle?.digest === "function") {
        found.push(subtleSha256);
      }
    }
    return found;
  })();
  return loading;
}

/** The preferred digest of this runtime, or undefined. */
export async function loadDigest(): Promise<Digest | undefined> {
  return (await loadDigests())[0];
}

/** The digest called `name` if this runtime has it. */
export async function digestNamed(name: string): Promise<Digest | undefined> {
  return (await loadDigests()).find((d) => d.name === name);
}

/** WebCrypto's SHA-256 (the fallback of {@link loadDigest}), for tests. */
export const SUBTLE_SHA256: Digest = subtleSha256;

/** The digest of the whole data: the digest of its windows' digests, in order. */
export function chainDigest(d: Digest, windows: readonly Uint8Array[]): Promise<Uint8Array> {
  const h = d.create();
  for (const w of windows) h.update(w);
  return h.digest();
}

/** True when `a` and `b` hold the same bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
