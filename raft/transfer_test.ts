import { assert, assertEquals, assertThrows } from "@std/assert";
import { MessageType } from "../raftpb/mod.ts";
import { ProposalDroppedError } from "./errors.ts";
import { bytes, TestCluster } from "./testing/test_cluster.ts";

Deno.test("transfer: an up-to-date transferee gets MsgTimeoutNow and wins", () => {
  const c = new TestCluster([1n, 2n, 3n]);
  c.elect(1n);
  c.get(1n).node.transferLeader(3n);
  c.stabilize();
  assertEquals(c.get(3n).node.status().state, "leader");
  assertEquals(c.get(1n).node.status().lead, 3n);
});

Deno.test("transfer: a lagging transferee is caught up first; proposals wait", () => {
  const c = new TestCluster([1n, 2n, 3n]);
  c.elect(1n);
  c.filter = (m) => m.to !== 3n;
  c.get(1n).node.propose(bytes("x"));
  c.stabilize();
  c.delivered = [];
  c.get(1n).node.transferLeader(3n);
  assertThrows(() => c.get(1n).node.propose(bytes("y")), ProposalDroppedError);
  c.filter = () => true;
  c.tickAll(2);
  assert(c.delivered.some((m) => m.type === MessageType.MsgTimeoutNow && m.to === 3n));
  assertEquals(c.get(3n).node.status().state, "leader");
  assertEquals(c.appliedData(3n), ["x"]);
});

Deno.test("transfer: an unfinished transfer is abandoned after an election timeout", () => {
  const c = new TestCluster([1n, 2n, 3n]);
  c.elect(1n);
  c.filter = (m) => m.to !== 3n;
  c.get(1n).node.transferLeader(3n);
  c.stabilize();
  for (let i = 0; i < 10; i++) c.get(1n).node.tick();
  c.filter = () => true;
  c.stabilize();
  c.get(1n).node.propose(bytes("z")); // accepted again
  c.stabilize();
  assertEquals(c.appliedData(2n), ["z"]);
  assertEquals(c.get(1n).node.status().state, "leader");
});
