import { assert, assertEquals } from "@std/assert";
import { PeerStatus } from "./status.ts";
import { recordingLogger } from "../testdata/recording_logger.ts";

Deno.test("PeerStatus: starts inactive, with no since and no log line", () => {
  const log = recordingLogger();
  const s = new PeerStatus("2", log);
  assertEquals(s.active, false);
  assertEquals(s.since, undefined);
  assertEquals(log.lines, []);
});

Deno.test("PeerStatus: activate sets since once; repeated activate keeps it", async () => {
  const log = recordingLogger();
  const s = new PeerStatus("2", log);
  const before = Date.now();
  s.activate();
  assert(s.active);
  const since = s.since!;
  assert(since instanceof Date);
  assert(since.getTime() >= before && since.getTime() <= Date.now());
  await new Promise((r) => setTimeout(r, 5));
  s.activate();
  s.activate();
  assert(s.since === since, "a repeated activate must keep the first activation time");
  assertEquals(log.lines, [
    { level: "info", msg: "peer became active", fields: { "remote-peer-id": "2" } },
  ]);
});

Deno.test("PeerStatus: deactivate clears since and logs the reason once", () => {
  const log = recordingLogger();
  const s = new PeerStatus("1f", log);
  s.deactivate("never active"); // inactive already: nothing to log
  assertEquals(log.lines, []);
  s.activate();
  s.deactivate("connection refused");
  s.deactivate("again");
  assertEquals(s.active, false);
  assertEquals(s.since, undefined);
  assertEquals(log.lines.length, 2);
  assertEquals(log.lines[1], {
    level: "warn",
    msg: "peer became inactive (message send to peer failed)",
    fields: { "remote-peer-id": "1f", error: "connection refused" },
  });
  assertEquals(s.disconnects, 1, "one active-to-inactive transition");
});

Deno.test("PeerStatus: one line per transition, and a fresh since after reactivation", async () => {
  const log = recordingLogger();
  const s = new PeerStatus("3", log);
  s.activate();
  const first = s.since!;
  s.deactivate("stream closed");
  await new Promise((r) => setTimeout(r, 5));
  s.activate();
  s.activate();
  assert(s.active);
  assert(s.since!.getTime() > first.getTime(), "reactivation must set a new since");
  assertEquals(log.lines.map((l) => l.level), ["info", "warn", "info"]);
});
