import { assert, assertEquals } from "@std/assert";
import { ConfChangeSchema, ConfChangeType, create, MessageType } from "../raftpb/mod.ts";
import { bytes, TestCluster } from "./testing/test_cluster.ts";

Deno.test("learner: receives the log, is not counted in the quorum, never campaigns", () => {
  const c = new TestCluster([1n, 2n]);
  c.elect(1n);
  c.add(3n);
  c.get(1n).node.proposeConfChange(
    create(ConfChangeSchema, { type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: 3n }),
  );
  c.get(1n).node.propose(bytes("a"));
  c.tickAll(3);
  assertEquals(c.get(1n).confState?.learners, [3n]);
  assertEquals(c.appliedData(3n), ["a"]);
  // With member 2 cut off, the learner's acks do not make a quorum.
  c.filter = (m) => m.to !== 2n && m.from !== 2n;
  c.get(1n).node.propose(bytes("b"));
  c.stabilize();
  assertEquals(c.appliedData(1n), ["a"]);
  for (let i = 0; i < 40; i++) c.get(3n).node.tick();
  c.stabilize();
  assert(!c.delivered.some((m) => m.type === MessageType.MsgVote && m.from === 3n));
  // Promoted to voter, it counts.
  c.get(1n).node.proposeConfChange(
    create(ConfChangeSchema, { type: ConfChangeType.ConfChangeAddNode, nodeId: 3n }),
  );
  c.tickAll(3);
  assertEquals(c.appliedData(1n), ["a"]); // the conf change itself needs 2 of {1, 2}
  c.filter = () => true;
  c.tickAll(3);
  assertEquals(c.get(1n).confState?.voters, [1n, 2n, 3n]);
  assertEquals(c.appliedData(3n), ["a", "b"]);
});

Deno.test("unreachable: a replicating follower drops back to probe", () => {
  const c = new TestCluster([1n, 2n, 3n]);
  c.elect(1n);
  c.get(1n).node.propose(bytes("a"));
  c.stabilize();
  const leader = c.get(1n).node;
  assertEquals(leader.status().progress?.get(2n)?.state, "replicate");
  leader.reportUnreachable(2n);
  assertEquals(leader.status().progress?.get(2n)?.state, "probe");
  c.get(1n).node.propose(bytes("b"));
  c.stabilize();
  assertEquals(leader.status().progress?.get(2n)?.state, "replicate");
  assertEquals(c.appliedData(2n), ["a", "b"]);
});
