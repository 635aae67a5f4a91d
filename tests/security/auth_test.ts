// Shared-secret request signing: members with the secret talk, everyone
// else (unsigned, wrong secret, stale, replayed) gets 401 before anything.
import { assert, assertEquals, assertMatch } from "@std/assert";
import { MessageType } from "../../raftpb/raft_pb.ts";
import { encodeMessage } from "../../src/codec/protobuf.ts";
import { AUTH_HEADER, RequestAuth } from "../../src/http/auth.ts";
import type { Logger } from "../../src/logger.ts";
import { CLUSTER, group, msg, startNode, streamsUp, waitUntil } from "../harness.ts";

const SECRET = "correct horse battery staple, 2026";

Deno.test("auth: signed members connect; an unsigned or wrongly signed dialer gets 401", async () => {
  const warnings: string[] = [];
  const logger: Logger = {
    debug() {},
    info() {},
    warn: (m, f) => warnings.push(`${m} ${String(f?.reason)}`),
    error() {},
  };
  await using nodes = group(
    startNode(1n, { security: { auth: { secret: SECRET } }, logger }),
    startNode(2n, { security: { auth: { secret: SECRET } } }),
    startNode(3n, { security: { auth: { secret: "another secret of some length" } } }),
  );
  const [a, b, mallory] = nodes;
  a.transport.addPeer(2n, [b.url]);
  b.transport.addPeer(1n, [a.url]);
  a.transport.addPeer(3n, [mallory.url]);
  mallory.transport.addPeer(1n, [a.url]);
  await waitUntil(() => streamsUp(a, b) && streamsUp(b, a), 5000, "signed streams up");
  a.transport.send([msg(MessageType.MsgHeartbeat, 1n, 2n, { term: 2n })]);
  await b.raft.until(() => b.raft.received.length === 1);

  await waitUntil(
    () => warnings.some((w) => w.includes("bad signature")),
    5000,
    "mallory refused",
  );
  assertEquals(a.transport.peerStatus(3n)!.streams.message.outgoing, false);

  const body = encodeMessage(msg(MessageType.MsgVote, 2n, 1n));
  const headers = {
    "X-Server-From": "2",
    "X-Server-Version": "3.4.23",
    "X-Min-Cluster-Version": "3.0.0",
    "X-Etcd-Cluster-ID": CLUSTER.toString(16),
  };
  const unsigned = await fetch(a.url + "/raft", { method: "POST", headers, body });
  assertEquals(unsigned.status, 401);
  assertMatch(await unsigned.text(), /unauthorized: missing X-Raft-Auth/);
  const probe = await fetch(a.url + "/raft/probing");
  assertEquals(probe.status, 401, "even probing needs a signature");
  await probe.body?.cancel();

  // A correctly signed request works once; the same bytes again are a replay.
  const signer = new RequestAuth({ secret: SECRET });
  const signed = {
    ...headers,
    [AUTH_HEADER]: await signer.sign("POST", "/raft", "2", CLUSTER.toString(16)),
  };
  const first = await fetch(a.url + "/raft", { method: "POST", headers: signed, body });
  await first.body?.cancel();
  assertEquals(first.status, 204);
  const again = await fetch(a.url + "/raft", { method: "POST", headers: signed, body });
  assertMatch(await again.text(), /replayed request/);
  assertEquals(again.status, 401);
  assert(a.raft.received.filter((m) => m.type === MessageType.MsgVote).length === 1);
});

Deno.test("auth: tampered, stale and malformed signatures are refused", async () => {
  const auth = new RequestAuth({ secret: SECRET, maxSkewMs: 1000 });
  const req = (path: string, value: string, from = "2") =>
    new Request("http://x" + path, {
      headers: { [AUTH_HEADER]: value, "X-Server-From": from, "X-Etcd-Cluster-ID": "c1" },
    });
  const good = await auth.sign("GET", "/raft/stream/message/2", "2", "c1");
  assertEquals(
    await auth.verify(req("/raft/stream/message/2", good), "/raft/stream/message/2"),
    undefined,
  );
  const other = await auth.sign("GET", "/raft/stream/message/2", "2", "c1");
  assertMatch(
    (await auth.verify(req("/raft/stream/msgapp/2", other), "/raft/stream/msgapp/2"))!,
    /bad signature/,
  );
  const again = await auth.sign("GET", "/raft/stream/message/2", "2", "c1");
  assertMatch(
    (await auth.verify(req("/raft/stream/message/2", again, "5"), "/raft/stream/message/2"))!,
    /bad signature/,
  );
  const stale = good.replace(/ts=\d+/, `ts=${Date.now() - 5000}`);
  assertMatch((await auth.verify(req("/p", stale), "/p"))!, /stale request/);
  assertMatch((await auth.verify(req("/p", "v1 sig=abc"), "/p"))!, /malformed/);
});
