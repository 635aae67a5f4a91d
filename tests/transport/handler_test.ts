// The HTTP handler against hand-made requests: etcd's routes, checks, order
// and status codes, without a network.
import { assertEquals, assertMatch } from "@std/assert";
import { MessageType } from "../../raftpb/raft_pb.ts";
import { encodeMessage } from "../../src/codec/protobuf.ts";
import { encodeMessageFrame } from "../../src/codec/message.ts";
import { linkHeartbeat } from "../../src/codec/msgappv2.ts";
import { Transport } from "../../src/transport.ts";
import { silentLogger } from "../../src/logger.ts";
import type { SnapshotSink } from "../../src/snapshot/sink.ts";
import { msg, RecordingRaft } from "../harness.ts";

const LOCAL = 0xaaaan;
const PEER = 0xbbbbn;
const CLUSTER = 0xc1n;

function setup(extra: { sink?: SnapshotSink; maxBodySize?: number } = {}) {
  const raft = new RecordingRaft();
  const saved: { index: bigint; bytes: number }[] = [];
  const transport = new Transport({
    id: LOCAL,
    clusterId: CLUSTER,
    urls: ["http://127.0.0.1:1"],
    raft,
    logger: silentLogger,
    probeIntervalMs: 0,
    snapshot: {
      sink: extra.sink ?? {
        async save(m, data) {
          let bytes = 0;
          for await (const c of data) bytes += c.length;
          saved.push({ index: m.snapshot?.metadata?.index ?? 0n, bytes });
        },
      },
    },
    pipeline: { maxBodySize: extra.maxBodySize },
  });
  // Not started: the peer exists but does not dial anything.
  transport.addPeer(PEER, ["http://127.0.0.1:2"]);
  return {
    raft,
    transport,
    saved,
    handle: transport.handler(),
    /** `await using` stops the transport. */
    [Symbol.asyncDispose]: () => transport.stop(),
  };
}

function headers(over: Record<string, string | null> = {}): Headers {
  const h = new Headers({
    "X-Server-From": PEER.toString(16),
    "X-Server-Version": "3.4.23",
    "X-Min-Cluster-Version": "3.0.0",
    "X-Etcd-Cluster-ID": CLUSTER.toString(16),
    "X-Raft-To": LOCAL.toString(16),
  });
  for (const [k, v] of Object.entries(over)) v === null ? h.delete(k) : h.set(k, v);
  return h;
}

const URL_BASE = "http://127.0.0.1:9";

async function expect(res: Response, status: number, body?: string) {
  const text = await res.text();
  assertEquals(res.status, status, `body: ${text}`);
  if (body !== undefined) assertEquals(text, body + "\n");
  if (status >= 400 && status !== 405) {
    assertEquals(res.headers.get("Content-Type"), "text/plain; charset=utf-8");
    assertEquals(res.headers.get("X-Content-Type-Options"), "nosniff");
  }
}

const post = (path: string, body: BodyInit | null, over: Record<string, string | null> = {}) =>
  new Request(URL_BASE + path, { method: "POST", headers: headers(over), body });

Deno.test("handler: POST /raft delivers a message and answers 204 after process", async () => {
  await using target = setup();
  const { raft, handle } = target;
  const m = msg(MessageType.MsgVote, PEER, LOCAL, { term: 7n });
  const res = await handle(post("/raft", encodeMessage(m)));
  await expect(res, 204);
  assertEquals(res.headers.get("X-Etcd-Cluster-ID"), "c1");
  assertEquals(raft.received.map((x) => [x.type, x.term]), [[MessageType.MsgVote, 7n]]);
});

