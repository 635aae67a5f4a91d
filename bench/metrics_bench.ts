// What a scrape costs: transport.metrics() (the Prometheus text) for a
// member with 2 and 8 peers, every series present (etcd's histograms
// included). Counting itself is a field increment on the channels' paths
// (see bench/stream_writer_bench.ts for those); this is the only place the
// metrics allocate.
//
// Run: deno bench -A bench/metrics_bench.ts
import { Transport } from "../src/transport.ts";
import { silentLogger } from "../src/logger.ts";
import type { Raft } from "../src/raft_node.ts";

const raft: Raft = {
  process() {},
  isIDRemoved: () => false,
  reportUnreachable() {},
  reportSnapshot() {},
};

function member(peers: number): Transport {
  const t = new Transport({
    id: 1n,
    clusterId: 1n,
    urls: [],
    raft,
    logger: silentLogger,
    probeIntervalMs: 0,
  });
  // Not started: peers exist (and have series) but nothing dials.
  for (let i = 2; i < 2 + peers; i++) t.addPeer(BigInt(i), [`http://127.0.0.1:${10000 + i}`]);
  return t;
}

for (const peers of [2, 8]) {
  const t = member(peers);
  Deno.bench(`metrics(): ${peers} peers`, { group: "scrape" }, () => {
    if (t.metrics().length < 1000) throw new Error("too short");
  });
}
