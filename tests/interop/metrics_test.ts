// Our metrics next to a real etcd 3.4's: every etcd_network_* family etcd
// exposes has the same HELP and TYPE lines in ours, and each side reports
// the other as an active peer under the same labels. (etcd lists a family
// once it has a series: these are the ones a short cluster life produces.)
import { assert, assertEquals } from "@std/assert";
import { interopTest, retry } from "./etcd.ts";
import { waitUntil } from "../harness.ts";
import { MixedCluster } from "./member.ts";
import { hex } from "./ids.ts";
import { metric } from "../metrics/scrape.ts";

function families(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    const m = /^# (HELP|TYPE) (etcd_network_\S+) (.*)$/.exec(line);
    if (m === null) continue;
    out.set(m[2], [...(out.get(m[2]) ?? []), `${m[1]} ${m[3]}`]);
  }
  return out;
}

interopTest("metrics: etcd's network families have our names, help texts and types", async () => {
  await using c = await MixedCluster.start(1);
  const [etcd] = c.etcds;
  const etcdId = hex(c.idOf(etcd));
  const denoId = hex(c.denoId);
  await retry(() => etcd.put("interop/metrics", "x"), "first put", 40000);
  const t = c.deno.transport!;
  const scrape = async () => await (await fetch(`${etcd.clientUrl}/metrics`)).text();
  await waitUntil(
    async () => {
      const text = await scrape();
      return text.includes(`etcd_network_active_peers{Local="${etcdId}",Remote="${denoId}"} 1`);
    },
    20000,
    "etcd reports us as an active peer",
    200,
  );
  // etcd lists a family once it has a series; client_grpc_* is not rafthttp's.
  const theirs = families(await scrape());
  for (const name of theirs.keys()) {
    if (name.startsWith("etcd_network_client_")) theirs.delete(name);
  }
  const ours = families(t.metrics());
  for (
    const name of [
      "etcd_network_active_peers",
      "etcd_network_peer_sent_bytes_total",
      "etcd_network_peer_received_bytes_total",
    ]
  ) assert(theirs.has(name), `etcd exposes ${name}: ${[...theirs.keys()]}`);
  for (const [name, lines] of theirs) {
    assertEquals(ours.get(name), lines, `${name}: HELP and TYPE as etcd's`);
  }
  assertEquals(
    metric(t.metrics(), "etcd_network_active_peers", { Local: denoId, Remote: etcdId }),
    1,
  );
  assert(metric(t.metrics(), "etcd_network_peer_sent_bytes_total", { To: etcdId }) > 0);
});
