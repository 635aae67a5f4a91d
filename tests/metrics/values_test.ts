// Each metric's value against known traffic between real members over HTTP
// on 127.0.0.1: bytes sent equal to what the peer received (per channel
// too), one disconnect per killed peer, one snapshot success per snapshot
// on both sides, the round-trip histogram's count equal to the probes
// answered, drops counted by channel and reason.
import { assert, assertEquals } from "@std/assert";
import { group, msg, RecordingRaft, startNode, streamsUp, waitUntil } from "../harness.ts";
import { MessageType } from "../../raftpb/raft_pb.ts";
import { SnapshotMessage } from "../../src/snapshot/message.ts";
import { read } from "./scrape.ts";

const QUIET = { stream: { linkHeartbeatIntervalMs: 60_000, readTimeoutMs: 120_000 } };

Deno.test("metrics: bytes sent equal the bytes the peer received, in total and per channel", async () => {
  await using nodes = group(startNode(1n, QUIET), startNode(2n, QUIET));
  const [a, b] = nodes;
  // Pipeline first (no stream yet: b is not a peer of a's side yet).
  a.transport.addPeer(2n, [b.url]);
  for (let i = 0; i < 5; i++) a.transport.send([msg(MessageType.MsgHeartbeat, 1n, 2n)]);
  b.transport.addPeer(1n, [a.url]);
  await waitUntil(() => streamsUp(a, b), 5000, "a's streams to b");
  for (let i = 0; i < 50; i++) {
    a.transport.send([
      msg(MessageType.MsgApp, 1n, 2n, { entries: [{ data: new Uint8Array(100) }] }),
    ]);
    a.transport.send([msg(MessageType.MsgHeartbeat, 1n, 2n, { commit: BigInt(i) })]);
  }
  await waitUntil(() => b.raft.received.length >= 105, 5000, "b got every message");
  const sent = () => read(a.transport, "etcd_network_peer_sent_bytes_total", { To: "2" });
  const got = () => read(b.transport, "etcd_network_peer_received_bytes_total", { From: "1" });
  await waitUntil(() => sent() === got(), 5000, () => `sent ${sent()} = received ${got()}`);
  assert(sent() > 50 * 100, `at least the entries' bytes went: ${sent()}`);
  for (const channel of ["message", "msgappv2", "pipeline"]) {
    const s = read(a.transport, "rafthttp_peer_channel_sent_bytes_total", {
      To: "2",
      Channel: channel,
    });
    const r = read(b.transport, "rafthttp_peer_channel_received_bytes_total", {
      From: "1",
      Channel: channel,
    });
    assertEquals(s, r, `${channel}: sent = received`);
    assert(s > 0, `${channel} carried bytes`);
  }
  assertEquals(
    read(a.transport, "rafthttp_stream_connects_total", {
      Remote: "2",
      Stream: "msgappv2",
      Direction: "outgoing",
    }),
    1,
  );
  assertEquals(
    read(b.transport, "rafthttp_stream_connects_total", {
      Remote: "1",
      Stream: "message",
      Direction: "incoming",
    }),
    1,
  );
  assertEquals(read(a.transport, "etcd_network_peer_sent_failures_total", { To: "2" }), 0);
});

Deno.test("metrics: one disconnect per killed peer, active_peers follows", async () => {
  await using nodes = group(startNode(1n), startNode(2n), startNode(3n));
  const [a, b, c] = nodes;
  for (const x of nodes) for (const y of nodes) if (x !== y) x.transport.addPeer(y.id, [y.url]);
  await waitUntil(() => streamsUp(a, b) && streamsUp(a, c), 5000, "a's streams up");
  const active = (r: string) =>
    read(a.transport, "etcd_network_active_peers", { Local: "1", Remote: r });
  const lost = (r: string) =>
    read(a.transport, "etcd_network_disconnected_peers_total", { Local: "1", Remote: r });
  assertEquals([active("2"), active("3"), lost("2"), lost("3")], [1, 1, 0, 0]);
  await c.close();
  await waitUntil(() => lost("3") === 1, 8000, () => `a's disconnects of 3: ${lost("3")}`);
  assertEquals(active("3"), 0);
  // It stays one while 3 is down, however often a redials it.
  a.transport.send([msg(MessageType.MsgHeartbeat, 1n, 3n)]);
  await new Promise((r) => setTimeout(r, 600));
  assertEquals([lost("3"), active("2"), lost("2")], [1, 1, 0]);
  await b.close();
  await waitUntil(() => lost("2") === 1, 8000, () => `a's disconnects of 2: ${lost("2")}`);
  assertEquals(lost("3"), 1);
});

function snapshot(to: bigint, size: number): SnapshotMessage {
  const data = new Uint8Array(size).fill(9);
  return new SnapshotMessage(
    msg(MessageType.MsgSnap, 1n, to, { snapshot: { metadata: { index: 10n, term: 1n } } }),
    new Blob([data]).stream(),
    size,
  );
}

