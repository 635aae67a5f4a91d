// Three members in this process, on 127.0.0.1 with real HTTP between them:
// a PUT on one member is readable (linearizably) on all three, a PUT at a
// follower is forwarded, and a member restarted from its data directory
// recovers the map from snapshot + WAL.
import { assertEquals } from "@std/assert";
import { freePorts } from "../../bench/ports.ts";
import { silentLogger } from "../../mod.ts";
import { KvNode } from "./node.ts";
import { leaderOf, memberStarter, startCluster } from "./testdata/nodes.ts";

Deno.test("kv node: three members in-process: PUT on one, linearizable GET on all", async () => {
  const root = await Deno.makeTempDir();
  const { nodes } = await startCluster(root, 3);
  try {
    const leader = await leaderOf(nodes);
    const follower = nodes.find((n) => n !== leader)!;
    await leader.put("/a", "1");
    await follower.put("/b", "2"); // forwarded to the leader by raft
    for (const n of nodes) {
      assertEquals(await n.get("/a", false), "1", `member ${n.id}`);
      assertEquals(await n.get("/b", false), "2", `member ${n.id}`);
      assertEquals(await n.get("/missing", false), undefined);
    }
    // Acknowledged on the follower means applied there: a stale read sees it.
    await follower.put("/c", "3");
    assertEquals(await follower.get("/c", true), "3");
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("kv node: a member restarted from disk recovers from snapshot + WAL", async () => {
  const root = await Deno.makeTempDir();
  const { nodes, start } = await startCluster(root, 3, 10);
  try {
    const leader = await leaderOf(nodes);
    for (let i = 0; i < 25; i++) await leader.put(`/k${i}`, `v${i}`);
    const victim = nodes.find((n) => n !== leader)!;
    const idx = nodes.indexOf(victim);
    await victim.get("/k24", false);
    await victim.stop();
    const again = await start(Number(victim.id));
    nodes[idx] = again;
    const s = again.status();
    assertEquals((s.snapshotIndex as bigint) > 0n, true, "restored from a snapshot");
    for (let i = 0; i < 25; i++) assertEquals(await again.get(`/k${i}`, false), `v${i}`);
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    await Deno.remove(root, { recursive: true });
  }
});

for (const compat of [false, true]) {
  const how = compat ? "inside the MsgSnap (raftexample's way)" : "streamed from its file";
  Deno.test(`kv node: a member behind the compacted log gets a snapshot ${how}`, async () => {
    const root = await Deno.makeTempDir();
    const { nodes, start } = await startCluster(root, 3, 10, {}, compat);
    try {
      const leader = await leaderOf(nodes);
      const victim = nodes.find((n) => n !== leader)!;
      const idx = nodes.indexOf(victim);
      await victim.stop();
      for (let i = 0; i < 40; i++) await leader.put(`/s${i}`, `v${i}`);
      const first = leader.status().firstIndex as bigint;
      const behind = victim.status().lastIndex as bigint;
      assertEquals(first > behind + 1n, true, `log compacted past ${behind} (first ${first})`);
      const again = await start(Number(victim.id));
      nodes[idx] = again;
      for (let i = 0; i < 200 && again.status().snapshotsReceived === 0; i++) {
        await new Promise((r) => setTimeout(r, 25));
      }
      assertEquals(again.status().snapshotsReceived, 1);
      for (let i = 0; i < 40; i++) assertEquals(await again.get(`/s${i}`, false), `v${i}`);
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
      await Deno.remove(root, { recursive: true });
    }
  });
}

Deno.test("kv node: a member removed while cut off learns it from the others (410) and stops", async () => {
  const root = await Deno.makeTempDir();
  let removed!: () => void;
  const gone = new Promise<void>((r) => removed = r);
  const { nodes } = await startCluster(root, 3);
  try {
    const leader = await leaderOf(nodes);
    const victim = nodes.find((n) => n !== leader)!;
    const idx = nodes.indexOf(victim);
    // Restart the victim with an onRemoved hook, then cut it off from both others.
    await victim.stop();
    nodes[idx] = await KvNode.start({
      args: {
        id: victim.id,
        cluster: nodes.map((n) => `http://127.0.0.1:${n.peerAddr.port}`),
        join: false,
        dataDir: `${root}/m${victim.id}`,
        snapshotCount: 10000,
        catchUpEntries: 5,
        requestTimeoutMs: 5000,
        tickMs: 20,
      },
      logger: silentLogger,
      onRemoved: removed,
    });
    await nodes[idx].get("/nothing", false); // caught up with the leader
    const others = nodes.filter((_, i) => i !== idx);
    for (const o of others) {
      o.cutPeer(victim.id);
      nodes[idx].cutPeer(o.id);
    }
    await others[0].removeMember(victim.id);
    for (const o of others) o.mendPeer(victim.id);
    for (const o of others) nodes[idx].mendPeer(o.id);
    await gone; // the others refuse it with 410: MemberRemovedError, and it stops itself
    await others[0].put("/after", "1"); // two members carry on
    assertEquals(await others[1].get("/after", false), "1");
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("kv node: a leader that removes itself hands over at once (MsgTimeoutNow gets through)", async () => {
  const root = await Deno.makeTempDir();
  const urls = freePorts(4).map((p) => `http://127.0.0.1:${p}`);
  const start = memberStarter(root, urls, 100); // an election by timeout would take 1 s at least
  const nodes = await Promise.all([1, 2, 3].map((id) => start(id)));
  try {
    let leader = await leaderOf(nodes);
    await nodes.find((n) => n !== leader)!.addMember(4n, urls[3]);
    nodes.push(await start(4, true)); // as in docs/kv.md's session: member 4 joins, then a removal
    assertEquals(await nodes[3].get("/nothing", false), undefined);
    leader = await leaderOf(nodes);
    const others = nodes.filter((n) => n !== leader);
    const term = others[0].status().term as bigint;
    const removedAt = performance.now();
    await others[0].removeMember(leader.id);
    const next = await leaderOf(others);
    const took = performance.now() - removedAt;
    assertEquals((next.status().term as bigint) > term, true);
    assertEquals(took < 700, true, `a new leader after ${took.toFixed(0)} ms`);
    for (const n of others) await n.put(`/from-${n.id}`, "1"); // forwarded to the new leader
    for (const n of others) assertEquals(await n.get(`/from-${others[0].id}`, false), "1");
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("kv node: a leader stopped with handOver transfers leadership first", async () => {
  const root = await Deno.makeTempDir();
  const cluster = freePorts(3).map((p) => `http://127.0.0.1:${p}`);
  const args = (id: number) => ({
    id: BigInt(id),
    cluster,
    join: false,
    dataDir: `${root}/m${id}`,
    snapshotCount: 10000,
    catchUpEntries: 5,
    requestTimeoutMs: 5000,
    tickMs: 100, // an election by timeout would take at least 1 s
  });
  const nodes = await Promise.all(
    [1, 2, 3].map((id) => KvNode.start({ args: args(id), logger: silentLogger })),
  );
  try {
    const leader = await leaderOf(nodes);
    const others = nodes.filter((n) => n !== leader);
    await leader.put("/a", "1");
    const t0 = performance.now();
    await leader.stop({ handOver: true });
    const next = await leaderOf(others);
    const took = performance.now() - t0;
    assertEquals(took < 700, true, `a new leader ${took.toFixed(0)} ms after the stop began`);
    await others.find((n) => n !== next)!.put("/b", "2"); // forwarded to the new leader at once
    assertEquals(await next.get("/b", false), "2");
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("kv node: with raftexample's gob (no ids), equal PUTs at once are all answered", async () => {
  // Entries are known by key and value: the first equal entry applied answers every PUT
  // of that key and value sent before it reached the log, and none is left to time out.
  const root = await Deno.makeTempDir();
  const { nodes } = await startCluster(root, 3, 10000, {}, true);
  try {
    const leader = await leaderOf(nodes);
    const follower = nodes.find((n) => n !== leader)!;
    await follower.put("/warm", "up");
    const t0 = performance.now();
    await Promise.all([1, 2, 3, 4].map(() => follower.put("/same", "v")));
    await Promise.all([1, 2].map(() => leader.put("/same", "w")));
    const took = performance.now() - t0;
    assertEquals(took < 2000, true, `answered in ${took.toFixed(0)} ms, not at a deadline`);
    assertEquals(await follower.get("/same", false), "w");
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("kv node: the test hooks' snapshot now, and a joint change replacing a member", async () => {
  const root = await Deno.makeTempDir();
  const urls = freePorts(4).map((p) => `http://127.0.0.1:${p}`);
  const start = memberStarter(root, urls, 20);
  const nodes = await Promise.all([1, 2, 3].map((id) => start(id)));
  try {
    const leader = await leaderOf(nodes);
    for (let i = 0; i < 5; i++) await leader.put(`/s${i}`, `${i}`);
    assertEquals(leader.status().snapshotIndex, 0n);
    await leader.takeSnapshot();
    assertEquals(leader.status().snapshotIndex, leader.status().applied);
    const asker = nodes.find((n) => n !== leader && n.id !== 3n)!;
    await asker.changeMembership({ add: [{ id: 4n, urls: urls[3] }], remove: [3n] });
    assertEquals(asker.status().voters, [1n, 2n, 4n]);
    nodes.push(await start(4, true));
    assertEquals(await nodes[3].get("/s4", false), "4"); // the new voter caught up
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    await Deno.remove(root, { recursive: true });
  }
});
