import { assertEquals } from "@std/assert";
import { CONFIRM_MS, Link, WriteWindows } from "./link.ts";

Deno.test("WriteWindows: nothing heard after the writes: all of them are unconfirmed", () => {
  const w = new WriteWindows(0);
  w.wrote(3, 10, 0);
  w.wrote(2, 20, 0);
  assertEquals(w.unconfirmed(0), 5);
  assertEquals(w.unconfirmed(20 + CONFIRM_MS - 1), 5);
});

Deno.test("WriteWindows: bytes heard well after the last write confirm everything", () => {
  const w = new WriteWindows(0);
  w.wrote(3, 10, 0);
  w.wrote(2, 20, 0);
  assertEquals(w.unconfirmed(20 + CONFIRM_MS), 0);
});

Deno.test("WriteWindows: writes older than the confirmation window are confirmed, newer ones are not", () => {
  const w = new WriteWindows(0);
  let heard = 0;
  // A message every 50 ms, the peer heard from every 50 ms (its heartbeats).
  for (let t = 50; t <= 2000; t += 50) {
    heard = t - 1;
    w.wrote(1, t, heard);
  }
  // The link dies after t = 2000: the last byte heard at 1999.
  const lost = w.unconfirmed(heard);
  // At most two windows' worth (written after 1999 - 2 * CONFIRM_MS), at least the last write.
  assertEquals(lost >= 1 && lost <= (2 * CONFIRM_MS) / 50 + 1, true, `lost ${lost}`);
  // Then writes go on into the dead link for 1 s with nothing heard: all counted.
  for (let t = 2050; t <= 3000; t += 50) w.wrote(1, t, heard);
  assertEquals(w.unconfirmed(heard), lost + 20);
});

Deno.test("Link: dead() tells every listener, each time", () => {
  const l = new Link();
  const got: string[] = [];
  l.onDead((r) => got.push(`a:${r}`));
  l.onDead((r) => got.push(`b:${r}`));
  l.dead("silent");
  l.dead("again");
  assertEquals(got, ["a:silent", "b:silent", "a:again", "b:again"]);
});