Deno.test("metrics: one snapshot success per snapshot, on both sides, with its duration", async () => {
  await using nodes = group(startNode(1n, QUIET), startNode(2n, QUIET));
  const [a, b] = nodes;
  a.transport.addPeer(2n, [b.url]);
  b.transport.addPeer(1n, [a.url]);
  await waitUntil(() => streamsUp(a, b) && streamsUp(b, a), 5000, "streams");
  for (let i = 1; i <= 2; i++) {
    const s = snapshot(2n, 200_000);
    a.transport.sendSnapshot(s);
    assert(await s.done, "the snapshot was sent");
    await waitUntil(
      () => read(b.transport, "etcd_network_snapshot_receive_success", { From: "1" }) === i,
      5000,
      `b counted snapshot ${i}`,
    );
    assertEquals(read(a.transport, "etcd_network_snapshot_send_success", { To: "2" }), i);
    assertEquals(
      read(a.transport, "etcd_network_snapshot_send_total_duration_seconds_count", { To: "2" }),
      i,
    );
    assertEquals(
      read(b.transport, "etcd_network_snapshot_receive_total_duration_seconds_count", {
        From: "1",
      }),
      i,
    );
  }
  assertEquals(read(a.transport, "etcd_network_snapshot_send_inflights_total", { To: "2" }), 0);
  assertEquals(
    read(b.transport, "etcd_network_snapshot_receive_inflights_total", { From: "1" }),
    0,
  );
  assertEquals(read(a.transport, "etcd_network_snapshot_send_failures", { To: "2" }), 0);
  const s = read(a.transport, "rafthttp_peer_channel_sent_bytes_total", {
    To: "2",
    Channel: "snapshot",
  });
  const r = read(b.transport, "rafthttp_peer_channel_received_bytes_total", {
    From: "1",
    Channel: "snapshot",
  });
  assertEquals(s, r, "snapshot bytes: sent = received (envelopes included)");
  assert(s > 400_000, `both snapshots' data: ${s}`);
});

Deno.test("metrics: a snapshot the receiver fails to store is one failure on each side", async () => {
  const sink = {
    async save(_m: unknown, data: ReadableStream<Uint8Array>) {
      await data.cancel();
      throw new Error("disk full");
    },
  };
  await using nodes = group(startNode(1n, QUIET), startNode(2n, { ...QUIET, snapshot: { sink } }));
  const [a, b] = nodes;
  a.transport.addPeer(2n, [b.url]);
  b.transport.addPeer(1n, [a.url]);
  await waitUntil(() => streamsUp(a, b), 5000, "streams");
  const s = snapshot(2n, 10_000);
  a.transport.sendSnapshot(s);
  assertEquals(await s.done, false);
  assertEquals(read(a.transport, "etcd_network_snapshot_send_failures", { To: "2" }), 1);
  assertEquals(read(a.transport, "etcd_network_snapshot_send_success", { To: "2" }), 0);
  assertEquals(read(a.transport, "etcd_network_peer_sent_failures_total", { To: "2" }), 1);
  assertEquals(read(b.transport, "etcd_network_snapshot_receive_failures", { From: "1" }), 1);
  assertEquals(read(b.transport, "etcd_network_snapshot_receive_success", { From: "1" }), 0);
});

Deno.test("metrics: the round-trip histogram counts one sample per answered probe", async () => {
  let answered = 0;
  const counting: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    if (String(input).endsWith("/raft/probing") && res.status === 200) answered++;
    return res;
  };
  await using nodes = group(
    startNode(1n, { probeIntervalMs: 40, fetch: counting }),
    startNode(2n),
  );
  const [a, b] = nodes;
  a.transport.addPeer(2n, [b.url]);
  const count = () =>
    read(a.transport, "etcd_network_peer_round_trip_time_seconds_count", { To: "2" });
  await waitUntil(
    () => answered >= 5 && count() === answered,
    5000,
    () => `${count()} = ${answered}`,
  );
  const inf = read(a.transport, "etcd_network_peer_round_trip_time_seconds_bucket", {
    To: "2",
    le: "+Inf",
  });
  assert(inf >= count(), "+Inf holds every sample");
  const sum = read(a.transport, "etcd_network_peer_round_trip_time_seconds_sum", { To: "2" });
  assert(sum > 0 && sum / count() < 1, `a sane mean RTT on 127.0.0.1: ${sum / count()} s`);
  assert(read(a.transport, "rafthttp_peer_probes_total", { To: "2" }) >= answered);
  assertEquals(read(a.transport, "rafthttp_peer_probe_failures_total", { To: "2" }), 0);
});

Deno.test("metrics: drops are counted by channel and reason", async () => {
  const raft = new RecordingRaft();
  raft.processDelayMs = 200;
  await using nodes = group(
    startNode(1n, { stream: { ...QUIET.stream, queueSize: 4 }, pipeline: { queueSize: 2 } }),
    startNode(2n, { ...QUIET, raft, limits: { receiveQueueSize: 2 } }),
  );
  const [a, b] = nodes;
  a.transport.addPeer(2n, [b.url]);
  // No stream yet: the pipeline takes them; its queue holds 2 (plus what the workers took).
  for (let i = 0; i < 20; i++) a.transport.send([msg(MessageType.MsgHeartbeat, 1n, 2n)]);
  const full = read(a.transport, "rafthttp_peer_sent_dropped_messages_total", {
    To: "2",
    Channel: "pipeline",
    Reason: "queue_full",
  });
  assert(full >= 20 - 2 - 4, `pipeline drops: ${full}`);
  assertEquals(read(a.transport, "etcd_network_peer_sent_failures_total", { To: "2" }), full);
  b.transport.addPeer(1n, [a.url]);
  await waitUntil(() => streamsUp(a, b), 5000, "streams");
  for (let i = 0; i < 30; i++) a.transport.send([msg(MessageType.MsgHeartbeat, 1n, 2n)]);
  const recvFull = () =>
    read(b.transport, "rafthttp_peer_received_dropped_messages_total", {
      From: "1",
      Channel: "message",
      Reason: "queue_full",
    });
  await waitUntil(() => recvFull() > 0, 5000, "b's receive queue overflowed");
  assertEquals(
    read(b.transport, "etcd_network_peer_received_failures_total", { From: "1" }),
    recvFull(),
  );
});
