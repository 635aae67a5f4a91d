import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import {
  combineRounds,
  CompareFlagError,
  compareLevel,
  formatCompareTable,
  parseCompareFlags,
  type RoundResult,
} from "../../bench/kv_compare.ts";
import { etcdV2Api, raftexampleApi } from "../../bench/kv_cluster.ts";
import { EtcdUnavailableError, etcdVersion } from "../../bench/kv_impls.ts";

Deno.test("kv-compare flags: defaults, both spellings, and errors that name the flag", () => {
  const d = parseCompareFlags([]);
  assertEquals([d.clients, d.durationMs, d.rounds, d.warmupMs], [[1, 16, 64, 256], 5000, 2, 2000]);
  assertEquals([d.json, d.dir, d.etcd], [undefined, undefined, "etcd"]);
  assertEquals(
    parseCompareFlags([], (n) => n === "RAFTHTTP_ETCD" ? "/opt/etcd" : undefined).etcd,
    "/opt/etcd",
  );
  const o = parseCompareFlags([
    "--clients=1,16",
    "--duration-ms",
    "1500",
    "--rounds=1",
    "--warmup-ms",
    "0",
    "--json",
    "out.json",
    "--dir=d",
    "--etcd",
    "/x/etcd",
  ]);
  assertEquals(o, {
    clients: [1, 16],
    durationMs: 1500,
    rounds: 1,
    warmupMs: 0,
    json: "out.json",
    dir: "d",
    etcd: "/x/etcd",
  });
  const bad: [string[], string][] = [
    [["--clients", "1,x"], "--clients"],
    [["--clients", "0"], "--clients"],
    [["--duration-ms", "-5"], "--duration-ms"],
    [["--rounds", "1.5"], "--rounds"],
    [["--rounds"], "--rounds needs a value"],
    [["--json="], "--json needs a value"],
    [["--speed", "3"], "unknown flag --speed"],
  ];
  for (const [argv, says] of bad) {
    const e = assertThrows(() => parseCompareFlags(argv), CompareFlagError);
    assert(e.message.includes(says), `${argv.join(" ")}: ${e.message}`);
  }
});

function round(latencies: number[], elapsedMs: number, errors = 0, cpu = 1): RoundResult {
  return {
    load: {
      latencies,
      acked: latencies.map((_, i) => ({ key: `k${i}`, value: `${i}` })),
      errors,
      elapsedMs,
      clientCpuPercent: 10,
      memberCpuMsPerPut: cpu,
    },
    sampled: latencies.length,
    missing: 0,
  };
}

Deno.test("kv-compare: rounds combine by total PUTs over total time and pooled latencies", () => {
  // 100 PUTs of 1..100 ms in 1 s, then 50 PUTs of 101..150 ms in 1 s.
  const a = round(Array.from({ length: 100 }, (_, i) => i + 1), 1000, 2, 0.5);
  const b = round(Array.from({ length: 50 }, (_, i) => 150 - i), 1000, 1, 2);
  const f = combineRounds([a, b]);
  assertEquals([f.puts, f.errors, f.sampled, f.missing], [150, 3, 150, 0]);
  assertEquals(f.putsPerSec, 75);
  assertEquals(f.memberCpuMsPerPut, 1); // (100 × 0.5 + 50 × 2) / 150
  assertEquals(f.p50Ms, 76); // the 75th of 150 sorted (0-based)
  assertEquals(f.p99Ms, 149);
  assertEquals(f.rounds.map((r) => [r.putsPerSec, r.p50Ms, r.errors]), [[100, 51, 2], [
    50,
    126,
    1,
  ]]);
  const empty = combineRounds([round([], 1000)]);
  assertEquals(empty.putsPerSec, 0);
  assert(Number.isNaN(empty.p50Ms));
});

Deno.test("kv-compare: ratios are ours/etcd and the table shows every level", () => {
  const ours = combineRounds([round([2, 2, 2, 4], 1000, 1)]);
  const etcd = combineRounds([round([1, 1, 1, 1, 2, 2, 2, 8], 1000)]);
  const l = compareLevel(16, ours, etcd);
  assertAlmostEquals(l.ratio.putsPerSec, 0.5);
  assertAlmostEquals(l.ratio.p50, 1);
  assertAlmostEquals(l.ratio.p99, 0.5);
  const table = formatCompareTable([l, compareLevel(1, combineRounds([round([], 10)]), etcd)]);
  const rows = table.split("\n");
  assertEquals(rows.length, 4);
  assertEquals(
    rows[2],
    "| 16 | 4 | 8 | 0.50× | 2.00 | 2.00 | 1.00× | 4.00 | 8.00 | 0.50× | 1.00 / 1.00 | 1 / 0 | 0/4 / 0/8 |",
  );
  assert(rows[3].startsWith("| 1 | 0 | 8 | 0.00× | - | 2.00 | -× |"), rows[3]);
});

Deno.test("kv-compare: etcd's v2 API and raftexample's, as requests and answers", async () => {
  const p = etcdV2Api.put("http://h:1", "a-1", "x y&z");
  assertEquals(p.url, "http://h:1/v2/keys/a-1");
  assertEquals(p.init.method, "PUT");
  assertEquals(new URLSearchParams(p.init.body as string).get("value"), "x y&z");
  assertEquals([etcdV2Api.putDone(201), etcdV2Api.putDone(200), etcdV2Api.putDone(204)], [
    true,
    true,
    false,
  ]);
  const body = JSON.stringify({ action: "get", node: { key: "/a-1", value: "v" } });
  assertEquals(etcdV2Api.readValue(200, body), "v");
  assertEquals(etcdV2Api.readValue(404, '{"errorCode":100}'), undefined);
  assertEquals(etcdV2Api.readValue(200, "not json"), undefined);
  const ours = raftexampleApi("?stale");
  assertEquals(ours.put("http://h:1", "k", "v").url, "http://h:1/k");
  assertEquals(ours.readUrl("http://h:1", "k"), "http://h:1/k?stale");
  assertEquals([ours.putDone(204), ours.readValue(404, "Failed")], [true, undefined]);
  const e = await etcdVersion("/nonexistent/etcd").catch((e) => e);
  assert(e instanceof EtcdUnavailableError);
  assert(e.message.includes("apt-get install etcd-server"), e.message);
});

Deno.test("kv-compare without etcd: exit 2 and what to install, nothing started", async () => {
  const main = new URL("../../bench/kv_compare.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", main, "--etcd", "/nonexistent/etcd", "--clients", "1"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 2, err);
  assert(err.includes("apt-get install etcd-server"), err);
  assert(!err.includes("leader elected"), err);
});
