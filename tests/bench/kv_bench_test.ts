import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { KvCluster, type KvImpl } from "../../bench/kv_cluster.ts";
import { runLevel } from "../../bench/kv_load.ts";
import { formatRounds, formatTable } from "../../bench/kv_bench.ts";
import type { LevelResult } from "../../bench/kv_load.ts";

const FAKE = new URL("./fake_kv_member.ts", import.meta.url).pathname;

const fake: KvImpl = {
  name: "fake",
  command: (id, cluster, port, dataDir) => ({
    cmd: Deno.execPath(),
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-read",
      "--allow-write",
      FAKE,
      ...["--id", `${id}`, "--cluster", cluster.join(","), "--port", `${port}`],
      ...["--data-dir", dataDir],
    ],
  }),
  localReadSuffix: "",
  acksAfterCommit: true,
};

Deno.test("kv-bench harness: three members, a short level, figures and a table; all stopped", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kv_bench_test_" });
  const cluster = await KvCluster.start(fake, dir);
  try {
    await cluster.waitReady(20_000);
    const r = await runLevel(cluster, 4, 300, "t");
    assert(r.puts > 0 && r.errors === 0, JSON.stringify(r));
    assertEquals([r.impl, r.clients, r.missing], ["fake", 4, 0]);
    assert(r.sampled > 0 && r.sampled <= 300);
    assert(r.p50Ms > 0 && r.p99Ms >= r.p50Ms);
    assert(r.memberCpuMsPerPut !== undefined && r.memberCpuMsPerPut > 0, "members' CPU read");
    assert(r.allReadableMs !== undefined && r.allReadableMs >= 300);
    const table = formatTable([r], new Map([["other", "not built\nmore"]]));
    assertStringIncludes(table, "| fake | 4 |");
    assertStringIncludes(table, "other: not available (not built)");
  } finally {
    await cluster.stop();
  }
  for (const api of cluster.apis) { // every member process is gone
    const res = await fetch(`${api}/x`).catch(() => undefined);
    await res?.body?.cancel();
    assertEquals(res, undefined, `${api} still answers`);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("kv-bench rounds: medians per level and ours / baseline as the median of paired rounds", () => {
  const r = (impl: string, putsPerSec: number, p50Ms = 1): LevelResult => ({
    impl,
    clients: 1,
    durationMs: 1000,
    puts: putsPerSec,
    errors: 0,
    putsPerSec,
    p50Ms,
    p99Ms: 2 * p50Ms,
    allReadableMs: undefined,
    readablePutsPerSec: undefined,
    missing: 0,
    sampled: 0,
    missingKeys: [],
    clientCpuPercent: undefined,
  });
  assertEquals(formatRounds([r("ours", 100)]), "", "one round: no rounds table");
  const table = formatRounds([
    r("ours", 90),
    r("baseline", 100),
    r("baseline", 50, 3),
    r("ours", 60, 2),
    r("ours", 100),
    r("baseline", 100),
  ]);
  // ours 90, 60, 100 (median 90); ratios 0.9, 1.2, 1.0 -> median 1.0
  assertStringIncludes(
    table,
    "| ours | 1 | 3 | 90 | 60-100 | 1.00 | 2.00 | - | 1.000 (0.90-1.20) |",
  );
  assertStringIncludes(table, "| baseline | 1 | 3 | 100 | 50-100 | 1.00 | 2.00 | - |  |");
});
