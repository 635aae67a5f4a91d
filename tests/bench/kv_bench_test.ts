import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { KvCluster, type KvImpl } from "../../bench/kv_cluster.ts";
import { runLevel } from "../../bench/kv_load.ts";
import { formatTable } from "../../bench/kv_bench.ts";

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
