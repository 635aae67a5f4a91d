// A program on the replica API only (startReplica and what it returns): three
// replicas in this process over real HTTP on 127.0.0.1, a small map as the
// state machine. Proposals on every member, reads on followers, a member
// stopped and restarted from its data directory, a learner added, caught up
// by snapshot and promoted, a member that cannot be reached added without
// blocking writes, a member removed (it stops itself), leadership moved; and
// each typed error from a case that really produces it.
import { assert, assertEquals, assertInstanceOf, assertRejects } from "@std/assert";
import { freePorts, waitUntil } from "../tests/harness.ts";
import {
  NoLeaderError,
  OutcomeUnknownError,
  ProposalTooLargeError,
  type ReplicaEvent,
  ReplicaStoppedError,
  StateMachineError,
} from "./mod.ts";
import {
  type Applied,
  Cluster,
  collect,
  dec,
  enc,
  isStop,
  nextEvent,
  put,
} from "./testdata/cluster.ts";

async function proposeEverywhere(c: Cluster): Promise<void> {
  for (const [id, m] of c.members) {
    const applied = await put(m.replica, `from${id}`, `${id}`);
    assertEquals(applied.by, id, "propose resolves with apply's result on the proposing replica");
  }
  const leader = await c.leader();
  const follower = [...c.members.values()].find((m) => m !== leader)!;
  await put(leader.replica, "x", "written-at-the-leader");
  await follower.replica.read(); // linearizable: what was acknowledged elsewhere is applied here
  assertEquals(follower.sm.map.get("x"), "written-at-the-leader");
  for (const m of c.members.values()) {
    await m.replica.read();
    for (const id of c.members.keys()) assertEquals(m.sm.map.get(`from${id}`), `${id}`);
  }
}

async function restartFromDisk(c: Cluster): Promise<void> {
  const leader = await c.leader();
  const victim = [2n, 3n].find((id) => id !== leader.replica.id)!; // 1 keeps its event log
  for (let i = 0; i < 25; i++) await put(c.get(victim).replica, `b${i}`, `${i}`); // a snapshot
  await c.stop(victim);
  for (let i = 0; i < 30; i++) await put(leader.replica, `k${i}`, `v${i}`);
  const again = await c.start(victim);
  assertEquals(again.sm.restores, 1, "restored from its own snapshot");
  assertEquals(again.sm.map.get("b24"), "24", "state back before it hears anyone");
  await again.replica.waitForLeader(); // a read needs a leader to confirm it
  await again.replica.read();
  assertEquals(again.sm.map.get("k29"), "v29", "caught up");
  assertEquals(again.sm.map, leader.sm.map);
}

async function learnerBySnapshot(c: Cluster): Promise<void> {
  const leader = await c.leader();
  for (let i = 0; i < 25; i++) await put(leader.replica, `s${i}`, `${i}`); // compacted past 1
  await c.get(1n).replica.addLearner(4n, c.url(4n));
  assertEquals(c.get(1n).replica.status().members.find((m) => m.id === 4n)?.role, "learner");
  const four = await c.start(4n, { join: true });
  await waitUntil(() => four.sm.restores > 0, 10_000, "member 4 restored the leader's snapshot");
  await four.replica.read();
  assertEquals(four.sm.map, (await c.leader()).sm.map);
  await c.get(2n).replica.promote(4n);
  const roles = c.get(4n).replica.status().members.map((m) => `${m.id}:${m.role}`);
  await waitUntil(
    () => four.replica.status().members.some((m) => m.id === 4n && m.role === "voter"),
    5000,
    `member 4 a voter (${roles})`,
  );
}

async function unreachableDoesNotBlock(c: Cluster): Promise<void> {
  const nowhere = `http://127.0.0.1:${freePorts(1)[0]}`; // nothing listens there
  await c.get(1n).replica.addMember(5n, nowhere);
  for (const m of c.members.values()) await put(m.replica, "with5", `${m.replica.id}`);
  await c.get(2n).replica.removeMember(5n);
}

async function removedStopsItself(c: Cluster): Promise<void> {
  const three = c.get(3n);
  const events = three.replica.events();
  await c.get(1n).replica.removeMember(3n);
  const stopped = await nextEvent(events, isStop);
  assertEquals(stopped, { type: "stopped", reason: "removed" });
  await assertRejects(() => three.replica.propose(enc.encode("a=1")), ReplicaStoppedError);
  await c.stop(3n);
  await put(c.get(4n).replica, "after3", "yes");
  const ids = c.get(1n).replica.status().members.map((m) => m.id);
  assertEquals(ids.sort(), [1n, 2n, 4n]);
}

