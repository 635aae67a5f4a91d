import { assert, assertEquals, assertThrows } from "@std/assert";
import { ArgsError, parseArgs, PLANTED_BUGS, USAGE } from "./args.ts";

const CLUSTER = "http://127.0.0.1:12379,http://127.0.0.1:22379,http://127.0.0.1:32379";

Deno.test("args: raftexample's flags, with its defaults", () => {
  const d = parseArgs([]);
  assertEquals([d.id, d.cluster, d.port, d.join], [1n, ["http://127.0.0.1:9021"], 9121, false]);
  assertEquals([d.snapshotCount, d.catchUpEntries, d.tickMs, d.requestTimeoutMs], [
    10000,
    10000,
    100,
    5000,
  ]);
  const a = parseArgs(["--id", "3", "--cluster", CLUSTER, "--port", "32380", "--join"]);
  assertEquals(a.id, 3n);
  assertEquals(a.cluster.length, 3);
  assertEquals(a.port, 32380);
  assertEquals(a.join, true);
  assertEquals(a.dataDir, "kv-3");
  assertEquals([d.raftexampleCompat, parseArgs(["--raftexample-compat"]).raftexampleCompat], [
    false,
    true,
  ]);
});

Deno.test("args: Go flag forms -flag, --flag=value, --bool=false", () => {
  const a = parseArgs([
    "-id=2",
    `-cluster=${CLUSTER}`,
    "-port",
    "1",
    "--join=false",
    "--test-hooks",
  ]);
  assertEquals([a.id, a.port, a.join, a.testHooks], [2n, 1, false, true]);
  const b = parseArgs(["--data-dir", "/tmp/x", "--snapshot-count", "5", "--catch-up-entries", "0"]);
  assertEquals([b.dataDir, b.snapshotCount, b.catchUpEntries], ["/tmp/x", 5, 0]);
});

Deno.test("args: bad command lines say which flag is wrong", () => {
  const bad: [string[], RegExp][] = [
    [["--id", "x"], /--id must be an integer/],
    [["--id", "0"], /--id must be an integer >= 1/],
    [["--id", "4", "--cluster", CLUSTER], /--id 4 has no URL in --cluster \(3 given\)/],
    [["--port", "70000"], /--port must be at most 65535/],
    [["--cluster", "not a url"], /invalid URL/],
    [["--cluster", "ftp://h:1"], /must be http/],
    [["--cluster", "http://127.0.0.1"], /needs a port/],
    [["--nope"], /unknown flag --nope/],
    [["--port"], /--port needs a value/],
    [["--join=yes"], /--join takes no value/],
    [["stray"], /unexpected argument "stray"/],
    [["--plant-bug", "stale-read"], /--plant-bug is for fault tests only: it needs --test-hooks/],
    [["--test-hooks", "--plant-bug", "nope"], /--plant-bug must be one of ack-before-commit/],
    [["--test-hooks", "--plant-bug"], /--plant-bug needs a value/],
    [["--lazy-disk=maybe"], /--lazy-disk takes no value/],
  ];
  for (const [argv, message] of bad) {
    const e = assertThrows(() => parseArgs(argv), ArgsError);
    if (!message.test(e.message)) {
      throw new Error(`${argv.join(" ")}: "${e.message}" !~ ${message}`);
    }
  }
});

Deno.test("args: fault-test flags: --lazy-disk, and --plant-bug only with --test-hooks", () => {
  const d = parseArgs([]);
  assertEquals([d.lazyDisk, d.plantBug, d.testHooks], [false, undefined, false]);
  assertEquals(parseArgs(["--lazy-disk"]).lazyDisk, true);
  assertEquals(d.diskFaults, false);
  assertEquals(parseArgs(["--test-hooks", "--disk-faults"]).diskFaults, true);
  assertThrows(() => parseArgs(["--disk-faults"]), ArgsError, "it needs --test-hooks");
  for (const bug of PLANTED_BUGS) {
    assertEquals(parseArgs(["--test-hooks", `--plant-bug=${bug}`]).plantBug, bug);
  }
  assertEquals(PLANTED_BUGS, ["ack-before-commit", "stale-read", "ack-before-fsync"]);
  for (const flag of ["--lazy-disk", "--plant-bug", "/_test/disk/fail-fsync", "/_test/joint"]) {
    assert(USAGE.includes(flag), `USAGE documents ${flag}`);
  }
});
