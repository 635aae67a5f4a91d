import { assert, assertEquals, assertThrows } from "@std/assert";
import { ConfChangeTransition, EntryType, MessageType } from "../../raftpb/mod.ts";
import { ConfChangeError, ProposalDroppedError } from "../errors.ts";
import { bytes, ccV2, TestCluster } from "../testing/test_cluster.ts";
import { configFromConfState, describeConfig } from "../tracker/config.ts";
import type { ConfState } from "../../raftpb/mod.ts";

const { ConfChangeTransitionJointExplicit: EXPLICIT, ConfChangeTransitionJointImplicit: IMPLICIT } =
  ConfChangeTransition;
const show = (cs: ConfState | undefined) => describeConfig(configFromConfState(cs));
const history = (c: TestCluster, id: bigint) => c.get(id).confHistory.slice(3).map(show);

/** Members 1-3 bootstrapped, 1 leading, "a" applied; `joining` started empty, as with --join. */
function cluster(joining: bigint[] = []): TestCluster {
  const c = new TestCluster([1n, 2n, 3n]);
  c.elect(1n);
  c.get(1n).node.propose(bytes("a"));
  c.stabilize();
  for (const id of joining) c.add(id);
  return c;
}

Deno.test("joint: two of three members are replaced at once, and the leader leaves by itself", () => {
  const c = cluster([4n, 5n]);
  c.get(1n).node.proposeConfChange(ccV2("v4 v5 r2 r3"));
  c.get(1n).node.propose(bytes("b")); // proposed while the change is in flight
  c.stabilize();
  const want = ["voters=(1 4 5)&&(1 2 3) autoleave", "voters=(1 4 5)"];
  for (const id of [1n, 4n, 5n]) assertEquals(history(c, id), want, `member ${id}`);
  // The leave is the empty ConfChangeV2 the leader appended on its own.
  const leave = c.get(1n).applied.filter((e) => e.type === EntryType.EntryConfChangeV2);
  assert(leave[0].data.length > 0);
  assertEquals(leave[1].data.length, 0);
  c.get(1n).node.propose(bytes("c"));
  c.stabilize();
  for (const id of [1n, 4n, 5n]) assertEquals(c.appliedData(id), ["a", "b", "c"]);
  assertEquals([...c.get(1n).node.status().progress!.keys()].sort(), [1n, 4n, 5n]);
  // The old members are out: the new ones commit without them.
  c.filter = (m) => ![2n, 3n].includes(m.to);
  c.get(1n).node.propose(bytes("d"));
  c.stabilize();
  assertEquals(c.appliedData(5n).at(-1), "d");
});

Deno.test("joint: while joint, commits and elections need both majorities", () => {
  const c = cluster([4n, 5n]);
  c.get(1n).node.proposeConfChange(ccV2("v4 v5 r2 r3", EXPLICIT));
  c.stabilize();
  assertEquals(show(c.get(1n).confState), "voters=(1 4 5)&&(1 2 3)");
  const commit = () => c.get(1n).node.status().commit;
  const before = commit();
  c.filter = (m) => ![4n, 5n].includes(m.to) && ![4n, 5n].includes(m.from);
  c.get(1n).node.propose(bytes("x")); // 1, 2, 3 hold it: a majority of the outgoing voters only
  c.tickAll(3);
  assertEquals(commit(), before);
  c.filter = (m) => ![2n, 3n].includes(m.to) && ![2n, 3n].includes(m.from);
  c.get(1n).node.propose(bytes("y")); // 1, 4, 5 hold x and y; 2 and 3 only x
  c.tickAll(3);
  assertEquals(commit(), before + 1n);
  c.filter = () => true;
  c.tickAll(2);
  assertEquals(commit(), before + 2n);
  for (const id of [1n, 2n, 3n, 4n, 5n]) assertEquals(c.appliedData(id), ["a", "x", "y"]);
  // 4 cannot win without a majority of the outgoing voters (1 2 3); with 2 and 3 it can.
  c.filter = (m) => m.from !== 1n && m.to !== 1n && ![2n, 3n].includes(m.to);
  c.get(4n).node.campaign();
  c.stabilize();
  assertEquals(c.get(4n).node.status().state, "candidate");
  c.filter = (m) => m.from !== 1n && m.to !== 1n;
  c.get(4n).node.campaign();
  c.stabilize();
  assertEquals(c.get(4n).node.status().state, "leader");
});

