// Scenario 4: a Deno member configured with the wrong cluster id. etcd
// refuses it and it refuses etcd, both with 412 `cluster ID mismatch`; both
// sides say so in their logs, and nothing crashes.
import { assert, assertEquals, assertInstanceOf, assertStringIncludes } from "@std/assert";
import { create } from "@bufbuild/protobuf";
import { MessageSchema, MessageType } from "../../raftpb/raft_pb.ts";
import { ClusterIdMismatchError } from "../../src/errors.ts";
import { interopTest } from "./etcd.ts";
import { waitUntil } from "../harness.ts";
import { MixedCluster } from "./member.ts";
import { clusterId, hex } from "./ids.ts";

interopTest(
  "rejections: a wrong cluster id is refused by etcd and refuses etcd (412)",
  async () => {
    await using c = await MixedCluster.start(1, { member: false });
    const [etcd] = c.etcds;
    const etcdId = c.idOf(etcd);
    // The id of another cluster: ours plus a member that does not exist.
    const wrong = await clusterId([c.denoId, etcdId, 0x1234n]);
    assert(wrong !== c.clusterId);
    c.deno.start(c.memberConfig({ clusterId: wrong }));
    const t = c.deno.transport!;
    const log = c.deno.logger.records;
    const deno = hex(c.denoId);

    // We refuse etcd's stream dials, and say why.
    await waitUntil(
      () => log.some((r) => r.msg === "refused a peer request: cluster ID mismatch"),
      20000,
      "our log of refusing etcd",
    );
    const refused = log.find((r) => r.msg === "refused a peer request: cluster ID mismatch")!;
    assertEquals(refused.level, "error");
    assertEquals(refused.fields?.remoteClusterId, hex(c.clusterId));
    assertEquals(refused.fields?.localClusterId, hex(wrong));
    // ... and etcd's reader logs our 412 as a cluster ID mismatch.
    await waitUntil(
      () =>
        etcd.find("request sent was ignored by remote peer due to cluster ID mismatch", {
          "remote-peer-id": deno,
        }).length > 0,
      20000,
      "etcd's log of our refusal",
    );

    // etcd refuses our stream dials: our reader reports the error, with 412.
    await waitUntil(() => c.deno.errors.length > 0, 20000, "etcd refusing our streams");
    // A message to etcd (no stream is up, so it goes by POST /raft) is refused too.
    t.send([create(MessageSchema, {
      type: MessageType.MsgHeartbeatResp,
      from: c.denoId,
      to: etcdId,
      term: 1n,
    })]);
    await waitUntil(
      () => c.deno.errors.some((e) => e.message.includes("POST /raft")),
      20000,
      "etcd refusing our POST /raft",
    );
    for (const e of c.deno.errors) {
      assertInstanceOf(e, ClusterIdMismatchError, `${e.name}: ${e.message}`);
      assertEquals((e as ClusterIdMismatchError).status, 412);
      assertStringIncludes(e.message, "cluster ID mismatch");
    }
    assert(
      log.some((r) => r.level === "error" && /refused our (message|msgappv2) stream/.test(r.msg)),
    );
    // etcd's handler logs each refusal with both cluster ids.
    const etcdSide = etcd.find("request cluster ID mismatch", {
      "remote-peer-cluster-id": hex(wrong),
      "local-member-cluster-id": hex(c.clusterId),
    });
    assert(etcdSide.length > 0, "etcd's log of refusing us");

    // The exact replies, seen directly: each side answers the other's
    // headers with 412 and etcd's body.
    const ask = async (url: string, cluster: bigint, from: bigint, to: bigint) => {
      const res = await fetch(`${url}/raft/stream/message/${hex(from)}`, {
        headers: {
          "X-Server-From": hex(from),
          "X-Server-Version": "3.4.23",
          "X-Min-Cluster-Version": "3.0.0",
          "X-Etcd-Cluster-ID": hex(cluster),
          "X-Raft-To": hex(to),
        },
      });
      return [res.status, await res.text()];
    };
    assertEquals(await ask(etcd.peerUrl, wrong, c.denoId, etcdId), [412, "cluster ID mismatch\n"]);
    assertEquals(await ask(c.deno.url, c.clusterId, etcdId, c.denoId), [
      412,
      "cluster ID mismatch\n",
    ]);

    // Nobody crashed: etcd is still running and answers on its peer port
    // (its client port serves only once it has a leader, which it cannot get).
    assertEquals(etcd.exited, undefined);
    const version = await fetch(`${etcd.peerUrl}/version`);
    assertEquals((await version.json()).etcdserver, "3.4.23");
    const s = t.peerStatus(etcdId)!;
    assertEquals(s.streams.message.incoming || s.streams.msgappv2.incoming, false);
    assertEquals(s.streams.message.outgoing || s.streams.msgappv2.outgoing, false);
    assertEquals(c.deno.follower!.counts.size, 0, "no raft message crossed");
  },
);
