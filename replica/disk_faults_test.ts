// A replica on a FaultyFs (the `storageFs` option): a failed fsync, of the
// WAL or of a snapshot file, stops it with that error (as etcd panics); it
// never goes on. A lazy disk loses, at a crash, only what was not fsynced:
// every write acknowledged before is there after a restart. And
// `takeSnapshot` takes one at the applied index now.
import { assert, assertEquals, assertInstanceOf, assertRejects } from "@std/assert";
import { FaultyFs, FsyncFailedError } from "../storage/mod.ts";
import { type ReplicaStopEvent, ReplicaStoppedError } from "./mod.ts";
import { Cluster, isStop, nextEvent, put } from "./testdata/cluster.ts";

async function withCluster(fn: (c: Cluster) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "replica-disk-faults-" });
  const c = new Cluster(root);
  try {
    await fn(c);
  } finally {
    await c.stopAll();
    await Deno.remove(root, { recursive: true });
  }
}

for (const lazy of [false, true]) {
  Deno.test(`disk faults: a failed WAL fsync stops the replica with that error (lazy ${lazy})`, async () => {
    await withCluster(async (c) => {
      const fs = new FaultyFs({ lazy });
      const one = await c.start(1n, { storageFs: fs });
      await put(one.replica, "a", "1");
      const events = one.replica.events();
      fs.failNextFsync();
      await assertRejects(() => put(one.replica, "b", "2"), ReplicaStoppedError);
      const stop = await nextEvent<ReplicaStopEvent>(events, isStop);
      assertEquals(stop.reason, "error");
      assertInstanceOf(stop.error, FsyncFailedError);
      assert(stop.error?.message.includes(".wal"), stop.error?.message);
      await assertRejects(() => put(one.replica, "c", "3"), ReplicaStoppedError);
      await c.stop(1n);
      const again = await c.start(1n);
      await again.replica.waitForLeader();
      assertEquals(again.sm.map.get("a"), "1");
      assertEquals(again.sm.map.has("b"), !lazy, "lazy: the failed fsync dropped b's bytes");
    });
  });
}

Deno.test("disk faults: a failed fsync of a snapshot file stops the replica too", async () => {
  await withCluster(async (c) => {
    const fs = new FaultyFs({ lazy: true });
    const one = await c.start(1n, { storageFs: fs, snapshotEvery: 10_000 });
    for (let i = 0; i < 5; i++) await put(one.replica, `k${i}`, `${i}`);
    const events = one.replica.events();
    fs.failNextFsync();
    const e = await assertRejects(() => one.replica.takeSnapshot(), FsyncFailedError);
    assert(e.message.includes(".snap"), e.message);
    const stop = await nextEvent<ReplicaStopEvent>(events, isStop);
    assertInstanceOf(stop.error, FsyncFailedError);
  });
});

Deno.test("disk faults: takeSnapshot takes one at the applied index now; a restart uses it", async () => {
  await withCluster(async (c) => {
    const one = await c.start(1n, { snapshotEvery: 10_000 });
    for (let i = 0; i < 7; i++) await put(one.replica, `k${i}`, `${i}`);
    const applied = one.replica.status().appliedIndex;
    assertEquals(one.replica.status().snapshotIndex, 0n);
    assertEquals(await one.replica.takeSnapshot(), applied);
    assertEquals(one.replica.status().snapshotIndex, applied);
    assertEquals(await one.replica.takeSnapshot(), applied, "nothing new: the same one");
    await put(one.replica, "k7", "7");
    const [a, b] = await Promise.all([one.replica.takeSnapshot(), one.replica.takeSnapshot()]);
    assertEquals([a, b], [applied + 1n, applied + 1n]);
    await c.stop(1n);
    const again = await c.start(1n, { snapshotEvery: 10_000 });
    assertEquals([again.sm.restores, again.replica.status().snapshotIndex], [1, applied + 1n]);
    assertEquals(again.sm.map.get("k7"), "7");
    await c.stop(1n);
    await assertRejects(() => again.replica.takeSnapshot(), ReplicaStoppedError);
  });
});

Deno.test("disk faults: on a lazy disk, a crash keeps every acknowledged write", async () => {
  await withCluster(async (c) => {
    for (let round = 0; round < 3; round++) {
      const fs = new FaultyFs({ lazy: true });
      const one = await c.start(1n, { storageFs: fs });
      await one.replica.waitForLeader();
      for (let i = 0; i < 10; i++) await put(one.replica, `r${round}-${i}`, `${i}`);
      const pending = put(one.replica, `r${round}-lost?`, "x").catch(() => undefined);
      fs.crash(); // the machine dies: held bytes are gone, the files closed
      await pending;
      await c.stop(1n);
      const again = await c.start(1n);
      await again.replica.waitForLeader();
      for (let r = 0; r <= round; r++) {
        for (let i = 0; i < 10; i++) assertEquals(again.sm.map.get(`r${r}-${i}`), `${i}`);
      }
      await c.stop(1n);
    }
  });
});
