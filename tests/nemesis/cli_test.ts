import { assertEquals, assertThrows } from "@std/assert";
import { formatCli, parseCli } from "./cli.ts";
import { Partitions } from "./partition.ts";

Deno.test("cli: defaults, every flag, and the command line written back", () => {
  const d = parseCli([]);
  assertEquals([d.targets, d.seconds, d.members, d.net, d.seed], [
    ["ours"],
    60,
    5,
    "auto",
    undefined,
  ]);
  const o = parseCli([
    "--target=all",
    "--seed",
    "9",
    "--minutes",
    "2",
    "--members",
    "3",
    "--faults",
    "kill,pause",
    "--member-flags",
    "--plant-bug stale-read",
    "--net",
    "loopback",
    "--out",
    "x",
    "--stale-reads",
  ]);
  assertEquals(o.targets, ["ours", "raftexample", "etcd"]);
  assertEquals([o.seed, o.seconds, o.members, o.kinds, o.memberFlags], [9, 120, 3, [
    "kill",
    "pause",
  ], "--plant-bug stale-read"]);
  assertEquals(o.staleReads, true);
  assertEquals(parseCli(formatCli(o)), o);
});

Deno.test("cli: bad flags are named", () => {
  assertThrows(() => parseCli(["--target", "zookeeper"]), Error, "--target must be one of");
  assertThrows(() => parseCli(["--members", "1"]), Error, "--members needs a number from 3 to 9");
  assertThrows(() => parseCli(["--faults", "kill,boom"]), Error, '"boom"');
  assertThrows(() => parseCli(["--frobnicate"]), Error, "unknown flag --frobnicate");
  assertThrows(() => parseCli(["stray"]), Error, 'unexpected argument "stray"');
});

Deno.test("partitions: a pair two partitions cut is mended when the last one heals", async () => {
  const calls: string[] = [];
  const p = new Partitions(
    (a, b, on) => Promise.resolve(void calls.push(`${on ? "cut" : "mend"} ${a}-${b}`)),
    false,
  );
  await p.cut([[1, 2], [1, 3]]);
  await p.cut([[2, 1]]); // the same pair, the other way round
  assertEquals(p.size, 2);
  await p.mend([[1, 2], [1, 3]]);
  assertEquals(p.pairsOf(1), [[1, 2]]);
  await p.mend([[2, 1]]);
  assertEquals(calls, ["cut 1-2", "cut 1-3", "mend 1-3", "mend 2-1"]);
  assertEquals(p.size, 0);
});