Deno.test("handler: POST /raft failures use etcd's status codes in etcd's order", async () => {
  await using target = setup({ maxBodySize: 1024 });
  const { raft, handle } = target;
  const good = encodeMessage(msg(MessageType.MsgHeartbeat, PEER, LOCAL));
  const get = await handle(new Request(URL_BASE + "/raft", { headers: headers() }));
  assertEquals(get.status, 405);
  assertEquals(get.headers.get("Allow"), "POST");
  await get.body?.cancel();
  // Version before cluster id: both wrong gives "incompatible version".
  await expect(
    await handle(post("/raft", good, { "X-Server-Version": null, "X-Etcd-Cluster-ID": "ff" })),
    412,
    "incompatible version",
  );
  await expect(
    await handle(post("/raft", good, { "X-Min-Cluster-Version": "3.5.0" })),
    412,
    "incompatible version",
  );
  await expect(
    await handle(post("/raft", good, { "X-Etcd-Cluster-ID": "C1" })),
    412,
    "cluster ID mismatch",
  );
  await expect(
    await handle(post("/raft", new Uint8Array([0x3a, 0x05]))),
    400,
    "error unmarshalling raft message",
  );
  await expect(await handle(post("/raft", new Uint8Array(2048))), 413);
  const notForUs = encodeMessage(msg(MessageType.MsgHeartbeat, PEER, 0x1234n));
  await expect(await handle(post("/raft", notForUs)), 400);
  raft.removed.add(PEER);
  await expect(
    await handle(post("/raft", good)),
    403,
    "cannot process message from removed member",
  );
  assertEquals(raft.received.length, 0, "nothing reached raft");
  raft.removed.clear();
  await expect(await handle(post("/raft", good)), 204);
  assertEquals(raft.received.length, 1);
});

Deno.test("handler: a process error becomes 500, or the error's own status", async () => {
  await using target = setup();
  const { raft, handle } = target;
  const good = encodeMessage(msg(MessageType.MsgHeartbeat, PEER, LOCAL));
  raft.process = () => Promise.reject(new Error("boom"));
  await expect(await handle(post("/raft", good)), 500, "error processing raft message");
  raft.process = () => {
    throw Object.assign(new Error("member removed"), { status: 403 });
  };
  await expect(await handle(post("/raft", good)), 403, "member removed");
});

Deno.test("handler: POST /raft from an unknown sender with X-PeerURLs adds a remote", async () => {
  await using target = setup();
  const { handle } = target;
  const m = encodeMessage(msg(MessageType.MsgHeartbeat, 0x77n, LOCAL));
  await expect(
    await handle(post("/raft", m, { "X-Server-From": "77", "X-PeerURLs": "http://127.0.0.1:3" })),
    204,
  );
  // A bad URL is refused (etcd would panic and drop the connection)...
  const m78 = encodeMessage(msg(MessageType.MsgHeartbeat, 0x78n, LOCAL));
  await expect(
    await handle(post("/raft", m78, { "X-Server-From": "78", "X-PeerURLs": "notaurl" })),
    400,
  );
  // ...but a known remote is not re-parsed, as in etcd.
  await expect(
    await handle(post("/raft", m, { "X-Server-From": "77", "X-PeerURLs": "notaurl" })),
    204,
  );
});

const get = (path: string, over: Record<string, string | null> = {}) =>
  new Request(URL_BASE + path, { headers: headers(over) });

