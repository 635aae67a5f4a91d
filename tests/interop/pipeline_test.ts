// Scenario 3: our streams never attach (our handler refuses every stream GET
// etcd makes), so everything we send to etcd goes by POST /raft. etcd must
// still elect (with pre-vote on: both rounds of our votes go by POST) and
// commit (our MsgAppResp and MsgHeartbeatResp go by POST too).
import { assert, assertEquals } from "@std/assert";
import { MessageType } from "../../raftpb/raft_pb.ts";
import { interopTest, putMany, retry } from "./etcd.ts";
import { waitUntil } from "../harness.ts";
import { MixedCluster } from "./member.ts";
import { hex } from "./ids.ts";

interopTest(
  "our pipeline into etcd: no streams to etcd, POST /raft carries our answers",
  async () => {
    await using c = await MixedCluster.start(1, {
      etcd: { preVote: true },
      member: { refuseStreams: true },
    });
    const [etcd] = c.etcds;
    const etcdId = c.idOf(etcd);
    const t = c.deno.transport!;
    const f = c.deno.follower!;

    await retry(() => etcd.put("interop/first", "1"), "first put", 40000);
    assertEquals(hex((await etcd.status()).leader), hex(etcdId), `etcd leads (${c.describe()})`);
    assert(
      f.votes.some((v) => v.type === MessageType.MsgPreVote && v.candidate === etcdId && v.granted),
      "we granted etcd's pre-vote",
    );
    assert(
      f.votes.some((v) => v.type === MessageType.MsgVote && v.candidate === etcdId && v.granted),
      "we granted etcd's vote",
    );

    const n = 50;
    await putMany(etcd, n, (i) => [`interop/p/${i}`, `v${i}`], 4);
    const got = await etcd.rangePrefix("interop/p/");
    assertEquals(got.size, n);
    for (let i = 0; i < n; i++) assertEquals(got.get(`interop/p/${i}`), `v${i}`);
    const st = await etcd.status();
    await waitUntil(() => f.committed >= st.raftIndex, 10000, "our commit index to catch up");

    const s = t.peerStatus(etcdId)!;
    assert(c.deno.refusedStreams > 0, "etcd tried to open streams to us");
    assertEquals(s.streams.message.outgoing, false, "no message stream toward etcd");
    assertEquals(s.streams.msgappv2.outgoing, false, "no msgappv2 stream toward etcd");
    assert(
      s.stats.sentOn.pipeline >= n,
      `our answers went by POST /raft: ${JSON.stringify(s.stats.sentOn)}`,
    );
    assertEquals(s.stats.sentOn.message + s.stats.sentOn.msgappv2, 0, "nothing on a stream");
    // etcd's own streams to us (our readers) still work: MsgApp on msgappv2.
    assert(s.stats.receivedOn.msgappv2 > 0);
    assert(
      !etcd.find("established TCP streaming connection with remote peer", {
        "stream-reader-type": "stream Message",
        "remote-peer-id": hex(c.denoId),
      }).length,
      "etcd never got a stream from us",
    );
    assertEquals(c.deno.errors, []);
  },
);
