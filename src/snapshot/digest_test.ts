import { assert, assertEquals, assertFalse } from "@std/assert";
import { chainDigest, DIGEST_SIZE, loadDigest, sameBytes } from "./digest.ts";

Deno.test("digest: sha256 of known input, streaming equals one shot", async () => {
  const d = await loadDigest();
  if (d === undefined) throw new Error("node:crypto is missing");
  const h = d.create();
  h.update(new TextEncoder().encode("ab"));
  h.update(new TextEncoder().encode("c"));
  const hex = Array.from(h.digest(), (b) => b.toString(16).padStart(2, "0")).join("");
  assertEquals(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assertEquals(d.size, DIGEST_SIZE);
});

Deno.test("digest: the chain depends on every window and their order", async () => {
  const d = (await loadDigest())!;
  const a = new Uint8Array(32).fill(1);
  const b = new Uint8Array(32).fill(2);
  assertFalse(sameBytes(chainDigest(d, [a, b]), chainDigest(d, [b, a])));
  assertFalse(sameBytes(chainDigest(d, [a]), chainDigest(d, [a, b])));
  assert(sameBytes(chainDigest(d, [a, b]), chainDigest(d, [a, b])));
  assertFalse(sameBytes(new Uint8Array(2), new Uint8Array(3)));
});
