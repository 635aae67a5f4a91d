// Peers over https with a CA made in the test (openssl): server certificates
// on Deno.serve, a client certificate on the dialing side (mTLS), and a
// member without the CA that cannot connect.
import { assert, assertEquals } from "@std/assert";
import { MessageType } from "../../raftpb/raft_pb.ts";
import { serve } from "../../src/edge/serve.ts";
import { Transport } from "../../src/transport.ts";
import { silentLogger } from "../../src/logger.ts";
import { freePort, msg, RecordingRaft, tempDir, waitUntil } from "../harness.ts";
import { hasOpenssl, makeCa, makeCert } from "./certs.ts";

/** A CA, and certificates for 127.0.0.1 signed by it (server and client use). */
async function makeCerts(dir: string) {
  const ca = await makeCa(dir, "ca");
  return {
    ca: ca.cert,
    node: {
      1: await makeCert(dir, "ca", "node1", "node1", ["IP:127.0.0.1"]),
      2: await makeCert(dir, "ca", "node2", "node2", ["IP:127.0.0.1"]),
    },
  };
}

Deno.test({
  name: "tls: two members over https with a custom CA and client certificates; no CA, no link",
  ignore: !hasOpenssl,
  async fn() {
    await using dir = await tempDir("rafthttp-tls-");
    const certs = await makeCerts(dir.path);
    const ports = { 1: freePort(), 2: freePort(), 3: freePort() };
    const url = (id: 1 | 2 | 3) => `https://127.0.0.1:${ports[id]}`;
    // Disposed in reverse: the transports stop, then the servers shut down,
    // then the clients close.
    using clients = new DisposableStack();
    await using servers = new AsyncDisposableStack();
    await using transports = new AsyncDisposableStack();
    const node = async (id: 1 | 2 | 3, withCa: boolean) => {
      const own = certs.node[id === 3 ? 2 : id];
      const client = clients.use(Deno.createHttpClient({
        caCerts: withCa ? [certs.ca] : [],
        cert: own.cert,
        key: own.key,
      }));
      const raft = new RecordingRaft();
      const t = new Transport({
        id: BigInt(id),
        clusterId: 0xc1n,
        urls: [url(id)],
        raft,
        logger: silentLogger,
        probeIntervalMs: 0,
        fetch: (input, init) => fetch(input, { ...init, client }),
      });
      servers.use(await serve(t, { port: ports[id], cert: own.cert, key: own.key }));
      t.start();
      transports.defer(() => t.stop());
      return { t, raft };
    };
    const a = await node(1, true);
    const b = await node(2, true);
    const c = await node(3, false);
    a.t.addPeer(2n, [url(2)]);
    b.t.addPeer(1n, [url(1)]);
    c.t.addPeer(1n, [url(1)]);
    await waitUntil(
      () => {
        const s = a.t.peerStatus(2n);
        return s !== undefined && s.streams.message.outgoing && s.streams.message.incoming;
      },
      10_000,
      "https streams up",
    );
    a.t.send([msg(MessageType.MsgApp, 1n, 2n, { term: 1n, logTerm: 1n, index: 1n })]);
    await b.raft.until(() => b.raft.received.length === 1, 5000, "MsgApp over TLS");
    assertEquals(b.raft.received[0].type, MessageType.MsgApp);
    // The member that does not trust our CA cannot dial anything: its
    // streams never come up and its POSTs fail.
    c.t.send([msg(MessageType.MsgHeartbeat, 3n, 1n)]);
    await c.raft.until(() => c.raft.unreachable.includes(1n), 5000, "no CA: unreachable");
    assert(!c.t.peerStatus(1n)!.streams.message.incoming);
    assertEquals(a.raft.received.filter((m) => m.from === 3n).length, 0);
  },
});
