import { assertEquals, assertThrows } from "@std/assert";
import { resolveSnapshotResume } from "./resume_options.ts";

Deno.test("resume options: defaults, and out-of-range values name the option", () => {
  const d = resolveSnapshotResume();
  assertEquals([d.memory, d.windowSize, d.retries, d.maxBytes, d.ttlMs], [
    false,
    1 << 20,
    5,
    2 ** 30,
    600_000,
  ]);
  assertEquals(resolveSnapshotResume({ retries: 0, maxBytes: 0 }).retries, 0);
  for (
    const [o, name] of [
      [{ windowSize: 100 }, "windowSize"],
      [{ retries: -1 }, "retries"],
      [{ retryBackoffMs: 0 }, "retryBackoffMs"],
      [{ ttlMs: 1.5 }, "ttlMs"],
      [{ maxBytes: -1 }, "maxBytes"],
    ] as const
  ) {
    assertThrows(() => resolveSnapshotResume(o), RangeError, `snapshotResume.${name}`);
  }
  assertThrows(() => resolveSnapshotResume({ dir: "" }), TypeError, "snapshotResume.dir");
});
