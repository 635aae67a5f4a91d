import { assertEquals } from "@std/assert";
import { Deadlines, SWEEP_MS } from "./deadlines.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("deadlines: an aborted signal ends its wait at the next sweep, not its time limit", async () => {
  const d = new Deadlines();
  const seen: string[] = [];
  const ac = new AbortController();
  d.add(Infinity, () => seen.push("timeout a"), ac.signal, () => seen.push("abort a"));
  d.add(30, () => seen.push("timeout b"), new AbortController().signal, () => seen.push("abort b"));
  const cancel = d.add(
    Infinity,
    () => seen.push("timeout c"),
    ac.signal,
    () => seen.push("abort c"),
  );
  cancel();
  assertEquals(d.size, 2);
  ac.abort();
  await sleep(3 * SWEEP_MS);
  assertEquals(seen, ["abort a"], "a is ended by its signal; the cancelled c by nothing");
  await sleep(30);
  assertEquals(seen, ["abort a", "timeout b"]);
  assertEquals(d.size, 0);
  await sleep(2 * SWEEP_MS); // the interval stops at the sweep that finds nothing
});

Deno.test("deadlines: no time limit and no signal: nothing to time", () => {
  const d = new Deadlines();
  d.add(Infinity, () => {});
  assertEquals(d.size, 0);
});