async function leadershipMoved(c: Cluster): Promise<void> {
  const leader = await c.leader();
  const to = [...c.members.keys()].find((id) => id !== leader.replica.id)!;
  const events = leader.replica.events();
  await [...c.members.values()].at(-1)!.replica.transferLeadership(to); // asked of any member
  await nextEvent(events, (e): e is ReplicaEvent => e.type === "leader" && e.leader === to);
  await events.return!();
  for (const m of c.members.values()) {
    await waitUntil(() => m.replica.status().leader === to, 5000, `${m.replica.id} follows ${to}`);
  }
  await put(c.get(to).replica, "moved", "yes");
}

Deno.test("replica: three in-process replicas through joins, restarts, removals and a transfer", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "replica-test-" });
  const c = new Cluster(root, 2n); // member 2 is served by our own Deno.serve
  try {
    for (const id of [1n, 2n, 3n]) c.url(id);
    await Promise.all([1n, 2n, 3n].map((id) => c.start(id)));
    const seen = collect(c.get(1n).replica.events());
    await t.step("proposals on every member; reads on followers", () => proposeEverywhere(c));
    await t.step("a member restarted from its data directory", () => restartFromDisk(c));
    await t.step("a learner caught up by snapshot, then promoted", () => learnerBySnapshot(c));
    await t.step(
      "a member that cannot be reached does not block",
      () => unreachableDoesNotBlock(c),
    );
    await t.step("a removed member stops itself", () => removedStopsItself(c));
    await t.step("leadership moved", () => leadershipMoved(c));
    for (const id of c.members.keys()) { // a snapshot written in the background is purged for soon
      const files = () => [...Deno.readDirSync(`${root}/${id}/snap.db`)].map((e) => e.name);
      const data = () => files().filter((f) => f.endsWith(".snap.db")).length;
      await waitUntil(() => data() >= 1 && data() <= 3, 5000, () => `${id} keeps 3: ${files()}`);
    }
    await c.stop(1n);
    const roles = (await seen).filter((e) => e.type === "members").map((e) =>
      e.members.map((m) => `${m.id}${m.role === "learner" ? "L" : ""}`).join(",")
    );
    assertEquals(roles, ["1,2,3,4L", "1,2,3,4", "1,2,3,4,5", "1,2,3,4", "1,2,4"]);
    assertEquals((await seen).at(-1), { type: "stopped", reason: "stop" });
  } finally {
    await c.stopAll();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("replica: typed errors, each from a case that produces it", async () => {
  const root = await Deno.makeTempDir({ prefix: "replica-test-" });
  const c = new Cluster(root);
  try {
    for (const id of [1n, 2n, 3n]) c.url(id);
    const lone = await c.start(1n); // 2 and 3 never start: no quorum, no leader
    await assertRejects(() => lone.replica.propose(enc.encode("a=1")), NoLeaderError);
    await assertRejects(() => lone.replica.read(), NoLeaderError);
    const big = new Uint8Array(2 << 20);
    await assertRejects(() => lone.replica.propose(big), ProposalTooLargeError);
    await c.stop(1n);
    await assertRejects(() => lone.replica.propose(enc.encode("a=1")), ReplicaStoppedError);
  } finally {
    await c.stopAll();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("replica: a proposal lost with its leader fails fast as outcome unknown", async () => {
  const root = await Deno.makeTempDir({ prefix: "replica-test-" });
  const c = new Cluster(root);
  try {
    for (const id of [1n, 2n, 3n]) c.url(id);
    await Promise.all([1n, 2n, 3n].map((id) => c.start(id)));
    const leader = await c.leader();
    const follower = [...c.members.values()].find((m) => m !== leader)!;
    await put(follower.replica, "warm", "up");
    await c.stop(leader.replica.id); // the follower still believes in it for a while
    const started = performance.now();
    const lost = follower.replica.propose(enc.encode("lost=1"), { timeoutMs: 20_000 });
    const e = await assertRejects(() => lost);
    assertInstanceOf(e, OutcomeUnknownError, `got ${e}`);
    const ms = performance.now() - started;
    assert(ms < 10_000, `settled at the leader change, after ${ms} ms, not at its timeout`);
  } finally {
    await c.stopAll();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("replica: a signal that aborts a sent proposal leaves its outcome unknown", async () => {
  const root = await Deno.makeTempDir({ prefix: "replica-test-" });
  const c = new Cluster(root);
  try {
    const one = await c.start(1n); // a one-member cluster
    await one.replica.waitForLeader();
    let release = () => {};
    let entered = () => {};
    const inApply = new Promise<void>((ok) => entered = ok);
    const apply = one.sm.apply.bind(one.sm);
    one.sm.apply = (command, index) => {
      if (dec.decode(command) !== "slow=1") return apply(command, index);
      entered();
      return new Promise<Applied>((ok) => release = () => ok(apply(command, index))) as never;
    };
    const ac = new AbortController();
    const slow = one.replica.propose(enc.encode("slow=1"), { signal: ac.signal });
    await inApply; // committed and being applied: sent, not answered
    ac.abort(new Error("the client went away"));
    const e = await assertRejects(() => slow, OutcomeUnknownError);
    assertEquals((e.cause as Error).message, "the client went away");
    release();
    await one.replica.read();
    assertEquals(one.sm.map.get("slow"), "1", "it did take effect");
  } finally {
    await c.stopAll();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("replica: a state machine that throws stops the replica, naming the entry", async () => {
  const root = await Deno.makeTempDir({ prefix: "replica-test-" });
  const c = new Cluster(root);
  try {
    const one = await c.start(1n);
    await one.replica.waitForLeader();
    await put(one.replica, "fine", "1");
    const events = one.replica.events();
    const e = await assertRejects(() => one.replica.propose(enc.encode("boom=1")));
    assertInstanceOf(e, ReplicaStoppedError);
    assertInstanceOf(e.cause, StateMachineError);
    const stopped = await nextEvent(events, isStop);
    assertEquals(stopped.reason, "error");
    const error = stopped.error as StateMachineError;
    assertInstanceOf(error, StateMachineError);
    assertEquals(error.index, one.replica.status().appliedIndex + 1n);
    assert(error.message.includes(`entry ${error.index}`), error.message);
  } finally {
    await c.stopAll();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("replica: inlineSnapshots carry the data inside the MsgSnap; stop({ handOver }) hands over", async () => {
  const root = await Deno.makeTempDir({ prefix: "replica-test-" });
  const c = new Cluster(root);
  const inline = { inlineSnapshots: true };
  try {
    for (const id of [1n, 2n, 3n]) c.url(id);
    await Promise.all([1n, 2n, 3n].map((id) => c.start(id, inline)));
    const leader = await c.leader();
    const victim = [1n, 2n, 3n].find((id) => id !== leader.replica.id)!;
    const behind = c.get(victim).replica.status().lastIndex;
    await c.stop(victim);
    for (let i = 0; i < 30; i++) await put(leader.replica, `i${i}`, `${i}`);
    await waitUntil(() => leader.replica.status().firstIndex > behind + 1n, 5000, "compacted");
    assert(leader.replica.status().snapshotIndex > behind);
    assertEquals(leader.replica.status().role, "leader");
    const again = await c.start(victim, inline);
    await waitUntil(() => again.sm.restores === 1, 5000, "the snapshot from the leader restored");
    await again.replica.read();
    assertEquals(again.sm.map, leader.sm.map);
    const streamed = /^etcd_network_snapshot_send_success\{[^}]*\} [1-9]/m;
    assert(!streamed.test(leader.replica.metrics()), "nothing went through POST /raft/snapshot");
    // A leader stopped with handOver: the others lead again well within an election timeout.
    const others = [...c.members.values()].filter((m) => m !== leader);
    const t0 = performance.now();
    await leader.replica.stop({ handOver: true });
    c.members.delete(leader.replica.id);
    const old = leader.replica.id;
    await waitUntil(
      () => {
        const seen = others.map((m) => m.replica.status().leader);
        return seen.every((l) => l === seen[0] && l !== 0n && l !== old);
      },
      5000,
      "a new leader both others follow",
    );
    const took = performance.now() - t0;
    assert(took < 400, `a new leader ${took.toFixed(0)} ms after the stop began (election: 500+)`);
  } finally {
    await c.stopAll();
    await Deno.remove(root, { recursive: true });
  }
});
