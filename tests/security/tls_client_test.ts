// The client side of mTLS through the `security.tls` option (the transport's own
// node:https dialer): against a node:https server that requires a client
// certificate from its CA, a member with one reads streams, posts to the
// pipeline and sends a snapshot; one without a certificate, or with one from
// another CA, is refused. Certificates are made by openssl in a tempDir
// (X.509 v3, with -extfile).
import { assert, assertEquals } from "@std/assert";
import type { IncomingMessage, ServerResponse } from "node:http";
import { MessageType } from "../../raftpb/raft_pb.ts";
import { Transport } from "../../src/transport.ts";
import type { TransportOptions } from "../../src/options.ts";
import { silentLogger } from "../../src/logger.ts";
import { SnapshotMessage } from "../../src/snapshot/message.ts";
import { msg, RecordingRaft, tempDir, waitUntil } from "../harness.ts";
import { hasOpenssl, makeCa, makeCert } from "./certs.ts";

/** Two CAs; a server certificate for 127.0.0.1 and client "member1" from the first, "rogue" from the second. */
async function makeCerts(dir: string) {
  const ca1 = await makeCa(dir, "ca1");
  await makeCa(dir, "ca2");
  return {
    ca1: ca1.cert,
    server: await makeCert(dir, "ca1", "server", "server", ["IP:127.0.0.1"]),
    member1: await makeCert(dir, "ca1", "member1", "member1", []),
    rogue: await makeCert(dir, "ca2", "rogue", "rogue", []),
  };
}

/**
 * `handler` on node:https, requiring a client certificate from `ca`; records
 * the CN of every verified client. Response bodies are streamed.
 */
async function mtlsServer(
  tls: { cert: string; key: string; ca: string },
  handler: (req: Request) => Promise<Response>,
) {
  const https = await import("node:https");
  const { Readable } = await import("node:stream");
  const cns: string[] = [];
  const server = https.createServer(
    { ...tls, requestCert: true, rejectUnauthorized: true },
    async (req: IncomingMessage, res: ServerResponse) => {
      // deno-lint-ignore no-explicit-any
      const sock = req.socket as any;
      cns.push(sock.getPeerCertificate?.()?.subject?.CN);
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) {
        if (typeof v === "string") headers.set(k, v);
      }
      const hasBody = req.method !== "GET" && req.method !== "HEAD";
      const abort = new AbortController();
      res.on("close", () => abort.abort());
      const answer = await handler(
        new Request(`https://127.0.0.1${req.url}`, {
          method: req.method,
          headers,
          body: hasBody ? Readable.toWeb(req) as ReadableStream<Uint8Array> : undefined,
          signal: abort.signal,
          duplex: "half",
        } as RequestInit),
      );
      res.writeHead(answer.status, Object.fromEntries(answer.headers));
      res.flushHeaders();
      if (answer.body === null) return void res.end();
      const reader = answer.body.getReader();
      abort.signal.addEventListener("abort", () => reader.cancel().catch(() => {}));
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          res.write(value);
        }
        res.end();
      } catch {
        res.destroy();
      }
    },
  );
  const sockets = new Set<{ destroy(): void }>();
  server.on("secureConnection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `https://127.0.0.1:${port}`,
    cns,
    async [Symbol.asyncDispose]() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function member(id: bigint, url: string, extra: Partial<TransportOptions>) {
  const raft = new RecordingRaft();
  const t = new Transport({
    id,
    clusterId: 0xc1n,
    urls: [url],
    raft,
    logger: silentLogger,
    probeIntervalMs: 0,
    stream: { redialMinMs: 50, redialMaxMs: 100 },
    ...extra,
  });
  t.start();
  return { t, raft };
}

Deno.test({
  name:
    "security.tls: a member with a client certificate reaches an mTLS peer; none or another CA's is refused",
  ignore: !hasOpenssl,
  async fn() {
    await using dir = await tempDir("rafthttp-mtls-client-");
    const certs = await makeCerts(dir.path);
    // The peer (member 2) is served by node:https, requiring client certificates.
    const peer = member(2n, "https://127.0.0.1:1", {});
    await using server = await mtlsServer({ ...certs.server, ca: certs.ca1 }, peer.t.handler());
    // Disposed first: every transport stops, then the server closes.
    await using transports = new AsyncDisposableStack();
    transports.defer(() => peer.t.stop());
    const good = member(1n, "https://127.0.0.1:2", {
      security: { tls: { ca: certs.ca1, cert: certs.member1.cert, key: certs.member1.key } },
    });
    transports.defer(() => good.t.stop());
    const bare = member(3n, "https://127.0.0.1:3", { security: { tls: { ca: [certs.ca1] } } });
    transports.defer(() => bare.t.stop());
    const rogue = member(4n, "https://127.0.0.1:4", {
      security: { tls: { ca: certs.ca1, cert: certs.rogue.cert, key: certs.rogue.key } },
    });
    transports.defer(() => rogue.t.stop());
    for (const id of [1n, 3n, 4n]) peer.t.addPeer(id, [`https://127.0.0.1:${9 + Number(id)}`]);
    good.t.addPeer(2n, [server.url]);
    bare.t.addPeer(2n, [server.url]);
    rogue.t.addPeer(2n, [server.url]);

    // Streams: member 1's readers dial the peer over mTLS.
    await waitUntil(
      () => {
        const s = good.t.peerStatus(2n)!.streams;
        return s.message.incoming && s.msgappv2.incoming;
      },
      10_000,
      "member 1 reads both of the peer's streams over mTLS",
    );
    peer.t.send([msg(MessageType.MsgHeartbeat, 2n, 1n, { term: 2n })]);
    await good.raft.until(() => good.raft.received.length === 1, 5000, "heartbeat over mTLS");
    // The pipeline (the peer cannot dial member 1, so nothing is on a stream
    // toward it) and a snapshot.
    good.t.send([msg(MessageType.MsgApp, 1n, 2n, { term: 2n, logTerm: 2n, index: 1n })]);
    await peer.raft.until(() => peer.raft.received.length === 1, 5000, "POST /raft over mTLS");
    const size = 2 * 1024 * 1024;
    let sent = 0;
    const snap = new SnapshotMessage(
      msg(MessageType.MsgSnap, 1n, 2n, { snapshot: { metadata: { index: 4n, term: 2n } } }),
      new ReadableStream({
        pull(c) {
          if (sent === size) return c.close();
          sent += 65536;
          c.enqueue(new Uint8Array(65536));
        },
      }),
      size,
    );
    good.t.sendSnapshot(snap);
    assertEquals(await snap.done, true, "snapshot over mTLS");
    assert(server.cns.length > 0 && server.cns.every((cn) => cn === "member1"), server.cns.join());

    // No certificate, or one from another CA: the handshake fails, nothing is delivered.
    bare.t.send([msg(MessageType.MsgHeartbeat, 3n, 2n)]);
    rogue.t.send([msg(MessageType.MsgHeartbeat, 4n, 2n)]);
    await bare.raft.until(() => bare.raft.unreachable.includes(2n), 5000, "no cert: unreachable");
    await rogue.raft.until(() => rogue.raft.unreachable.includes(2n), 5000, "rogue: unreachable");
    assert(!bare.t.peerStatus(2n)!.streams.message.incoming);
    assert(!rogue.t.peerStatus(2n)!.streams.message.incoming);
    assertEquals(peer.raft.received.filter((m) => m.from === 3n || m.from === 4n), []);
  },
});
