import { assert, assertEquals, assertFalse } from "@std/assert";
import {
  chainDigest,
  DIGEST_SIZE,
  digestNamed,
  loadDigest,
  loadDigests,
  sameBytes,
  SUBTLE_SHA256,
} from "./digest.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

Deno.test("digest: sha256 of known input, streamed, from node:crypto and from WebCrypto", async () => {
  const d = await digestNamed("sha256");
  if (d === undefined) throw new Error("no SHA-256 here");
  for (const x of [d, SUBTLE_SHA256]) {
    const h = x.create();
    h.update(new TextEncoder().encode("ab"));
    h.update(new TextEncoder().encode("c"));
    assertEquals(
      hex(await h.digest()),
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    assertEquals(x.size, DIGEST_SIZE);
  }
});

Deno.test("digest: CRC-32 first (its check value), then SHA-256", async () => {
  assertEquals((await loadDigests()).map((d) => d.name), ["crc32", "sha256"]);
  const crc = (await loadDigest())!;
  const h = crc.create();
  h.update(new TextEncoder().encode("12345"));
  h.update(new TextEncoder().encode("6789"));
  assertEquals(hex(await h.digest()), "cbf43926");
  assertEquals(await digestNamed("md5"), undefined);
});

Deno.test("digest: the chain depends on every window and their order", async () => {
  const d = (await loadDigest())!;
  const a = new Uint8Array(32).fill(1);
  const b = new Uint8Array(32).fill(2);
  assertFalse(sameBytes(await chainDigest(d, [a, b]), await chainDigest(d, [b, a])));
  assertFalse(sameBytes(await chainDigest(d, [a]), await chainDigest(d, [a, b])));
  assert(sameBytes(await chainDigest(d, [a, b]), await chainDigest(d, [a, b])));
  assertFalse(sameBytes(new Uint8Array(2), new Uint8Array(3)));
});
