import { assert, assertEquals } from "@std/assert";
import { ProgressMeter, type SnapshotProgress } from "./progress.ts";

Deno.test("progress: attempts, throttled reports, the last one exact", async () => {
  const seen: SnapshotProgress[] = [];
  const m = new ProgressMeter(1000, (p) => seen.push(p));
  m.attempt(0);
  for (let i = 0; i < 100; i++) m.add(3); // within 100 ms: no report beyond the first
  assertEquals(seen.length, 1);
  await new Promise((r) => setTimeout(r, 110));
  m.add(100);
  assertEquals(seen.at(-1)!.sent, 400);
  m.attempt(350); // a later attempt starts where the receiver stands
  m.add(650);
  m.flush();
  const last = seen.at(-1)!;
  assertEquals([last.sent, last.total, last.attempt, last.resumedFrom], [1000, 1000, 2, 350]);
  assert(last.bytesPerSecond > 0);
  const quiet = new ProgressMeter(10);
  quiet.attempt(0);
  quiet.add(10);
  assertEquals(quiet.current.sent, 10);
});
