// Peer-level behaviour: URL failover, probing, bounded queues and their
// drops, and rate-limited warnings.
import { assert, assertEquals } from "@std/assert";
import { MessageType } from "../../raftpb/raft_pb.ts";
import type { Logger } from "../../src/logger.ts";
import { group, msg, startNode, streamsUp, waitUntil } from "../harness.ts";

Deno.test("peer: a dead first URL fails over to the next; updatePeer switches live", async () => {
  await using nodes = group(startNode(1n), startNode(2n));
  const [a, b] = nodes;
  // A listener that accepts nothing useful: its port is closed right away.
  const dead = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const deadUrl = `http://127.0.0.1:${dead.addr.port}`;
  dead.close();
  b.transport.addPeer(1n, [a.url]);
  a.transport.addPeer(2n, [deadUrl, b.url]);
  await waitUntil(
    () => streamsUp(a, b) && streamsUp(b, a),
    5000,
    "streams up via the second URL",
  );
  a.transport.send([msg(MessageType.MsgHeartbeat, 1n, 2n)]);
  await b.raft.until(() => b.raft.received.length === 1);
  // Pointing a at the dead URL only: the streams are lost and messages fail.
  a.transport.updatePeer(2n, [deadUrl]);
  assertEquals(a.transport.peerStatus(2n)!.urls, [deadUrl]);
});

Deno.test("peer: the prober measures round-trip time", async () => {
  await using nodes = group(startNode(1n, { probeIntervalMs: 50 }), startNode(2n));
  const [a, b] = nodes;
  a.transport.addPeer(2n, [b.url]);
  await waitUntil(() => a.transport.peerStatus(2n)!.rttMs !== undefined, 5000, "an RTT sample");
  const rtt = a.transport.peerStatus(2n)!.rttMs!;
  assert(rtt > 0 && rtt < 1000, `rtt ${rtt} ms`);
});

Deno.test("peer: a full pipeline drops, reports unreachable, never blocks, and warns once per interval", async () => {
  // A peer that accepts requests and never answers.
  const hung: Promise<void>[] = [];
  const release: (() => void)[] = [];
  await using sink = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    const p = new Promise<void>((r) => release.push(r));
    hung.push(p);
    return p.then(() => new Response(null, { status: 204 }));
  });
  const lines: string[] = [];
  const logger: Logger = {
    debug() {},
    info() {},
    warn: (m) => lines.push(m),
    error: (m) => lines.push(m),
  };
  await using a = startNode(1n, { logger, stream: { redialMinMs: 1000, redialMaxMs: 1000 } });
  // Disposed first: the hung requests answer, then a stops, then the sink.
  using _release = { [Symbol.dispose]: () => release.forEach((r) => r()) };
  a.transport.addPeer(2n, [`http://127.0.0.1:${sink.addr.port}`]);
  const start = performance.now();
  for (let i = 0; i < 1000; i++) a.transport.send([msg(MessageType.MsgVote, 1n, 2n)]);
  const took = performance.now() - start;
  // 64 queued + up to 4 in flight; the rest dropped and reported.
  const st = a.transport.peerStatus(2n)!;
  assert(st.queued.pipeline <= 68, `pipeline holds ${st.queued.pipeline}`);
  assert(st.stats.sendDrops >= 932, `dropped ${st.stats.sendDrops}`);
  assertEquals(a.raft.unreachable.length, st.stats.sendDrops);
  const dropLines = lines.filter((l) => l.startsWith("dropped an internal raft message"));
  assertEquals(dropLines.length, 1, "one warning line for the whole burst");
  assert(took < 1000, `send took ${took} ms`);
});

Deno.test("peer: a receiver that falls behind drops (counted) without stalling its streams", async () => {
  await using nodes = group(startNode(1n), startNode(2n, { limits: { receiveQueueSize: 16 } }));
  const [a, b] = nodes;
  let unblock!: () => void;
  let blocked: Promise<void> | undefined = new Promise<void>((r) => unblock = r);
  using _unblock = { [Symbol.dispose]: () => unblock() };
  b.raft.process = (m) => {
    b.raft.received.push(m);
    return blocked;
  };
  a.transport.addPeer(2n, [b.url]);
  b.transport.addPeer(1n, [a.url]);
  await waitUntil(() => streamsUp(a, b), 5000, "streams up");
  for (let i = 0; i < 100; i++) {
    a.transport.send([msg(MessageType.MsgHeartbeat, 1n, 2n, { term: BigInt(i) })]);
  }
  await waitUntil(
    () => b.transport.peerStatus(1n)!.stats.receiveDrops > 0,
    5000,
    "receive drops",
  );
  const st = b.transport.peerStatus(1n)!;
  assert(st.queued.received <= 16, `b holds ${st.queued.received}`);
  assertEquals(st.stats.receiveDrops + st.queued.received + b.raft.received.length, 100);
  // Raft catches up: the same streams carry traffic again.
  blocked = undefined;
  unblock();
  await waitUntil(() => b.transport.peerStatus(1n)!.queued.received === 0, 5000, "b drains");
  a.transport.send([msg(MessageType.MsgVote, 1n, 2n, { term: 999n })]);
  await waitUntil(
    () => b.raft.received.some((m) => m.term === 999n),
    5000,
    "traffic flows again",
  );
});

Deno.test("peer: blocked proposals never stall raft messages; a full proposal queue drops", async () => {
  await using nodes = group(startNode(1n), startNode(2n, { limits: { receiveQueueSize: 8 } }));
  const [a, b] = nodes;
  let unblock!: () => void;
  const blocked = new Promise<void>((r) => unblock = r);
  using _unblock = { [Symbol.dispose]: () => unblock() };
  b.raft.process = (m) => {
    b.raft.received.push(m);
    if (m.type === MessageType.MsgProp) return blocked;
  };
  a.transport.addPeer(2n, [b.url]);
  b.transport.addPeer(1n, [a.url]);
  await waitUntil(() => streamsUp(a, b), 5000, "streams up");
  const prop = { entries: [{ data: new Uint8Array([1]) }] };
  for (let i = 0; i < 50; i++) a.transport.send([msg(MessageType.MsgProp, 1n, 2n, prop)]);
  a.transport.send([msg(MessageType.MsgHeartbeat, 1n, 2n, { term: 5n })]);
  await waitUntil(
    () => b.raft.received.some((m) => m.type === MessageType.MsgHeartbeat),
    5000,
    "heartbeat processed while proposals are stuck",
  );
  const st = b.transport.peerStatus(1n)!;
  assert(st.queued.proposals <= 8, `${st.queued.proposals} proposals queued`);
  assert(st.stats.receiveDrops > 0, "proposals beyond the queue were dropped");
});

Deno.test("peer: a logger that throws breaks nothing", async () => {
  const boom = () => {
    throw new Error("logger is broken");
  };
  const logger: Logger = { debug: boom, info: boom, warn: boom, error: boom };
  await using nodes = group(startNode(1n, { logger }), startNode(2n, { logger }));
  const [a, b] = nodes;
  a.transport.addPeer(2n, [b.url]);
  b.transport.addPeer(1n, [a.url]);
  await waitUntil(() => streamsUp(a, b), 5000, "streams up");
  a.transport.send([msg(MessageType.MsgHeartbeat, 1n, 2n)]);
  await b.raft.until(() => b.raft.received.length === 1);
});