Deno.test("handler: stream GET checks, in etcd's order", async () => {
  await using target = setup();
  const { raft, transport, handle } = target;
  const path = `/raft/stream/message/${PEER.toString(16)}`;
  const post405 = await handle(post(path, null));
  assertEquals([post405.status, post405.headers.get("Allow")], [405, "GET"]);
  await post405.body?.cancel();
  const r412 = await handle(get(path, { "X-Etcd-Cluster-ID": "1" }));
  assertEquals(r412.headers.get("X-Server-Version"), "3.4.23");
  await expect(r412, 412, "cluster ID mismatch");
  await expect(
    await handle(get(`/raft/stream/msgappv2/${PEER.toString(16)}`)),
    404,
    "invalid path",
  );
  await expect(await handle(get("/raft/stream/message/xyz")), 404, "invalid from");
  raft.removed.add(PEER);
  await expect(await handle(get(path)), 410, "removed member");
  raft.removed.clear();
  await expect(await handle(get("/raft/stream/message/99")), 404, "error sender not found");
  await expect(
    await handle(get(path, { "X-Raft-To": "0" + LOCAL.toString(16) })),
    412,
    "to field mismatch",
  );
  await expect(await handle(get(path, { "X-Server-From": "5" })), 400);
  // Path ids are parsed leniently, as Go does.
  const ok = await handle(get(`/raft/stream/msgapp/0000${PEER.toString(16).toUpperCase()}`));
  assertEquals(ok.status, 200);
  assertEquals(ok.headers.get("X-Server-Version"), "3.4.23");
  assertEquals(ok.headers.get("X-Etcd-Cluster-ID"), "c1");
  assertEquals(ok.headers.get("Content-Type"), null);
  assertEquals(transport.peerStatus(PEER)?.streams.msgappv2.outgoing, true);
  await ok.body?.cancel();
  assertEquals(transport.peerStatus(PEER)?.streams.msgappv2.outgoing, false);
});

Deno.test("handler: a stream body carries queued messages as frames, coalesced", async () => {
  await using target = setup();
  const { transport, handle } = target;
  const res = await handle(get(`/raft/stream/message/${PEER.toString(16)}`));
  assertEquals(res.status, 200);
  const msgs = Array.from(
    { length: 100 },
    (_, i) => msg(MessageType.MsgHeartbeat, LOCAL, PEER, { term: BigInt(i) }),
  );
  transport.send(msgs);
  const reader = res.body!.getReader();
  const { value } = await reader.read();
  // A stream opens with a link heartbeat (so that its headers go out at once).
  const expected = [linkHeartbeat(), ...msgs].map(encodeMessageFrame);
  assertEquals(
    value!,
    new Uint8Array(expected.flatMap((f) => [...f])),
    "the heartbeat and all 100 frames in one chunk",
  );
  await reader.cancel();
});

Deno.test("handler: POST /raft/snapshot saves, then processes, then answers 204", async () => {
  await using target = setup();
  const { raft, handle, saved } = target;
  const m = msg(MessageType.MsgSnap, PEER, LOCAL, {
    snapshot: { metadata: { index: 42n, term: 2n } },
  });
  const data = new Uint8Array(100_000).fill(7);
  const body = new Uint8Array([...encodeMessageFrame(m), ...data]);
  await expect(await handle(post("/raft/snapshot", body)), 204);
  assertEquals(saved, [{ index: 42n, bytes: 100_000 }]);
  assertEquals(raft.received.map((x) => x.type), [MessageType.MsgSnap]);

  const wrong = encodeMessageFrame(msg(MessageType.MsgApp, PEER, LOCAL));
  await expect(await handle(post("/raft/snapshot", wrong)), 400, "wrong raft message type");
  await expect(await handle(post("/raft/snapshot", new Uint8Array([0, 0, 0]))), 400);
  const huge = new Uint8Array([0, 0, 0, 0, 0x7f, 0, 0, 0]);
  const r = await handle(post("/raft/snapshot", huge));
  assertMatch(
    await r.text(),
    /failed to decode raft message \(frame of 2130706432 bytes exceeds/,
  );
  const get405 = await handle(get("/raft/snapshot"));
  assertEquals(get405.status, 405);
  await get405.body?.cancel();
});

Deno.test("handler: probing answers etcd's JSON; other paths 404", async () => {
  await using target = setup();
  const { handle } = target;
  const res = await handle(new Request(URL_BASE + "/raft/probing"));
  assertEquals(res.status, 200);
  const body = await res.json();
  assertEquals(body.OK, true);
  assertMatch(body.Now, /^\d{4}-\d\d-\d\dT/);
  for (const p of ["/raft/", "/raft/foo", "/other"]) {
    await expect(await handle(new Request(URL_BASE + p)), 404, "404 page not found");
  }
});
