import { assertEquals, assertThrows } from "@std/assert";
import { MessageType } from "../raftpb/mod.ts";
import { ConfigError } from "./errors.ts";
import { bytes, TestCluster } from "./testing/test_cluster.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("read index: the leader answers after a heartbeat quorum, at its commit index", () => {
  const c = new TestCluster([1n, 2n, 3n]);
  c.elect(1n);
  c.get(1n).node.propose(bytes("a"));
  c.stabilize();
  c.filter = () => false;
  c.get(1n).node.readIndex(bytes("r1"));
  c.stabilize();
  assertEquals(c.get(1n).readStates.length, 0); // no quorum confirmation yet
  c.filter = () => true;
  c.get(1n).node.readIndex(bytes("r2"));
  c.stabilize();
  // Confirming r2 also confirms r1, queued before it.
  const rs = c.get(1n).readStates;
  assertEquals(rs.map((r) => text(r.requestCtx)), ["r1", "r2"]);
  assertEquals(rs[0].index, c.get(1n).node.status().commit);
});

Deno.test("read index: a follower's request is forwarded and answered", () => {
  const c = new TestCluster([1n, 2n, 3n]);
  c.elect(1n);
  c.get(1n).node.propose(bytes("a"));
  c.stabilize();
  c.get(3n).node.readIndex(bytes("f1"));
  c.stabilize();
  assertEquals(c.get(3n).readStates.map((r) => text(r.requestCtx)), ["f1"]);
  assertEquals(c.get(3n).readStates[0].index, c.get(1n).node.status().commit);
  const resp = c.delivered.filter((m) => m.type === MessageType.MsgReadIndexResp);
  assertEquals(resp.length, 1);
});

Deno.test("read index: a new leader holds reads until it commits in its term", () => {
  const c = new TestCluster([1n, 2n, 3n]);
  c.stabilize();
  c.filter = (m) => m.type !== MessageType.MsgAppResp; // the leader cannot commit its entry
  c.get(1n).node.campaign();
  c.stabilize();
  c.get(1n).node.readIndex(bytes("early"));
  c.stabilize();
  assertEquals(c.get(1n).readStates.length, 0);
  c.filter = () => true;
  c.tickAll(3);
  assertEquals(c.get(1n).readStates.map((r) => text(r.requestCtx)), ["early"]);
  assertEquals(c.get(1n).readStates[0].index, 4n);
});

Deno.test("read index: a single member answers at once", () => {
  const c = new TestCluster([1n]);
  c.elect(1n);
  c.get(1n).node.readIndex(bytes("solo"));
  c.stabilize();
  assertEquals(c.get(1n).readStates.length, 1);
});

Deno.test("read index: lease-based, the leader answers at once, without a heartbeat round", () => {
  const c = new TestCluster([1n, 2n, 3n], { checkQuorum: true, readOnlyOption: "lease-based" });
  c.elect(1n);
  c.get(1n).node.propose(bytes("a"));
  c.stabilize();
  c.filter = () => false; // no follower hears anything: a safe read would wait
  c.get(1n).node.readIndex(bytes("lease"));
  c.stabilize();
  const rs = c.get(1n).readStates;
  assertEquals(rs.map((r) => text(r.requestCtx)), ["lease"]);
  assertEquals(rs[0].index, c.get(1n).node.status().commit);
});

Deno.test("read index: lease-based reads need checkQuorum", () => {
  assertThrows(
    () => new TestCluster([1n, 2n, 3n], { readOnlyOption: "lease-based" }),
    ConfigError,
    "needs checkQuorum",
  );
});
