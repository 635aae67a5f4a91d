// The peer port beyond /raft (GET /version, GET /members, as an etcd 3.4
// member serves them) and the network boundary: local-only message types
// refused on every channel, never given to Raft.process.
import { assertEquals, assertGreater } from "@std/assert";
import { MessageType } from "../../raftpb/raft_pb.ts";
import type { Message } from "../../raftpb/raft_pb.ts";
import { encodeMessage } from "../../src/codec/protobuf.ts";
import { encodeMessageFrame, MessageEncoderStream } from "../../src/codec/message.ts";
import { MsgAppV2EncoderStream } from "../../src/codec/msgappv2.ts";
import { Transport } from "../../src/transport.ts";
import { serve } from "../../src/edge/serve.ts";
import { silentLogger } from "../../src/logger.ts";
import { LOCAL_ONLY_TYPES } from "../../src/http/local_only.ts";
import { CLUSTER, msg, RecordingRaft, startNode, waitUntil } from "../harness.ts";

const LOCAL = 0xaaaan;
const PEER = 0xbbbbn;
const BASE = "http://127.0.0.1:9";

function transport(
  extra: Partial<ConstructorParameters<typeof Transport>[0]> = {},
  peerUrl = "http://127.0.0.1:2", // unless started, nothing dials it
) {
  const raft = new RecordingRaft();
  const t = new Transport({
    id: LOCAL,
    clusterId: CLUSTER,
    urls: ["http://127.0.0.1:1"],
    raft,
    logger: silentLogger,
    probeIntervalMs: 0,
    ...extra,
  });
  t.addPeer(PEER, [peerUrl]);
  return { raft, t, handle: t.handler(), [Symbol.asyncDispose]: () => t.stop() };
}

async function methodNotAllowed(res: Response) {
  assertEquals(res.status, 405);
  assertEquals(res.headers.get("Allow"), "GET");
  assertEquals(res.headers.get("Content-Type"), "text/plain; charset=utf-8");
  assertEquals(res.headers.get("X-Content-Type-Options"), "nosniff");
  assertEquals(res.headers.get("X-Etcd-Cluster-ID"), null, "etcd checks the method first");
  assertEquals(await res.text(), "Method Not Allowed\n");
}

Deno.test("peer port: GET /version answers etcd 3.4's JSON; other methods 405 with Allow", async () => {
  await using x = transport();
  const res = await x.handle(new Request(BASE + "/version"));
  assertEquals(res.status, 200);
  assertEquals(res.headers.get("Content-Type"), "application/json");
  assertEquals(res.headers.get("X-Etcd-Cluster-ID"), null);
  assertEquals(await res.text(), '{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}');
  for (const method of ["POST", "PUT", "DELETE", "HEAD"]) {
    await methodNotAllowed(await x.handle(new Request(BASE + "/version", { method })));
  }
  const slash = await x.handle(new Request(BASE + "/version/"));
  assertEquals([slash.status, await slash.text()], [404, "404 page not found\n"]);
});

Deno.test("peer port: /version's server and cluster versions are configurable", async () => {
  await using x = transport({ serverVersion: "3.5.9", clusterVersion: "3.5.0" });
  const res = await x.handle(new Request(BASE + "/version?x=1"));
  assertEquals(await res.json(), { etcdserver: "3.5.9", etcdcluster: "3.5.0" });
});

Deno.test("peer port: GET /members by default lists this member and its peers, ids in decimal", async () => {
  await using x = transport();
  const res = await x.handle(new Request(BASE + "/members"));
  assertEquals(res.status, 200);
  assertEquals(res.headers.get("Content-Type"), "application/json");
  assertEquals(res.headers.get("X-Etcd-Cluster-ID"), CLUSTER.toString(16));
  assertEquals(
    await res.text(),
    `[{"id":${LOCAL},"peerURLs":["http://127.0.0.1:1"]},` +
      `{"id":${PEER},"peerURLs":["http://127.0.0.1:2"]}]\n`,
  );
  for (const method of ["POST", "PUT", "HEAD"]) {
    await methodNotAllowed(await x.handle(new Request(BASE + "/members", { method })));
  }
  const sub = await x.handle(new Request(BASE + "/members/x"));
  assertEquals(sub.status, 404);
  await sub.body?.cancel();
});

Deno.test("peer port: GET /members answers the application's list in etcd's shape and order", async () => {
  const big = 0xfedcba9876543210n; // above 2^53: must not lose digits
  await using x = transport({
    members: () => [
      { id: big, name: "b<&>", peerURLs: ["http://10.0.0.2:2380"], isLearner: true },
      {
        id: 1n,
        name: "a",
        peerURLs: ["http://10.0.0.1:2380"],
        clientURLs: ["http://10.0.0.1:2379"],
      },
      { id: 2n, name: "", peerURLs: [], clientURLs: [] },
    ],
  });
  const text = await (await x.handle(new Request(BASE + "/members"))).text();
  assertEquals(
    text,
    `[{"id":1,"peerURLs":["http://10.0.0.1:2380"],"name":"a","clientURLs":["http://10.0.0.1:2379"]},` +
      `{"id":2,"peerURLs":[]},` +
      `{"id":${big},"peerURLs":["http://10.0.0.2:2380"],"isLearner":true,"name":"b\\u003c\\u0026\\u003e"}]\n`,
  );
});

Deno.test("peer port: a member list that throws is a logged 500, and nothing else breaks", async () => {
  await using x = transport({
    members: () => {
      throw new Error("not loaded yet");
    },
  });
  const res = await x.handle(new Request(BASE + "/members"));
  assertEquals(res.status, 500);
  await res.body?.cancel();
  const v = await x.handle(new Request(BASE + "/version"));
  assertEquals(v.status, 200);
  await v.body?.cancel();
});

