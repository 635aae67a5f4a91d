import { assertEquals, assertThrows } from "@std/assert";
import {
  exponentialBuckets,
  Histogram,
  RTT_SECONDS_BUCKETS,
  SNAPSHOT_SECONDS_BUCKETS,
} from "./histogram.ts";

Deno.test("buckets: etcd's snapshot and round-trip bounds, exactly", () => {
  assertEquals(SNAPSHOT_SECONDS_BUCKETS, [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 51.2]);
  assertEquals(RTT_SECONDS_BUCKETS.length, 16);
  assertEquals(RTT_SECONDS_BUCKETS[0], 0.0001);
  assertEquals(RTT_SECONDS_BUCKETS[15], 3.2768);
  assertEquals(RTT_SECONDS_BUCKETS.map(String).slice(0, 4), [
    "0.0001",
    "0.0002",
    "0.0004",
    "0.0008",
  ]);
});

Deno.test("buckets: invalid parameters are a RangeError naming them", () => {
  assertThrows(() => exponentialBuckets(0, 2, 3), RangeError, "start > 0");
  assertThrows(() => exponentialBuckets(1, 1, 3), RangeError, "factor > 1");
  assertThrows(() => exponentialBuckets(1, 2, 0), RangeError, "count >= 1");
});

Deno.test("Histogram: a value on a bound falls in that bound's bucket (le), above all in +Inf", () => {
  const seen: number[] = [];
  const h = new Histogram([1, 2, 4], (v) => seen.push(v));
  for (const v of [0.5, 1, 1.5, 2, 3, 100]) h.observe(v);
  assertEquals([...h.counts], [2, 2, 1, 1]);
  assertEquals(h.cumulative(), [2, 4, 5, 6]);
  assertEquals(h.count, 6);
  assertEquals(h.sum, 108);
  assertEquals(seen, [0.5, 1, 1.5, 2, 3, 100], "the recorder gets every value");
});
