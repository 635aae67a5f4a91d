/**
 * Our Raft core in one cluster with etcd 3.4's own raft: members 1 and 2
 * run etcd's raft (Go, in a child process), member 3 runs ours. Skipped
 * where Go and etcd's sources are not installed.
 */

import { toBinary } from "npm:@bufbuild/protobuf@2.17.0";
import { assert, assertEquals } from "@std/assert";
import {
  ConfChangeTransition,
  ConfChangeType,
  ConfChangeV2Schema,
  create,
} from "../../raftpb/mod.ts";
import { buildHub, EtcdHub, haveGoAndEtcd } from "./etcd_hub.ts";
import { MixedCluster } from "./mixed_cluster.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test({
  name: "etcd interop: a cluster of etcd raft members and one of ours",
  // CI sets RAFTHTTP_REQUIRE_GO=1: there a missing Go fails the test instead.
  ignore: !haveGoAndEtcd() && Deno.env.get("RAFTHTTP_REQUIRE_GO") !== "1",
  async fn(t) {
    const dir = await Deno.makeTempDir();
    const hub = new EtcdHub(await buildHub(dir), [1n, 2n]);
    const c = new MixedCluster(hub, 3n, [1n, 2n, 3n]);
    try {
      await t.step("one leader is elected among etcd's members and ours", async () => {
        await c.ticks(40);
        const lead = c.node.status().lead;
        assert(lead !== 0n);
        const status = await c.round("status");
        for (const line of status) assertEquals(line.split(" ")[3], String(lead));
      });
      await t.step("proposals on either side apply in one order everywhere", async () => {
        await c.round("propose 1 g1", "propose 2 g2");
        c.node.propose(enc("t1"));
        await c.ticks(3);
        assertEquals(c.applied.length, 3);
        assertEquals(c.etcdApplied.get("1"), c.applied);
        assertEquals(c.etcdApplied.get("2"), c.applied);
      });
      await t.step("our member wins an election and leads etcd's members", async () => {
        c.node.campaign();
        await c.ticks(2);
        assertEquals(c.node.status().state, "leader");
        c.node.propose(enc("t2"));
        await c.round("propose 1 g3"); // forwarded by an etcd follower to our leader
        await c.ticks(2);
        assertEquals(c.applied.slice(-2).sort(), ["g3", "t2"]);
        assertEquals(c.etcdApplied.get("1"), c.applied);
        assertEquals(c.etcdApplied.get("2"), c.applied);
      });
      await t.step("ReadIndex on our leader and from an etcd follower", async () => {
        c.node.readIndex(enc("r1"));
        await c.round("read 2 r2");
        await c.ticks(2);
        const commit = String(c.node.status().commit);
        assert(c.reads.includes(`${commit}:r1`), c.reads.join());
        assert(c.reads.includes(`etcd2:${commit}:r2`), c.reads.join());
      });
      await t.step("our leader hands leadership to an etcd member", async () => {
        c.node.transferLeader(1n);
        await c.ticks(3);
        assertEquals(c.node.status().lead, 1n);
        const status = await c.round("status");
        assert(status[0].includes("StateLeader"), status.join());
      });
      await t.step("cut off, our member catches up by a snapshot from etcd's leader", async () => {
        c.cut = true;
        await c.round("propose 1 g4", "propose 1 g5");
        await c.ticks(2);
        await c.round("compact 1");
        c.cut = false;
        await c.round("propose 1 g6");
        await c.ticks(5);
        assert(c.applied.some((a) => a.startsWith("snap@")), c.applied.join());
        assertEquals(c.applied.at(-1), "g6");
        assertEquals(c.node.status().commit, c.node.status().applied);
      });
      await t.step("ReadIndex forwarded by our follower to etcd's leader", async () => {
        c.node.readIndex(enc("r3"));
        await c.ticks(2);
        assert(c.reads.some((r) => r.endsWith(":r3") && !r.startsWith("etcd")), c.reads.join());
        assertEquals(c.etcdErrors, []);
      });
    } finally {
      await hub.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

const AUTO = ConfChangeTransition.ConfChangeTransitionAuto;
const EXPLICIT = ConfChangeTransition.ConfChangeTransitionJointExplicit;
const { ConfChangeAddNode: V, ConfChangeAddLearnerNode: L, ConfChangeRemoveNode: R } =
  ConfChangeType;

/** A ConfChangeV2 of (type, node) pairs. */
function ccV2(transition: ConfChangeTransition, ...changes: [ConfChangeType, bigint][]) {
  return create(ConfChangeV2Schema, {
    transition,
    changes: changes.map(([type, nodeId]) => ({ type, nodeId })),
  });
}

const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));