Deno.test("joint: an explicit transition stays joint until the empty ConfChangeV2", () => {
  const c = cluster([4n]);
  const leader = c.get(1n).node;
  assertThrows(() => leader.proposeConfChange(ccV2("")), ProposalDroppedError, "not in joint");
  leader.proposeConfChange(ccV2("v4", EXPLICIT));
  c.tickAll(5);
  assertEquals(show(c.get(4n).confState), "voters=(1 2 3 4)&&(1 2 3)");
  assertEquals(leader.status().config.votersOutgoing, [1n, 2n, 3n]);
  assertThrows(() => leader.proposeConfChange(ccV2("v5")), ProposalDroppedError, "joint config");
  leader.proposeConfChange(ccV2(""));
  c.stabilize();
  for (const id of [1n, 2n, 3n, 4n]) assertEquals(show(c.get(id).confState), "voters=(1 2 3 4)");
  assertEquals(leader.status().config.votersOutgoing, []);
});

Deno.test("joint: an implicit transition of one change is joint and left automatically", () => {
  const c = cluster([4n]);
  c.get(1n).node.proposeConfChange(ccV2("v4", IMPLICIT));
  c.stabilize();
  assertEquals(history(c, 2n), ["voters=(1 2 3 4)&&(1 2 3) autoleave", "voters=(1 2 3 4)"]);
});

Deno.test("joint: a learner is added, catches up and is promoted", () => {
  const c = cluster([4n]);
  c.get(1n).node.proposeConfChange(ccV2("l4")); // one change, Auto: simple
  c.tickAll(3);
  assertEquals(show(c.get(4n).confState), "voters=(1 2 3) learners=(4)");
  assertEquals(c.appliedData(4n), ["a"]);
  assertEquals(c.get(4n).node.status().state, "follower");
  c.get(4n).node.campaign(); // a learner does not campaign
  c.stabilize();
  assertEquals(c.get(1n).node.status().state, "leader");
  // Promote 4 and demote 3 in one change: joint, 3 staged as a learner until it is left.
  c.get(1n).node.proposeConfChange(ccV2("v4 l3"));
  c.stabilize();
  assertEquals(history(c, 3n).slice(-2), [
    "voters=(1 2 4)&&(1 2 3) learners_next=(3) autoleave",
    "voters=(1 2 4) learners=(3)",
  ]);
  c.filter = (m) => m.to !== 2n && m.from !== 2n; // 1 and 4 are a majority now
  c.get(1n).node.propose(bytes("b"));
  c.stabilize();
  assertEquals(c.appliedData(4n), ["a", "b"]);
  assertEquals(c.appliedData(3n), ["a", "b"]); // as a learner
});

Deno.test("joint: a leader removed by the joint change leads until it is left, then hands over", () => {
  const c = cluster([4n]);
  c.get(1n).node.proposeConfChange(ccV2("r1 v4"));
  c.stabilize();
  assertEquals(history(c, 2n), ["voters=(2 3 4)&&(1 2 3) autoleave", "voters=(2 3 4)"]);
  assertEquals(c.get(1n).node.status().state, "follower");
  assert(c.delivered.some((m) => m.type === MessageType.MsgTimeoutNow && m.from === 1n));
  const lead = c.leader();
  assert(lead && lead.id !== 1n);
  c.get(1n).node.campaign(); // removed: it does not campaign
  c.filter = (m) => m.from !== 1n && m.to !== 1n;
  lead!.node.propose(bytes("after"));
  c.stabilize();
  for (const id of [2n, 3n, 4n]) assertEquals(c.appliedData(id), ["a", "after"]);
  assertEquals(c.get(1n).node.status().state, "follower");
});

