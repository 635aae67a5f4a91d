import { assert, assertEquals, assertThrows } from "@std/assert";
import { ConfChangeSchema, ConfChangeType, create, MessageType } from "../../raftpb/mod.ts";
import { ProposalDroppedError } from "../errors.ts";
import { bytes, TestCluster } from "../testing/test_cluster.ts";

const add = (nodeId: bigint) =>
  create(ConfChangeSchema, { type: ConfChangeType.ConfChangeAddNode, nodeId });
const remove = (nodeId: bigint) =>
  create(ConfChangeSchema, { type: ConfChangeType.ConfChangeRemoveNode, nodeId });

Deno.test("conf change: a new member is added, catches up and votes", () => {
  const c = new TestCluster([1n, 2n, 3n]);
  c.elect(1n);
  c.get(1n).node.propose(bytes("a"));
  c.add(4n); // an empty member, as started with --join
  c.get(1n).node.proposeConfChange(add(4n));
  c.stabilize();
  c.get(1n).node.propose(bytes("b"));
  c.tickAll(3);
  assertEquals(c.get(1n).confState?.voters, [1n, 2n, 3n, 4n]);
  assertEquals(c.get(4n).confState?.voters, [1n, 2n, 3n, 4n]);
  assertEquals(c.appliedData(4n), ["a", "b"]);
  c.elect(4n);
  assertEquals(c.get(4n).node.status().state, "leader");
});

Deno.test("conf change: only one may be pending; the second is refused", () => {
  const c = new TestCluster([1n, 2n, 3n]);
  c.elect(1n);
  c.filter = () => false; // nothing commits
  c.get(1n).node.proposeConfChange(add(4n));
  assertThrows(() => c.get(1n).node.proposeConfChange(add(5n)), ProposalDroppedError, "pending");
  c.filter = () => true;
  c.tickAll(3);
  c.get(1n).node.proposeConfChange(add(5n)); // the first was applied: allowed now
  c.stabilize();
  assertEquals(c.get(1n).confState?.voters, [1n, 2n, 3n, 4n, 5n]);
});

Deno.test("conf change: a removed follower leaves the quorum", () => {
  const c = new TestCluster([1n, 2n, 3n]);
  c.elect(1n);
  c.get(1n).node.proposeConfChange(remove(3n));
  c.stabilize();
  assertEquals(c.get(1n).confState?.voters, [1n, 2n]);
  c.filter = (m) => m.to !== 3n;
  c.get(1n).node.propose(bytes("x"));
  c.stabilize();
  assertEquals(c.appliedData(2n), ["x"]);
  assert(!c.get(1n).node.status().progress?.has(3n));
});

Deno.test("conf change: a removed leader steps down and hands over at once", () => {
  const c = new TestCluster([1n, 2n, 3n]);
  c.elect(1n);
  c.get(1n).node.proposeConfChange(remove(1n));
  c.stabilize();
  assertEquals(c.get(1n).node.status().state, "follower");
  assert(c.delivered.some((m) => m.type === MessageType.MsgTimeoutNow && m.from === 1n));
  const lead = c.leader();
  assert(lead && lead.id !== 1n);
  c.filter = (m) => m.to !== 1n && m.from !== 1n;
  lead!.node.propose(bytes("after"));
  c.stabilize();
  assertEquals(c.appliedData(2n), ["after"]);
  assertEquals(c.appliedData(3n), ["after"]);
});
