// Members whose requests go through the node:http dialer (the default on
// Deno): both stream types, the pipeline, snapshots, failover to a second
// URL, and a stop that releases every connection (Deno's sanitizers are on).
import { assert, assertEquals } from "@std/assert";
import { MessageType } from "../../raftpb/raft_pb.ts";
import type { Dialer, DialRequest } from "../../src/http/dialer.ts";
import { nodeDialer } from "../../src/edge/node_dialer.ts";
import { SnapshotMessage } from "../../src/snapshot/message.ts";
import { group, msg, readersUp, startNode, streamsUp, waitUntil } from "../harness.ts";

/** `inner`, recording "METHOD path" of every request it sends. */
function recording(inner: Dialer, seen: string[]): Dialer {
  return {
    dial(req: DialRequest) {
      seen.push(`${req.method} ${new URL(req.url).pathname}`);
      return inner.dial(req);
    },
  };
}

function data(size: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(c) {
      const n = Math.min(256 * 1024, size - sent);
      if (n === 0) return c.close();
      c.enqueue(new Uint8Array(n).fill(sent / 1024 & 0xff));
      sent += n;
    },
  }, { highWaterMark: 0 });
}

Deno.test("node dialer: both streams, the pipeline and a snapshot; failover to a second URL", async () => {
  const seen: string[] = [];
  const dialer = nodeDialer();
  try {
    await using nodes = group(startNode(1n, { dialer: recording(dialer, seen) }), startNode(2n));
    const [a, b] = nodes;
    const dead = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const deadUrl = `http://127.0.0.1:${dead.addr.port}`;
    dead.close();
    a.transport.addPeer(2n, [deadUrl, b.url]);
    b.transport.addPeer(1n, [a.url]);
    // a's readers dial b's streams (through the dead URL first).
    await waitUntil(() => readersUp(a, b), 5000, "a reads both of b's streams via the second URL");
    assert(seen.includes("GET /raft/stream/message/1"), seen.join(", "));
    assert(seen.includes("GET /raft/stream/msgapp/1"), seen.join(", "));
    // What b sends arrives on the streams a reads.
    await waitUntil(() => streamsUp(b, a), 5000, "b's writers attached");
    b.transport.send([
      msg(MessageType.MsgHeartbeat, 2n, 1n, { term: 3n }),
      msg(MessageType.MsgApp, 2n, 1n, {
        term: 3n,
        logTerm: 3n,
        index: 7n,
        entries: [{ term: 3n, index: 8n, data: new Uint8Array(5000).fill(9) }],
      }),
    ]);
    await a.raft.until(() => a.raft.received.length === 2, 5000, "both stream types delivered");
    assertEquals(a.raft.received.map((m) => m.type).sort(), [
      MessageType.MsgApp,
      MessageType.MsgHeartbeat,
    ]);
    const app = a.raft.received.find((m) => m.type === MessageType.MsgApp)!;
    assertEquals(app.entries[0].data, new Uint8Array(5000).fill(9));
    // MsgSnap always takes the pipeline: POST /raft through a.s dialer.
    // always takes the pipeline (POST /raft through a's dialer).
    a.transport.send([
      msg(MessageType.MsgSnap, 1n, 2n, { snapshot: { metadata: { index: 3n, term: 1n } } }),
    ]);
    await b.raft.until(() => b.raft.received.some((m) => m.type === MessageType.MsgSnap), 5000);
    assert(seen.includes("POST /raft"), seen.join(", "));
    // A streamed snapshot: POST /raft/snapshot with 8 MiB behind the MsgSnap.
    const snap = new SnapshotMessage(
      msg(MessageType.MsgSnap, 1n, 2n, { snapshot: { metadata: { index: 9n, term: 1n } } }),
      data(8 * 1024 * 1024),
      8 * 1024 * 1024,
    );
    a.transport.sendSnapshot(snap);
    assertEquals(await snap.done, true);
    assert(seen.includes("POST /raft/snapshot"), seen.join(", "));
  } finally {
    dialer.close();
  }
});

Deno.test("node dialer: the default on Deno; stop() closes its connections", async () => {
  // A node:http peer that answers 404 and keeps connections alive, so that
  // only the client can close them before its keep-alive timeout (5 s).
  const http = await import("node:http");
  const agents: (string | undefined)[] = [];
  const sockets = new Set<unknown>();
  const peer = http.createServer((req, res) => {
    agents.push(req.headers["user-agent"]);
    if (!sockets.has(req.socket)) {
      sockets.add(req.socket);
      req.socket.on("close", () => sockets.delete(req.socket));
    }
    res.writeHead(404, { "Content-Length": "0", "X-Server-Version": "3.4.23" }).end();
  });
  await new Promise<void>((resolve) => peer.listen(0, "127.0.0.1", resolve));
  const port = (peer.address() as { port: number }).port;
  try {
    const a = startNode(1n, { stream: { redialMinMs: 20, redialMaxMs: 40 } });
    a.transport.addPeer(2n, [`http://127.0.0.1:${port}`]);
    await waitUntil(() => agents.length >= 4, 5000, "stream dials");
    assert(sockets.size > 0);
    await a.close();
    await waitUntil(() => sockets.size === 0, 2000, "the peer's connections closed by our stop()");
    // fetch announces itself as Deno/x.y.z; node:http sends no user agent.
    assert(agents.every((ua) => ua === undefined || !ua.startsWith("Deno/")), agents.join(", "));
  } finally {
    await new Promise((resolve) => peer.close(resolve));
  }
});

Deno.test("node dialer: a stream from a live peer ends when the transport stops", async () => {
  await using nodes = group(startNode(1n), startNode(2n));
  const [a, b] = nodes;
  a.transport.addPeer(2n, [b.url]);
  b.transport.addPeer(1n, [a.url]);
  await waitUntil(() => readersUp(a, b) && readersUp(b, a), 5000, "streams up both ways");
  const t = performance.now();
  await a.transport.stop();
  assert(performance.now() - t < 2000, "stop() did not wait for a read timeout");
  await waitUntil(() => !readersUp(b, a), 5000, "b's readers see a's streams end");
});
