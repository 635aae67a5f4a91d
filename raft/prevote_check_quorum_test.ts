import { assert, assertEquals } from "@std/assert";
import { MessageType } from "../raftpb/mod.ts";
import { bytes, TestCluster } from "./testing/test_cluster.ts";

Deno.test("prevote: a partitioned member does not raise its term, and rejoins without disruption", () => {
  const c = new TestCluster([1n, 2n, 3n], { preVote: true });
  c.elect(1n);
  const term = c.get(1n).node.status().term;
  c.filter = (m) => m.to !== 3n && m.from !== 3n;
  c.tickAll(50); // 3 keeps trying pre-elections
  assertEquals(c.get(3n).node.status().term, term);
  assert(c.delivered.length > 0);
  c.filter = () => true;
  c.tickAll(5);
  assertEquals(c.get(1n).node.status().state, "leader");
  assertEquals(c.get(1n).node.status().term, term);
});

Deno.test("prevote: an election goes through pre-vote, then vote, at term + 1", () => {
  const c = new TestCluster([1n, 2n, 3n], { preVote: true });
  c.elect(2n);
  assertEquals(c.get(2n).node.status().state, "leader");
  assertEquals(c.get(2n).node.status().term, 2n);
  const types = new Set(c.delivered.map((m) => m.type));
  assert(types.has(MessageType.MsgPreVote) && types.has(MessageType.MsgVote));
});

Deno.test("check quorum: a leader cut off from the quorum steps down", () => {
  const c = new TestCluster([1n, 2n, 3n], { checkQuorum: true });
  c.elect(1n);
  c.filter = (m) => m.from !== 1n && m.to !== 1n;
  for (let i = 0; i < 25; i++) c.get(1n).node.tick();
  c.stabilize();
  assertEquals(c.get(1n).node.status().state, "follower");
});

Deno.test("check quorum: under a live leader's lease, a disruptive vote request is ignored", () => {
  const c = new TestCluster([1n, 2n, 3n], { checkQuorum: true });
  c.elect(1n);
  c.get(1n).node.propose(bytes("a"));
  c.stabilize();
  const term = c.get(1n).node.status().term;
  c.filter = (m) =>
    !(m.type === MessageType.MsgApp || m.type === MessageType.MsgHeartbeat) ||
    m.to !== 3n;
  for (let i = 0; i < 30; i++) {
    c.get(3n).node.tick(); // 3 times out and campaigns at a higher term
    c.get(1n).node.tick();
    c.get(2n).node.tick();
    c.stabilize();
  }
  assert(c.get(3n).node.status().term > term);
  assertEquals(c.get(1n).node.status().state, "leader");
  assertEquals(c.get(2n).node.status().lead, 1n);
});
