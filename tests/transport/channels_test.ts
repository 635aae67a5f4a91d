// Three transports over real HTTP on 127.0.0.1: every message type crosses
// on the channel etcd would pick.
import { assert, assertEquals } from "@std/assert";
import { type Message, MessageType } from "../../raftpb/raft_pb.ts";
import { isLocalOnly } from "../../src/http/local_only.ts";
import {
  group,
  msg,
  readersUp,
  startCluster,
  startNode,
  streamsUp,
  waitUntil,
} from "../harness.ts";

/** The local-only types among 0..18 (etcd's IsLocalMsg). */
const LOCAL_ONLY = Array.from({ length: 19 }, (_, i) => i).filter((t) => isLocalOnly(t));

function everyType(from: bigint, to: bigint): Message[] {
  const out: Message[] = [];
  for (let t = 0; t <= 18; t++) {
    out.push(msg(t as MessageType, from, to, {
      term: 2n,
      logTerm: 2n,
      index: BigInt(10 + t),
      entries: t === MessageType.MsgApp || t === MessageType.MsgProp
        ? [{ term: 2n, index: BigInt(11 + t), data: new Uint8Array([t]) }]
        : [],
      snapshot: t === MessageType.MsgSnap ? { metadata: { index: 5n, term: 1n } } : undefined,
      context: new Uint8Array([1, t]),
    }));
  }
  return out;
}

Deno.test("channels: each message type goes where etcd's pick sends it, among three members (local-only types refused at the receiver)", async () => {
  await using nodes = startCluster(3);
  const [a, b, c] = nodes;
  await waitUntil(() => streamsUp(a, b) && streamsUp(a, c), 5000, "streams from 1 up");
  a.transport.send([...everyType(1n, 2n), ...everyType(1n, 3n)]);
  for (const n of [b, c]) {
    await n.raft.until(
      () => n.raft.received.length === 19 - LOCAL_ONLY.length,
      5000,
      `node ${n.id} gets ${19 - LOCAL_ONLY.length} messages`,
    );
    const types = n.raft.received.map((m) => m.type).sort((x, y) => x - y);
    assertEquals(types, Array.from({ length: 19 }, (_, i) => i).filter((t) => !isLocalOnly(t)));
    const app = n.raft.received.find((m) => m.type === MessageType.MsgApp)!;
    assertEquals([app.from, app.to, app.index, app.entries[0].data], [
      1n,
      n.id,
      13n,
      new Uint8Array([3]),
    ]);
    // The pipeline counts a POST once its 204 arrives, just after process ran.
    await waitUntil(() => a.transport.peerStatus(n.id)!.stats.sentOn.pipeline === 1);
    const sent = a.transport.peerStatus(n.id)!.stats.sentOn;
    assertEquals(
      sent,
      { msgappv2: 1, pipeline: 1, message: 17 },
      "MsgApp on msgappv2, MsgSnap on the pipeline",
    );
    // The five local-only types went on the message stream and were refused there.
    assertEquals(n.transport.peerStatus(1n)!.stats.receivedOn, {
      msgappv2: 1,
      pipeline: 1,
      message: 17 - LOCAL_ONLY.length,
    });
    assertEquals(n.transport.peerStatus(1n)!.stats.refusedLocal, LOCAL_ONLY.length);
  }
});

Deno.test("channels: a forwarded MsgTransferLeader (from = the transferee, as etcd's raft sends it) is delivered; other messages must be the peer's own", async () => {
  await using nodes = startCluster(3);
  const [a, b] = nodes;
  await waitUntil(() => readersUp(a, b) && readersUp(b, a), 5000, "streams up");
  // b, a follower, forwards "transfer leadership to 3" to the leader a.
  b.transport.send([msg(MessageType.MsgTransferLeader, 3n, 1n), msg(MessageType.MsgVote, 3n, 1n)]);
  await a.raft.until(
    () => a.raft.received.some((m) => m.type === MessageType.MsgTransferLeader),
    5000,
    "the forwarded MsgTransferLeader",
  );
  await waitUntil(() => a.transport.peerStatus(2n)!.stats.receiveDrops === 1, 5000, "the drop");
  const got = a.raft.received.filter((m) => m.from === 3n);
  assertEquals(got.map((m) => m.type), [MessageType.MsgTransferLeader], "a forged MsgVote is not");
});

Deno.test("channels: with no stream to the peer, everything goes by the pipeline", async () => {
  // b does not know a as a peer, so b never dials a and a's writers stay idle.
  await using nodes = group(startNode(1n), startNode(2n));
  const [a, b] = nodes;
  a.transport.addPeer(2n, [b.url]);
  a.transport.send([
    msg(MessageType.MsgApp, 1n, 2n, { index: 1n }),
    msg(MessageType.MsgVote, 1n, 2n),
  ]);
  await b.raft.until(() => b.raft.received.length === 2);
  await waitUntil(() => a.transport.peerStatus(2n)!.stats.sentOn.pipeline === 2);
  assertEquals(a.transport.peerStatus(2n)!.stats.sentOn, {
    msgappv2: 0,
    message: 0,
    pipeline: 2,
  });
});

Deno.test("channels: a burst of MsgApps arrives complete and in order over msgappv2", async () => {
  await using nodes = startCluster(2);
  const [a, b] = nodes;
  await waitUntil(() => streamsUp(a, b), 5000, "streams up");
  const n = 3000;
  const payload = new Uint8Array(64).fill(9);
  for (let i = 1; i <= n; i++) {
    a.transport.send([msg(MessageType.MsgApp, 1n, 2n, {
      term: 1n,
      logTerm: 1n,
      index: BigInt(i - 1),
      entries: [{ term: 1n, index: BigInt(i), data: payload }],
    })]);
  }
  await b.raft.until(() => b.raft.received.length === n, 10000, `${n} MsgApps`);
  assertEquals(
    b.raft.received.map((m) => Number(m.entries[0].index)),
    Array.from({ length: n }, (_, i) => i + 1),
  );
  const st = a.transport.peerStatus(2n)!.stats;
  assertEquals(st.sendDrops, 0);
  assertEquals(st.sentOn.msgappv2, n);
  // Compact msgappv2 frames: far fewer bytes than n full messages would take.
  assert(st.sentBytes < n * 100, `sent ${st.sentBytes} bytes`);
});
