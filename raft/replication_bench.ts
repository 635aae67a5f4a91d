/**
 * The core alone: a three-member in-memory cluster (MemoryStorage, no
 * I/O) replicating and applying 100-byte proposals, 64 per batch.
 */

import { bytes, TestCluster } from "./testing/test_cluster.ts";

const data = bytes("x".repeat(100));

Deno.bench("raft core: 3 members replicate and apply 6400 proposals in batches of 64", {
  n: 5,
}, () => {
  const c = new TestCluster([1n, 2n, 3n]);
  c.elect(1n);
  const leader = c.get(1n).node;
  for (let batch = 0; batch < 100; batch++) {
    for (let j = 0; j < 64; j++) leader.propose(data);
    c.stabilize();
  }
  if (c.get(3n).applied.length < 6400) throw new Error("proposals were not applied");
});
