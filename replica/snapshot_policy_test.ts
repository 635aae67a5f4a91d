import { assertEquals } from "@std/assert";
import { compactIndexFor } from "./snapshot_policy.ts";

Deno.test("snapshot policy: keeps catch-up entries behind the applied index", () => {
  assertEquals(compactIndexFor(25000n, 10000, 1n), 15000n);
  assertEquals(compactIndexFor(100n, 0, 1n), 100n);
  assertEquals(compactIndexFor(100n, 10, 91n), undefined); // already compacted past 90
  assertEquals(compactIndexFor(100n, 10, 90n), 90n);
  assertEquals(compactIndexFor(5n, 10, 1n), undefined);
});
