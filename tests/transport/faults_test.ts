// Peers that stop, come back, or are misconfigured: reported, reconnected,
// refused with etcd's status codes, and nothing else is lost.
import { assert, assertEquals } from "@std/assert";
import { MessageType } from "../../raftpb/raft_pb.ts";
import { encodeMessage } from "../../src/codec/protobuf.ts";
import { ClusterIdMismatchError } from "../../src/errors.ts";
import {
  CLUSTER,
  msg,
  type Node,
  readersUp,
  startCluster,
  startNode,
  waitUntil,
} from "../harness.ts";

/** All four streams between a and b are being read (so each side's writers are attached). */
function bothWays(a: Node, b: Node) {
  return readersUp(a, b) && readersUp(b, a);
}

Deno.test("faults: a peer stopped mid-stream is reported unreachable and reconnected when it returns", async () => {
  await using nodes = startCluster(3);
  const [a, b, c] = nodes;
  await waitUntil(() => bothWays(a, b) && bothWays(a, c), 5000, "streams up");
  const port = b.server.addr.port;
  await b.close();
  // a notices: its writers to b lose their readers, its readers lose b's streams.
  await waitUntil(() => a.transport.activeSince(2n) === undefined, 5000, "b inactive");
  a.transport.send([msg(MessageType.MsgHeartbeat, 1n, 2n)]);
  await a.raft.until(() => a.raft.unreachable.includes(2n), 5000, "b reported unreachable");
  // c keeps being served meanwhile.
  a.transport.send([msg(MessageType.MsgVote, 1n, 3n, { term: 9n })]);
  await c.raft.until(
    () => c.raft.received.some((m) => m.term === 9n),
    5000,
    "c still gets messages",
  );

  await using b2 = startNode(2n, {}, port);
  b2.transport.addPeer(1n, [a.url]);
  b2.transport.addPeer(3n, [c.url]);
  const back = Date.now();
  await waitUntil(() => bothWays(a, b2), 5000, "streams back");
  const took = Date.now() - back;
  a.transport.send([msg(MessageType.MsgApp, 1n, 2n, { term: 2n, logTerm: 2n, index: 4n })]);
  await b2.raft.until(
    () => b2.raft.received.some((m) => m.type === MessageType.MsgApp),
    5000,
    "MsgApp after return",
  );
  assert(a.transport.activeSince(2n) !== undefined);
  assert(took < 1000, `streams back ${took} ms after the peer returned`);
});

Deno.test("faults: misconfigured and hostile requests are refused and lose nothing else", async () => {
  await using nodes = startCluster(2);
  const [a, b] = nodes;
  const errors: Error[] = [];
  const stranger = startNode(3n, { clusterId: CLUSTER + 1n, onError: (e) => errors.push(e) });
  nodes.push(stranger);
  await waitUntil(() => bothWays(a, b), 5000, "streams up");
  // A member of another cluster: refused both ways with 412.
  stranger.transport.addPeer(1n, [a.url]);
  a.transport.addPeer(3n, [stranger.url]);
  await waitUntil(
    () => errors.some((e) => e instanceof ClusterIdMismatchError),
    5000,
    "412 seen",
  );
  a.transport.send([msg(MessageType.MsgHeartbeat, 1n, 3n)]);
  await a.raft.until(() => a.raft.unreachable.includes(3n), 5000, "stranger unreachable");
  assertEquals(stranger.raft.received.length, 0);

  // Raw requests: wrong target, unknown sender, removed member, oversized body.
  const h = {
    "X-Server-From": "2",
    "X-Server-Version": "3.4.23",
    "X-Min-Cluster-Version": "3.0.0",
    "X-Etcd-Cluster-ID": CLUSTER.toString(16),
  };
  const status = async (path: string, init: RequestInit) => {
    const res = await fetch(a.url + path, init);
    await res.body?.cancel();
    return res.status;
  };
  assertEquals(
    await status("/raft/stream/message/2", { headers: { ...h, "X-Raft-To": "5" } }),
    412,
  );
  assertEquals(
    await status("/raft/stream/message/77", { headers: { ...h, "X-Raft-To": "1" } }),
    404,
  );
  a.raft.removed.add(4n);
  assertEquals(
    await status("/raft/stream/msgapp/4", { headers: { ...h, "X-Raft-To": "1" } }),
    410,
  );
  const big = encodeMessage(
    msg(MessageType.MsgApp, 2n, 1n, { entries: [{ data: new Uint8Array(2 << 20) }] }),
  );
  assertEquals(
    await status("/raft", { method: "POST", headers: h, body: big }),
    204,
    "a's limit is 64 MiB",
  );
  const small = startNode(5n, { pipeline: { maxBodySize: 1 << 20 } });
  nodes.push(small);
  const tooBig = await fetch(small.url + "/raft", { method: "POST", headers: h, body: big });
  await tooBig.body?.cancel();
  assertEquals(tooBig.status, 413);

  // Meanwhile a and b still talk over their streams.
  const before = b.raft.received.length;
  a.transport.send([msg(MessageType.MsgHeartbeat, 1n, 2n, { term: 4n })]);
  await b.raft.until(() => b.raft.received.length > before, 5000, "b still reachable");
  assert(bothWays(a, b), "the streams between a and b were untouched");
});

Deno.test("faults: removePeer and stop release everything", async () => {
  await using nodes = startCluster(3);
  const [a, b, c] = nodes;
  await waitUntil(() => bothWays(a, b) && bothWays(a, c), 5000, "streams up");
  await a.transport.removePeer(2n);
  assertEquals(a.transport.peerStatus(2n), undefined);
  assertEquals(a.transport.peers(), [3n]);
  // b's readers lose their streams and are refused from now on.
  await waitUntil(
    () => !b.transport.peerStatus(1n)!.streams.message.incoming,
    5000,
    "b's reader closed",
  );
  await a.transport.stop();
  await a.transport.stop(); // idempotent
  assertEquals(a.transport.activePeers(), 0);
  // Deno's sanitizers fail this test if any timer, fetch body or connection is left open.
});