Deno.test("peer port: serve() answers /version and /members, and 404 elsewhere", async () => {
  const t = new Transport({
    id: LOCAL,
    clusterId: CLUSTER,
    urls: ["http://127.0.0.1:1"],
    raft: new RecordingRaft(),
    logger: silentLogger,
    probeIntervalMs: 0,
  });
  const server = await serve(t, { port: 0 });
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    const v = await fetch(base + "/version");
    assertEquals([v.status, await v.text()], [
      200,
      '{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}',
    ]);
    const m = await fetch(base + "/members");
    assertEquals(await m.json(), [{ id: Number(LOCAL), peerURLs: ["http://127.0.0.1:1"] }]);
    const other = await fetch(base + "/health");
    assertEquals([other.status, await other.text()], [404, "404 page not found\n"]);
  } finally {
    await t.stop();
    await server.shutdown();
  }
});

const postHeaders = () =>
  new Headers({
    "X-Server-From": PEER.toString(16),
    "X-Server-Version": "3.4.23",
    "X-Min-Cluster-Version": "3.0.0",
    "X-Etcd-Cluster-ID": CLUSTER.toString(16),
  });

Deno.test("local-only types: POST /raft answers 204 as etcd, counted, never processed", async () => {
  await using x = transport();
  for (const type of LOCAL_ONLY_TYPES) {
    const body = encodeMessage(msg(type as MessageType, PEER, LOCAL, { term: 9n }));
    const res = await x.handle(
      new Request(BASE + "/raft", { method: "POST", headers: postHeaders(), body }),
    );
    assertEquals(res.status, 204, `type ${type}`);
  }
  assertEquals(x.raft.received, [], "process saw none of them");
  assertEquals(x.t.peerStatus(PEER)!.stats.refusedLocal, LOCAL_ONLY_TYPES.length);
  // An ordinary message still goes through.
  const ok = encodeMessage(msg(MessageType.MsgHeartbeat, PEER, LOCAL));
  const res = await x.handle(
    new Request(BASE + "/raft", { method: "POST", headers: postHeaders(), body: ok }),
  );
  assertEquals(res.status, 204);
  assertEquals(x.raft.received.map((m) => m.type), [MessageType.MsgHeartbeat]);
});

Deno.test("local-only types: POST /raft/snapshot answers 400 as etcd, counted, never processed", async () => {
  await using x = transport();
  const body = encodeMessageFrame(msg(MessageType.MsgHup, PEER, LOCAL));
  const res = await x.handle(
    new Request(BASE + "/raft/snapshot", { method: "POST", headers: postHeaders(), body }),
  );
  assertEquals([res.status, await res.text()], [400, "wrong raft message type\n"]);
  assertEquals(x.raft.received, []);
  assertEquals(x.t.peerStatus(PEER)!.stats.refusedLocal, 1);
});

/**
 * A fake peer that serves both stream types with `frames` (then ends the
 * body): our reader dials it and decodes what it gets.
 */
function fakePeer(frames: Message[]) {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    const encoder = path.startsWith("/raft/stream/msgapp/")
      ? new MsgAppV2EncoderStream()
      : new MessageEncoderStream();
    return new Response(ReadableStream.from(frames).pipeThrough(encoder), {
      headers: { "X-Server-Version": "3.4.23", "X-Etcd-Cluster-ID": CLUSTER.toString(16) },
    });
  });
}

Deno.test("local-only types: dropped on the message and msgappv2 streams, the stream goes on", async () => {
  const locals = LOCAL_ONLY_TYPES.map((t) => msg(t as MessageType, PEER, LOCAL, { term: 1n }));
  const app = msg(MessageType.MsgApp, PEER, LOCAL, { term: 1n, index: 5n, logTerm: 1n });
  const hb = msg(MessageType.MsgHeartbeat, PEER, LOCAL, { term: 1n });
  await using server = fakePeer([...locals, app, hb]);
  await using x = transport({}, `http://127.0.0.1:${server.addr.port}`);
  const { raft, t } = x;
  t.start();
  await waitUntil(
    () =>
      t.peerStatus(PEER)!.stats.receivedOn.message >= 2 &&
      t.peerStatus(PEER)!.stats.receivedOn.msgappv2 >= 2,
    5000,
    "both streams delivering",
  );
  const types = new Set(raft.received.map((m) => m.type as number));
  assertEquals([...types].sort(), [MessageType.MsgApp, MessageType.MsgHeartbeat].sort());
  for (const l of LOCAL_ONLY_TYPES) assertEquals(types.has(l), false, `type ${l} processed`);
  assertGreater(t.peerStatus(PEER)!.stats.refusedLocal, 2 * LOCAL_ONLY_TYPES.length - 1);
});

Deno.test("local-only types: a member sending MsgHup over a real stream gets it refused", async () => {
  await using a = startNode(1n);
  await using b = startNode(2n);
  a.transport.addPeer(2n, [b.url]);
  b.transport.addPeer(1n, [a.url]);
  await waitUntil(() => a.transport.peerStatus(2n)!.streams.message.outgoing, 5000, "stream up");
  a.transport.send([
    msg(MessageType.MsgHup, 1n, 2n),
    msg(MessageType.MsgCheckQuorum, 1n, 2n),
    msg(MessageType.MsgHeartbeat, 1n, 2n),
  ]);
  await b.raft.until(() => b.raft.received.length >= 1, 5000, "the heartbeat");
  assertEquals(b.raft.received.map((m) => m.type), [MessageType.MsgHeartbeat]);
  assertEquals(b.transport.peerStatus(1n)!.stats.refusedLocal, 2);
});
