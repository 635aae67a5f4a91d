import { assert, assertEquals } from "@std/assert";
import { ConfChangeTransition, EntryType, type Message, MessageType } from "../../raftpb/mod.ts";
import { bytes, ccV2, TestCluster } from "../testing/test_cluster.ts";
import { configFromConfState, describeConfig } from "../tracker/config.ts";
import type { ConfState } from "../../raftpb/mod.ts";

const EXPLICIT = ConfChangeTransition.ConfChangeTransitionJointExplicit;
const show = (cs: ConfState | undefined) => describeConfig(configFromConfState(cs));
const JOINT = "voters=(1 2 4)&&(1 2 3) learners_next=(3)";

/** 1-3 with 1 leading, then 4 promoted and 3 demoted through an explicit joint configuration. */
function jointCluster(): TestCluster {
  const c = new TestCluster([1n, 2n, 3n]);
  c.elect(1n);
  c.get(1n).node.propose(bytes("a"));
  c.stabilize();
  c.add(4n);
  c.get(1n).node.proposeConfChange(ccV2("v4 l3", EXPLICIT));
  c.tickAll(3);
  c.get(1n).node.propose(bytes("b"));
  c.stabilize();
  for (const id of [1n, 2n, 3n, 4n]) assertEquals(show(c.get(id).confState), JOINT);
  return c;
}

/** Restarts member `id` from what its storage holds. */
function restart(c: TestCluster, id: bigint, applied: bigint) {
  const old = c.get(id);
  const again = c.add(id, { storage: old.storage, applied });
  again.storage = old.storage;
  again.confState = old.confState;
  return again;
}

Deno.test("joint restart: from a snapshot taken while joint, the member is joint again", () => {
  const c = jointCluster();
  c.compact(2n);
  const snap = c.get(2n).storage.snapshot();
  assertEquals(show(snap.metadata?.confState), JOINT);
  const m = restart(c, 2n, snap.metadata!.index);
  assertEquals(show(m.node.status().config), JOINT);
  c.get(1n).node.proposeConfChange(ccV2(""));
  c.tickAll(2);
  for (const id of [1n, 2n, 3n, 4n]) {
    assertEquals(show(c.get(id).confState), "voters=(1 2 4) learners=(3)", `member ${id}`);
  }
  c.get(1n).node.propose(bytes("c"));
  c.stabilize();
  assertEquals(c.appliedData(2n), ["c"]); // "a" and "b" are in the snapshot
});

Deno.test("joint restart: replaying the log rebuilds the joint configuration", () => {
  const c = jointCluster();
  const m = restart(c, 4n, 0n);
  c.processReady(); // re-applies the log, conf changes included
  assertEquals(show(m.node.status().config), JOINT);
  assertEquals(m.confHistory.map(show).at(-1), JOINT);
  assertEquals(c.appliedData(4n), ["a", "b"]);
});

Deno.test("joint restart: a follower restored from a snapshot in a joint config takes part", () => {
  const c = jointCluster();
  const cut = (m: Message) => m.to !== 4n && m.from !== 4n;
  c.filter = cut;
  for (const s of ["c", "d"]) c.get(1n).node.propose(bytes(s));
  c.stabilize();
  c.compact(1n);
  c.filter = () => true;
  c.tickAll(3);
  assert(c.delivered.some((m) => m.type === MessageType.MsgSnap && m.to === 4n));
  assertEquals(show(c.get(4n).confState), JOINT);
  assertEquals(show(c.get(4n).node.status().config), JOINT);
  // 4 is needed now: with 2 cut off, 1 and 4 are the incoming majority, 1 and 3 the outgoing one.
  c.filter = (m) => m.to !== 2n && m.from !== 2n;
  c.get(1n).node.proposeConfChange(ccV2(""));
  c.get(1n).node.propose(bytes("e"));
  c.tickAll(2);
  assertEquals(show(c.get(4n).confState), "voters=(1 2 4) learners=(3)");
  assertEquals(c.get(4n).snapshotData, "a,b,c,d");
  assertEquals(c.appliedData(4n), ["a", "b", "e"]); // c and d came inside the snapshot
});

Deno.test("joint: a new leader leaves a joint configuration its predecessor could not", () => {
  const c = new TestCluster([1n, 2n, 3n]);
  c.elect(1n);
  c.add(4n);
  // The old leader's leave never reaches anyone.
  const isLeave = (m: Message) =>
    m.from === 1n &&
    m.entries.some((e) => e.type === EntryType.EntryConfChangeV2 && e.data.length === 0);
  c.filter = (m) => !isLeave(m);
  c.get(1n).node.proposeConfChange(ccV2("v4 r3"));
  c.tickAll(3);
  assertEquals(show(c.get(2n).confState), "voters=(1 2 4)&&(1 2 3) autoleave");
  c.filter = (m) => m.from !== 1n && m.to !== 1n;
  c.elect(2n);
  c.tickAll(2);
  for (const id of [2n, 4n]) {
    assertEquals(show(c.get(id).confState), "voters=(1 2 4)", `member ${id}`);
  }
  c.filter = () => true;
  c.tickAll(3);
  assertEquals(show(c.get(1n).confState), "voters=(1 2 4)");
  const leaves = c.get(1n).applied.filter((e) =>
    e.type === EntryType.EntryConfChangeV2 && e.data.length === 0
  );
  assertEquals(leaves.length, 1); // 1's own leave was overwritten by 2's
});
