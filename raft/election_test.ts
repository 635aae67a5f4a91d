import { assert, assertEquals } from "@std/assert";
import { TestCluster } from "./test_cluster.ts";

Deno.test("election: a bootstrapped 3-member cluster elects one leader by ticking", () => {
  const c = new TestCluster([1n, 2n, 3n]);
  c.tickAll(40);
  const leaders = [...c.members.values()].filter((m) => m.node.status().state === "leader");
  assertEquals(leaders.length, 1);
  const term = leaders[0].node.status().term;
  for (const m of c.members.values()) {
    assertEquals(m.node.status().lead, leaders[0].id);
    assertEquals(m.node.status().term, term);
  }
});

Deno.test("election: campaign() wins with votes, and the leader's empty entry commits", () => {
  const c = new TestCluster([1n, 2n, 3n]);
  c.elect(1n);
  const st = c.get(1n).node.status();
  assertEquals(st.state, "leader");
  assertEquals(st.term, 2n);
  assertEquals(st.commit, 4n); // 3 bootstrap entries + the leader's empty entry
  for (const id of [2n, 3n]) assertEquals(c.get(id).node.status().commit, 4n);
});

Deno.test("election: a member never votes twice in a term", () => {
  const c = new TestCluster([1n, 2n, 3n]);
  c.stabilize();
  c.filter = () => false; // isolate everyone
  c.get(1n).node.campaign();
  c.get(2n).node.campaign();
  c.processReady();
  const votes = c.queue.filter((m) => m.to === 3n);
  c.queue = [];
  c.filter = () => true;
  for (const v of votes) c.deliver(v);
  c.processReady();
  const grants = c.queue.filter((m) => m.from === 3n && !m.reject);
  assertEquals(grants.length, 1);
  assert(c.get(3n).node.status().vote !== 0n);
});

Deno.test("election: a candidate with a stale log is refused", () => {
  const c = new TestCluster([1n, 2n, 3n]);
  c.elect(1n);
  c.filter = (m) => m.to !== 3n && m.from !== 3n;
  c.get(1n).node.propose(new TextEncoder().encode("x"));
  c.stabilize();
  c.filter = () => true;
  c.get(3n).node.campaign();
  c.stabilize();
  assert(c.get(3n).node.status().state !== "leader");
  // Its higher term deposed the leader; the next leader is one with the newer log.
  c.tickAll(40);
  const lead = c.leader();
  assert(lead !== undefined && lead.id !== 3n);
  assertEquals(c.appliedData(3n), ["x"]);
});