/** Proposes `cc` on etcd's member `id`. */
const proposeOnEtcd = (c: MixedCluster, id: number, cc: ReturnType<typeof ccV2>) =>
  c.round(`proposecc ${id} ${b64(toBinary(ConfChangeV2Schema, cc))}`);

/** Every member applied the same conf changes, at the same indexes, to the same ConfStates. */
function sameEverywhere(c: MixedCluster, last: string[]): void {
  const ours = c.confStates.slice(-last.length).map((s) => s.split(" ").slice(1).join(" "));
  assertEquals(ours, last);
  assertEquals(c.etcdConfStates.get("1"), c.confStates);
  assertEquals(c.etcdConfStates.get("2"), c.confStates);
  assertEquals(c.etcdErrors, []);
}

/** Joint configurations entered and left by either side; each is checked by sameEverywhere. */
async function jointSteps(c: MixedCluster, t: Deno.TestContext): Promise<void> {
  await t.step("our leader enters a joint config (4 promoted, 2 demoted), leaves it", async () => {
    c.node.proposeConfChange(ccV2(AUTO, [V, 4n], [L, 2n]));
    await c.ticks(4);
    sameEverywhere(c, ["1,3,4 1,2,3 - 2 true", "1,3,4 - 2 - false"]);
  });
  await t.step("etcd's leader enters an explicit one; our follower leaves it", async () => {
    c.node.transferLeader(1n);
    await c.ticks(3);
    assertEquals(c.node.status().lead, 1n);
    await proposeOnEtcd(c, 1, ccV2(EXPLICIT, [V, 2n], [R, 4n]));
    await c.ticks(3);
    sameEverywhere(c, ["1,2,3 1,3,4 - - false"]);
    c.node.proposeConfChange(ccV2(AUTO)); // the empty change, forwarded to etcd's leader
    await c.ticks(3);
    sameEverywhere(c, ["1,2,3 1,3,4 - - false", "1,2,3 - - - false"]);
  });
  await t.step("cut off while joint, our member restores etcd's joint snapshot", async () => {
    await proposeOnEtcd(c, 1, ccV2(EXPLICIT, [L, 6n]));
    await c.ticks(3);
    sameEverywhere(c, ["1,2,3 1,2,3 6 - false"]);
    c.cut = true; // 1 and 2 are a majority on both sides
    await c.round("propose 1 j1", "propose 1 j2");
    await c.ticks(2);
    await c.round("compact 1");
    c.cut = false;
    await c.ticks(5);
    assert(c.applied.at(-1)?.startsWith("snap@"), c.applied.join());
    assertEquals(c.node.status().config.votersOutgoing, [1n, 2n, 3n]);
    c.node.proposeConfChange(ccV2(AUTO));
    await c.ticks(3);
    sameEverywhere(c, ["1,2,3 1,2,3 6 - false", "1,2,3 - 6 - false"]);
  });
  await t.step("etcd's leader leaves an implicit one by itself; ours follows", async () => {
    await proposeOnEtcd(
      c,
      1,
      ccV2(ConfChangeTransition.ConfChangeTransitionJointImplicit, [L, 7n]),
    );
    await c.ticks(4);
    sameEverywhere(c, ["1,2,3 1,2,3 6,7 - true", "1,2,3 - 6,7 - false"]);
    c.node.propose(enc("after"));
    await c.ticks(2);
    assertEquals(c.applied.at(-1), "after");
    assertEquals(c.etcdApplied.get("1")?.at(-1), "after");
  });
}

Deno.test({
  name: "etcd interop: joint consensus (ConfChangeV2) with etcd's raft applies one ConfState",
  ignore: !haveGoAndEtcd() && Deno.env.get("RAFTHTTP_REQUIRE_GO") !== "1",
  async fn(t) {
    const dir = await Deno.makeTempDir();
    const hub = new EtcdHub(await buildHub(dir), [1n, 2n]);
    const c = new MixedCluster(hub, 3n, [1n, 2n, 3n]);
    try {
      await c.ticks(40);
      c.node.campaign();
      await c.ticks(2);
      assertEquals(c.node.status().state, "leader");
      await jointSteps(c, t);
    } finally {
      await hub.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
