// The bugs a member can be started with for fault tests (`--plant-bug`),
// each shown to change what a client sees, beside the same case without it:
// ack-before-commit answers a PUT on a leader cut off from its followers
// (a write the cluster then never has); stale-read answers a GET on a
// partitioned old leader with the value it had (the others moved on);
// ack-before-fsync reaches the replica as its planted bug (whose effect,
// acks before the fsync, replica/durability_test.ts shows).
import { assert, assertEquals, assertRejects } from "@std/assert";
import { silentLogger } from "../../mod.ts";
import { FaultyFs } from "../../storage/mod.ts";
import { jsonCodec } from "./codec.ts";
import type { KvNode } from "./node.ts";
import { replicaOptions } from "./node.ts";
import type { PlantedBug } from "./args.ts";
import { KvStore } from "./store.ts";
import { leaderOf, startCluster } from "./testdata/nodes.ts";

/** Three members with `bug` planted on each (or none); `fn` runs on them. */
async function withCluster(
  bug: PlantedBug | undefined,
  fn: (nodes: KvNode[]) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "kv-planted-" });
  const { nodes } = await startCluster(root, 3, 10000, { plantBug: bug });
  try {
    await fn(nodes);
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    await Deno.remove(root, { recursive: true });
  }
}

/** Cuts `victim` off from every other member, both ways. */
function isolate(nodes: KvNode[], victim: KvNode): KvNode[] {
  const others = nodes.filter((n) => n !== victim);
  for (const o of others) {
    o.cutPeer(victim.id);
    victim.cutPeer(o.id);
  }
  return others;
}

/** Waits until `node` has applied `key` = `value`. */
async function applied(node: KvNode, key: string, value: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await node.get(key, true) === value) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`member ${node.id} did not apply ${key}=${value} within 2 s`);
}

/** A leader among `nodes` other than `old`, once the majority elected one. */
async function newLeader(nodes: KvNode[], old: KvNode): Promise<KvNode> {
  for (let i = 0; i < 20; i++) {
    const l = await leaderOf(nodes);
    if (l !== old) return l;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("the majority elected no new leader");
}

for (const bug of ["ack-before-commit", undefined] as const) {
  Deno.test(`planted bugs: a PUT on a cut-off leader, ${bug ?? "no bug"}`, async () => {
    await withCluster(bug, async (nodes) => {
      const leader = await leaderOf(nodes);
      await leader.put("/k", "before"); // with the bug, answered before it is there:
      for (const n of nodes) await applied(n, "/k", "before"); // wait until it is, everywhere
      const others = isolate(nodes, leader);
      const committed = leader.status().commit as bigint;
      const put = leader.put("/k", "lost", AbortSignal.timeout(1500));
      if (bug === undefined) {
        await assertRejects(() => put); // never a false 204
      } else {
        await put; // answered...
        await new Promise((r) => setTimeout(r, 100));
        const s = leader.status();
        assertEquals(s.commit, committed, "...and never committed");
        assert((s.lastIndex as bigint) > committed, "its entry is in the leader's log");
      }
      const next = await newLeader(others, leader);
      assertEquals(await next.get("/k", false), "before", "the majority never had it");
    });
  });
}

for (const bug of ["stale-read", undefined] as const) {
  Deno.test(`planted bugs: a GET on a partitioned old leader, ${bug ?? "no bug"}`, async () => {
    await withCluster(bug, async (nodes) => {
      const old = await leaderOf(nodes);
      await old.put("/k", "v1");
      const others = isolate(nodes, old);
      const next = await newLeader(others, old);
      await next.put("/k", "v2");
      const read = old.get("/k", false, AbortSignal.timeout(1500));
      if (bug === undefined) await assertRejects(() => read); // no quorum confirms it
      else assertEquals(await read, "v1", "a stale value, after v2 was acknowledged");
      assertEquals(await next.get("/k", false), "v2");
    });
  });
}

Deno.test("planted bugs: ack-before-fsync is the replica's planted bug, and only it", () => {
  const args = {
    id: 1n,
    cluster: ["http://127.0.0.1:1"],
    join: false,
    dataDir: "unused",
    snapshotCount: 10,
    catchUpEntries: 5,
    requestTimeoutMs: 1000,
    tickMs: 20,
  };
  const store = new KvStore(jsonCodec, silentLogger);
  const storageFs = new FaultyFs({ lazy: true });
  const options = (plantBug?: PlantedBug) =>
    replicaOptions({ args, plantBug, storageFs }, store, jsonCodec, silentLogger);
  assertEquals(options("ack-before-fsync").plantedBugs, { ackBeforeFsync: true });
  for (const bug of [undefined, "ack-before-commit", "stale-read"] as const) {
    assertEquals(options(bug).plantedBugs, undefined, String(bug));
  }
  assertEquals(options().storageFs, storageFs);
});
