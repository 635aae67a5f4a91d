import { assert, assertEquals } from "@std/assert";
import { MessageType, SnapshotStatus } from "../raftpb/mod.ts";
import { bytes, TestCluster } from "./testing/test_cluster.ts";

function laggingFollower(): TestCluster {
  const c = new TestCluster([1n, 2n, 3n]);
  c.elect(1n);
  c.filter = (m) => m.to !== 3n && m.from !== 3n;
  for (const s of ["a", "b", "c"]) c.get(1n).node.propose(bytes(s));
  c.stabilize();
  c.compact(1n);
  return c;
}

Deno.test("snapshot: a follower that needs compacted entries gets MsgSnap and catches up", () => {
  const c = laggingFollower();
  c.filter = () => true;
  c.delivered = [];
  c.get(1n).node.propose(bytes("d"));
  c.tickAll(3);
  const snaps = c.delivered.filter((m) => m.type === MessageType.MsgSnap && m.to === 3n);
  assertEquals(snaps.length, 1);
  assertEquals(c.get(3n).snapshotData, "a,b,c");
  assertEquals(c.appliedData(3n), ["d"]); // the rest came inside the snapshot
  assertEquals(c.get(3n).node.status().commit, c.get(1n).node.status().commit);
  assertEquals(c.get(1n).node.status().progress?.get(3n)?.state, "replicate");
});

Deno.test("snapshot: while a snapshot is in flight the follower is paused; failure resumes probing", () => {
  const c = laggingFollower();
  c.reportSnapshots = false;
  c.filter = (m) => m.type !== MessageType.MsgSnap; // the snapshot is lost
  c.tickAll(3);
  const leader = c.get(1n).node;
  assertEquals(leader.status().progress?.get(3n)?.state, "snapshot");
  c.delivered = [];
  c.tickAll(2);
  assert(!c.delivered.some((m) => m.type === MessageType.MsgApp && m.to === 3n));
  leader.reportSnapshot(3n, SnapshotStatus.Failure);
  assertEquals(leader.status().progress?.get(3n)?.state, "probe");
  c.filter = () => true;
  c.reportSnapshots = true;
  c.tickAll(3);
  assertEquals(c.get(3n).snapshotData, "a,b,c");
  assertEquals(leader.status().progress?.get(3n)?.state, "replicate");
});

Deno.test("snapshot: a restarted member resumes from its snapshot and log", () => {
  const c = new TestCluster([1n, 2n, 3n]);
  c.elect(1n);
  for (const s of ["a", "b"]) c.get(1n).node.propose(bytes(s));
  c.stabilize();
  c.compact(2n);
  c.get(1n).node.propose(bytes("c"));
  c.stabilize();
  const old = c.get(2n);
  const applied = old.storage.snapshot().metadata!.index;
  const restarted = c.add(2n, { storage: old.storage, applied });
  restarted.storage = old.storage;
  assertEquals(restarted.node.status().term, old.node.status().term);
  assertEquals(restarted.node.status().commit, old.node.status().commit);
  c.processReady();
  assertEquals(c.appliedData(2n), ["c"]); // re-applied after the snapshot
});
