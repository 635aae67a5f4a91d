import { clone } from "npm:@bufbuild/protobuf@2.17.0";
import { assert, assertEquals } from "@std/assert";
import { create, MessageSchema, MessageType } from "../raftpb/mod.ts";
import { MemoryStorage } from "./memory_storage.ts";
import { RawNode } from "./raw_node.ts";
import { TestCluster } from "./testing/test_cluster.ts";

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

Deno.test("election: a joining member with a higher term tells a lagging leader its term", () => {
  const node = new RawNode({ id: 4n, storage: new MemoryStorage() });
  const vote = create(MessageSchema, {
    type: MessageType.MsgVote,
    from: 9n,
    to: 4n,
    term: 5n,
    index: 10n,
    logTerm: 3n,
  });
  node.step(vote); // a campaign raised its term to 5
  node.ready();
  const hb = create(MessageSchema, { type: MessageType.MsgHeartbeat, from: 1n, to: 4n, term: 2n });
  node.step(hb);
  const [resp] = node.ready().messages;
  assertEquals([resp.type, resp.to, resp.term], [MessageType.MsgAppResp, 1n, 5n]);
  // A voter does not (without PreVote or CheckQuorum), as etcd 3.4.
  const c = new TestCluster([1n, 2n, 3n]);
  c.stabilize();
  const voter = c.get(2n).node;
  voter.step(Object.assign(clone(MessageSchema, vote), { to: 2n }));
  voter.ready();
  voter.step(Object.assign(clone(MessageSchema, hb), { to: 2n }));
  assertEquals(voter.ready().messages.length, 0);
});
