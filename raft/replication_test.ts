import { assert, assertEquals } from "@std/assert";
import { create, EntrySchema, MessageSchema, MessageType } from "../raftpb/mod.ts";
import { bytes, TestCluster } from "./testing/test_cluster.ts";

Deno.test("replication: proposals commit on a quorum and apply everywhere in order", () => {
  const c = new TestCluster([1n, 2n, 3n]);
  c.elect(1n);
  for (const s of ["a", "b", "c"]) c.get(1n).node.propose(bytes(s));
  c.stabilize();
  for (const id of [1n, 2n, 3n]) assertEquals(c.appliedData(id), ["a", "b", "c"]);
});

Deno.test("replication: a follower forwards proposals to the leader", () => {
  const c = new TestCluster([1n, 2n, 3n]);
  c.elect(1n);
  c.get(3n).node.propose(bytes("via-follower"));
  c.stabilize();
  assert(c.delivered.some((m) => m.type === MessageType.MsgProp && m.from === 3n && m.to === 1n));
  assertEquals(c.appliedData(2n), ["via-follower"]);
});

Deno.test("replication: without a quorum nothing commits; with it back, everything does", () => {
  const c = new TestCluster([1n, 2n, 3n]);
  c.elect(1n);
  c.filter = (m) => m.from === 1n ? false : true;
  c.get(1n).node.propose(bytes("x"));
  c.stabilize();
  assertEquals(c.appliedData(1n), []);
  c.filter = () => true;
  c.tickAll(3); // heartbeats make the leader resend
  assertEquals(c.appliedData(1n), ["x"]);
  assertEquals(c.appliedData(3n), ["x"]);
});

Deno.test("replication: heartbeats carry min(match, commit)", () => {
  const c = new TestCluster([1n, 2n, 3n]);
  c.elect(1n);
  c.filter = (m) => m.to !== 3n; // 3 falls behind
  c.get(1n).node.propose(bytes("x"));
  c.stabilize();
  c.delivered = [];
  c.filter = (m) => m.type === MessageType.MsgHeartbeat;
  c.get(1n).node.tick();
  c.stabilize();
  const hb = c.delivered.filter((m) => m.type === MessageType.MsgHeartbeat);
  const commit = c.get(1n).node.status().commit;
  assertEquals(hb.find((m) => m.to === 2n)?.commit, commit);
  assert(hb.find((m) => m.to === 3n)!.commit < commit);
});

Deno.test("replication: a divergent follower is backtracked fast and repaired", () => {
  const c = new TestCluster([1n, 2n, 3n]);
  c.elect(1n);
  // Member 3 gets entries of a stale term that no one else has.
  const f = c.get(3n);
  const last = f.node.status().commit;
  const stale = [1n, 2n, 3n, 4n, 5n].map((k) =>
    create(EntrySchema, { index: last + k, term: 2n, data: bytes(`stale${k}`) })
  );
  f.node.step(create(MessageSchema, {
    type: MessageType.MsgApp,
    from: 1n,
    to: 3n,
    term: 2n,
    index: last,
    logTerm: 2n,
    entries: stale,
    commit: last,
  }));
  c.filter = (m) => m.to !== 3n && m.from !== 3n;
  c.stabilize();
  c.elect(2n); // term 3, without member 3
  for (const s of ["a", "b"]) c.get(2n).node.propose(bytes(s));
  c.stabilize();
  c.elect(1n); // term 4: a new leader probes member 3 at its own last index
  c.filter = () => true;
  c.delivered = [];
  c.get(1n).node.propose(bytes("c"));
  c.tickAll(3); // the probe to 3 was lost: a heartbeat response unpauses it
  const rejects = c.delivered.filter((m) => m.type === MessageType.MsgAppResp && m.reject);
  assert(rejects.length >= 1 && rejects.length <= 2, `${rejects.length} rejections`);
  assertEquals(c.appliedData(3n), ["a", "b", "c"]);
});

Deno.test("replication: the in-flight window limits unacknowledged MsgApp", () => {
  const c = new TestCluster([1n, 2n], { maxInflightMsgs: 2, maxSizePerMsg: 1 });
  c.elect(1n);
  c.filter = () => false;
  c.queue = [];
  for (let i = 0; i < 10; i++) c.get(1n).node.propose(bytes(`e${i}`));
  c.processReady();
  const apps = c.queue.filter((m) => m.type === MessageType.MsgApp && m.to === 2n);
  assertEquals(apps.length, 2);
  c.queue = [];
  c.filter = () => true;
  c.tickAll(5);
  assertEquals(c.appliedData(2n).length, 10);
});