Deno.test("joint: a leadership transfer while joint needs both majorities", () => {
  const c = cluster([4n]);
  c.get(1n).node.proposeConfChange(ccV2("v4 r3", EXPLICIT));
  c.tickAll(3);
  assertEquals(show(c.get(4n).confState), "voters=(1 2 4)&&(1 2 3)");
  // With 2 and 3 cut off, 4 gets 1's vote: a majority of (1 2 4), not of (1 2 3).
  c.filter = (m) => ![2n, 3n].includes(m.to) && ![2n, 3n].includes(m.from);
  c.get(1n).node.transferLeader(4n);
  c.stabilize();
  assertEquals(c.get(4n).node.status().state, "candidate");
  c.filter = () => true;
  c.get(4n).node.campaign();
  c.stabilize();
  assertEquals(c.get(4n).node.status().state, "leader");
  c.get(4n).node.proposeConfChange(ccV2(""));
  c.stabilize();
  assertEquals(show(c.get(4n).confState), "voters=(1 2 4)");
  // 3 applied its removal: it no longer campaigns.
  assertEquals(show(c.get(3n).confState), "voters=(1 2 4)");
  c.delivered = [];
  c.get(3n).node.campaign();
  c.stabilize();
  assertEquals(c.get(3n).node.status().state, "follower");
  assert(!c.delivered.some((m) => m.from === 3n && m.type === MessageType.MsgVote));
});

Deno.test("joint: a change the configuration cannot take is refused, at proposal and at apply", () => {
  const c = cluster();
  const leader = c.get(1n).node;
  assertThrows(() => leader.proposeConfChange(ccV2("r1 r2 r3")), ProposalDroppedError, "voters");
  // Forwarded by a follower, it becomes an empty entry.
  c.get(2n).node.proposeConfChange(ccV2("r1 r2 r3"));
  c.stabilize();
  assertEquals(show(c.get(1n).confState), "voters=(1 2 3)");
  assertEquals(c.get(1n).applied.at(-1)?.type, EntryType.EntryNormal);
  // Applied anyway (an etcd leader appends it), it throws and changes nothing.
  assertThrows(() => leader.applyConfChange(ccV2("r1 r2 r3")), ConfChangeError, "removed all");
  assertThrows(() => leader.applyConfChange(ccV2("")), ConfChangeError, "non-joint");
  assertEquals(leader.status().config.voters, [1n, 2n, 3n]);
});

Deno.test("joint: a leader removed by leaving waits for a voter with its whole log to hand over", () => {
  const c = cluster([4n]);
  const leader = c.get(1n).node;
  leader.proposeConfChange(ccV2("r1 v4", EXPLICIT));
  c.tickAll(3);
  const hasX = (m: { entries: { data: Uint8Array }[] }) =>
    m.entries.some((e) => new TextDecoder().decode(e.data) === "x");
  c.filter = (m) => !hasX(m); // "x", after the leave, reaches nobody
  leader.proposeConfChange(ccV2(""));
  leader.propose(bytes("x"));
  c.stabilize();
  assertEquals(show(c.get(1n).confState), "voters=(2 3 4)");
  // Removed, it still leads (taking no proposals) until a voter has "x" too.
  assertEquals(leader.status().state, "leader");
  assertThrows(() => leader.propose(bytes("y")), ProposalDroppedError);
  c.filter = () => true;
  c.tickAll(3);
  assertEquals(leader.status().state, "follower");
  const next = c.leader();
  assert(next && next.id !== 1n);
  for (const id of [2n, 3n, 4n]) assertEquals(c.appliedData(id), ["a", "x"], `member ${id}`);
});

Deno.test("joint: CheckQuorum and PreVote count both majorities", () => {
  const extra = { checkQuorum: true, preVote: true };
  const c = new TestCluster([1n, 2n, 3n], extra);
  c.elect(1n);
  for (const id of [4n, 5n]) c.add(id, extra);
  c.get(1n).node.proposeConfChange(ccV2("v4 v5 r2 r3", EXPLICIT));
  c.tickAll(3);
  assertEquals(show(c.get(1n).confState), "voters=(1 4 5)&&(1 2 3)");
  // 2 and 3 still answer, 4 and 5 do not: the incoming majority is gone, the leader steps down.
  c.filter = (m) => ![4n, 5n].includes(m.to) && ![4n, 5n].includes(m.from);
  c.tickAll(25);
  assertEquals(c.leader(), undefined);
  // 2 and 3 alone cannot be elected either (they would need 4 or 5); once healed, one is.
  c.filter = () => true;
  c.tickAll(40);
  const lead = c.leader();
  assert(lead !== undefined);
  assertEquals(show(c.get(lead!.id).confState), "voters=(1 4 5)&&(1 2 3)");
});
