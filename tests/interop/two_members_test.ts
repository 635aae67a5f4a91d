// Scenario 1: a two-member cluster, one etcd 3.4 and our Deno member. etcd
// can only win an election with our vote and only commit with our acks, so
// every put that succeeds went through our transport both ways.
import { assert, assertEquals } from "@std/assert";
import { MessageType } from "../../raftpb/raft_pb.ts";
import { interopTest, putMany, retry } from "./etcd.ts";
import { waitUntil } from "../harness.ts";
import { MixedCluster } from "./member.ts";
import { hex } from "./ids.ts";

interopTest("two members (etcd + Deno): election, 200 puts, both stream types", async () => {
  await using c = await MixedCluster.start(1);
  const [etcd] = c.etcds;
  const etcdId = c.idOf(etcd);
  const t = c.deno.transport!;
  const f = c.deno.follower!;

  // etcd's first commits (its own attributes, the cluster version) need us.
  await retry(() => etcd.put("interop/hello", "world"), "first put", 40000);
  const st = await etcd.status();
  assertEquals(hex(st.leader), hex(etcdId), `etcd leads (${c.describe()})`);
  assert(
    f.votes.some((v) => v.candidate === etcdId && v.granted && v.type === MessageType.MsgVote),
    "etcd won its election with our vote",
  );

  // Both of etcd's readers dialled us (our writers are attached) and both of
  // ours dialled etcd; etcd logs each stream it established with us.
  await waitUntil(
    () => {
      const s = t.peerStatus(etcdId)!.streams;
      return s.message.outgoing && s.msgappv2.outgoing && s.message.incoming &&
        s.msgappv2.incoming;
    },
    20000,
    "all four streams between etcd and us",
  );
  const deno = hex(c.denoId);
  for (const type of ["stream MsgApp v2", "stream Message"]) {
    await waitUntil(
      () =>
        etcd.find("established TCP streaming connection with remote peer", {
            "stream-reader-type": type,
            "remote-peer-id": deno,
          }).length > 0 &&
        etcd.find("established TCP streaming connection with remote peer", {
            "stream-writer-type": type,
            "remote-peer-id": deno,
          }).length > 0,
      10000,
      `etcd's log line for its ${type} reader and writer with us`,
    );
  }

  // With the streams up, take a consistent sample of our counters and the
  // follower's (both change only on this event loop; the receive queue must
  // be empty so that every counted message has been processed).
  const sample = async () => {
    let out: { stats: ReturnType<typeof t.peerStatus>; apps: number; others: number } | undefined;
    await waitUntil(
      () => {
        const s = t.peerStatus(etcdId)!;
        if (s.queued.received !== 0 || s.queued.proposals !== 0) return false;
        let others = 0;
        for (const [type, n] of f.counts) if (type !== MessageType.MsgApp) others += n;
        out = { stats: s, apps: f.count(MessageType.MsgApp), others };
        return true;
      },
      10000,
      "an empty receive queue",
      5,
    );
    return out!;
  };
  const before = await sample();

  const n = 200;
  const value = (i: number) => `value-${i}-${"x".repeat(i % 50)}`;
  await putMany(etcd, n, (i) => [`interop/key/${String(i).padStart(4, "0")}`, value(i)], 8);
  const got = await etcd.rangePrefix("interop/key/");
  assertEquals(got.size, n);
  for (let i = 0; i < n; i++) {
    assertEquals(got.get(`interop/key/${String(i).padStart(4, "0")}`), value(i));
  }

  // We hold every entry etcd has, and know it committed (a linearizable
  // read needed a quorum of heartbeat answers, i.e. ours, too).
  const after = await etcd.status();
  await waitUntil(() => f.committed >= after.raftIndex, 10000, "our commit index to catch up");
  assert(f.lastIndex() >= after.raftIndex, `our log ${f.lastIndex()} vs etcd ${after.raftIndex}`);
  assertEquals(f.term, after.raftTerm);
  assert(f.count(MessageType.MsgHeartbeat) > 0);
  assert((f.sent.get(MessageType.MsgHeartbeatResp) ?? 0) > 0);

  // Channels: during the puts, every MsgApp arrived on msgappv2 and every
  // other message (heartbeats) on the message stream; nothing by POST.
  const end = await sample();
  const got1 = end.stats!.stats, got0 = before.stats!.stats;
  const dApps = end.apps - before.apps, dOthers = end.others - before.others;
  assert(dApps >= n / 8, `MsgApps during ${n} puts: ${dApps}`);
  assertEquals(got1.receivedOn.msgappv2 - got0.receivedOn.msgappv2, dApps, "MsgApp on msgappv2");
  assertEquals(got1.receivedOn.message - got0.receivedOn.message, dOthers, "the rest on message");
  assertEquals(got1.receivedOn.pipeline - got0.receivedOn.pipeline, 0, "nothing by POST /raft");
  // Our answers (MsgAppResp, MsgHeartbeatResp) went on the message stream.
  assert(got1.sentOn.message - got0.sentOn.message >= dApps, "our acks on the message stream");
  assertEquals(got1.sentOn.msgappv2, 0, "we never send MsgApp");
  assertEquals(got1.sentOn.pipeline - got0.sentOn.pipeline, 0);
  assertEquals(got1.receiveDrops + got1.sendDrops, 0);
  assertEquals(c.deno.errors, []);
});
