// mTLS on serve()'s node engine, as etcd's peer flags do it: with
// clientCertAuth a client without a certificate, or with one from another
// CA, fails the TLS handshake; allowedCN / allowedHostname refuse other
// certificates of the right CA with 403; every refusal is logged; allowed
// clients are served; two members form a cluster over mTLS.
import { assert, assertEquals, assertRejects } from "@std/assert";
import { MessageType } from "../../raftpb/raft_pb.ts";
import { serve, type ServeOptions } from "../../src/edge/serve.ts";
import { Transport } from "../../src/transport.ts";
import { type Logger, silentLogger } from "../../src/logger.ts";
import { CLUSTER, freePorts, msg, RecordingRaft, tempDir, waitUntil } from "../harness.ts";
import { type Cert, hasOpenssl, makeCa, makeCert } from "./certs.ts";

interface Pki {
  ca: Cert;
  server: Cert;
  /** CN m1, SANs m1.peers.test and 127.0.0.1. */
  m1: Cert;
  /** CN m2, SAN m2.peers.test. */
  m2: Cert;
  /** CN m1 as well, but signed by another CA. */
  other: Cert;
}

async function makePki(dir: string): Promise<Pki> {
  const ca = await makeCa(dir, "ca");
  await makeCa(dir, "other-ca");
  return {
    ca,
    server: await makeCert(dir, "ca", "server", "server", ["IP:127.0.0.1", "DNS:localhost"]),
    m1: await makeCert(dir, "ca", "m1", "m1", ["DNS:m1.peers.test", "IP:127.0.0.1"]),
    m2: await makeCert(dir, "ca", "m2", "m2", ["DNS:m2.peers.test"]),
    other: await makeCert(dir, "other-ca", "other", "m1", ["DNS:m1.peers.test", "IP:127.0.0.1"]),
  };
}

/** A logger keeping the lines at warn and above. */
function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (msg: string, fields?: Record<string, unknown>) =>
    lines.push(`${msg} ${JSON.stringify(fields ?? {})}`);
  return { lines, debug() {}, info() {}, warn: keep, error: keep };
}

function transport(port: number) {
  return new Transport({
    id: 1n,
    clusterId: CLUSTER,
    urls: [`https://127.0.0.1:${port}`],
    raft: new RecordingRaft(),
    logger: silentLogger,
    probeIntervalMs: 0,
  });
}

/** GET /raft/probing with `client`: the status, or the error's text if the connection failed. */
async function probe(port: number, client: Deno.HttpClient): Promise<number | string> {
  try {
    const res = await fetch(`https://127.0.0.1:${port}/raft/probing`, { client });
    await res.body?.cancel();
    return res.status;
  } catch (e) {
    return `failed: ${(e as Error).message}`;
  }
}

/** One member served with `tls` on `port`, probed by every kind of client. */
async function probeAll(pki: Pki, tls: Partial<ServeOptions>) {
  const [port] = freePorts(1);
  const log = recordingLogger();
  const t = transport(port);
  await using _server = await serve(t, {
    port,
    cert: pki.server.cert,
    key: pki.server.key,
    ca: pki.ca.cert,
    clientCertAuth: true,
    logger: log,
    ...tls,
  });
  using none = Deno.createHttpClient({ caCerts: [pki.ca.cert] });
  using other = Deno.createHttpClient({ caCerts: [pki.ca.cert], ...pair(pki.other) });
  using m1 = Deno.createHttpClient({ caCerts: [pki.ca.cert], ...pair(pki.m1) });
  using m2 = Deno.createHttpClient({ caCerts: [pki.ca.cert], ...pair(pki.m2) });
  const out = {
    none: await probe(port, none),
    other: await probe(port, other),
    m1: await probe(port, m1),
    m2: await probe(port, m2),
  };
  await t.stop();
  return { out, lines: log.lines };
}

const pair = (c: Cert) => ({ cert: c.cert, key: c.key });

Deno.test({
  name: "mtls: clientCertAuth refuses no certificate and another CA's in the handshake; logged",
  ignore: !hasOpenssl,
  async fn() {
    await using dir = await tempDir("rafthttp-mtls-");
    const pki = await makePki(dir.path);
    const { out, lines } = await probeAll(pki, {});
    assert(typeof out.none === "string" && out.none.startsWith("failed"), String(out.none));
    assert(typeof out.other === "string" && out.other.startsWith("failed"), String(out.other));
    assertEquals([out.m1, out.m2], [200, 200]);
    assert(
      lines.some((l) => l.includes("refused a TLS connection")),
      `no handshake refusal logged: ${lines.join("\n")}`,
    );
  },
});

Deno.test({
  name: "mtls: allowedCN serves the CNs listed and answers 403 to others, logged once",
  ignore: !hasOpenssl,
  async fn() {
    await using dir = await tempDir("rafthttp-mtls-");
    const pki = await makePki(dir.path);
    const { out, lines } = await probeAll(pki, { allowedCN: ["m1", "m3"] });
    assertEquals([out.m1, out.m2], [200, 403]);
    assert(typeof out.other === "string", "another CA's m1 must fail the handshake");
    const refused = lines.filter((l) => l.includes("client certificate authentication failed"));
    assertEquals(refused.length, 1, lines.join("\n"));
    assert(refused[0].includes('"cn":"m2"'), refused[0]);
  },
});

Deno.test({
  name: "mtls: allowedHostname checks the certificate's SANs (names and IPs), never its CN",
  ignore: !hasOpenssl,
  async fn() {
    await using dir = await tempDir("rafthttp-mtls-");
    const pki = await makePki(dir.path);
    const byName = await probeAll(pki, { allowedHostname: "M1.peers.test." });
    assertEquals([byName.out.m1, byName.out.m2], [200, 403]);
    assert(byName.lines.some((l) => l.includes("client certificate authentication failed")));
    const byIp = await probeAll(pki, { allowedHostname: "127.0.0.1" });
    assertEquals([byIp.out.m1, byIp.out.m2], [200, 403]);
    // m2's CN is "m2", but a CN is not a hostname.
    const byCn = await probeAll(pki, { allowedHostname: "m2" });
    assertEquals([byCn.out.m1, byCn.out.m2], [403, 403]);
  },
});

Deno.test({
  name: "mtls: two members form a cluster over mTLS with allowedCN; a third CA's member cannot",
  ignore: !hasOpenssl,
  async fn() {
    await using dir = await tempDir("rafthttp-mtls-");
    const pki = await makePki(dir.path);
    const ports = freePorts(3);
    const url = (i: number) => `https://127.0.0.1:${ports[i]}`;
    await using servers = new AsyncDisposableStack();
    await using transports = new AsyncDisposableStack();
    const member = async (i: number, own: Cert) => {
      const raft = new RecordingRaft();
      const t = new Transport({
        id: BigInt(i + 1),
        clusterId: CLUSTER,
        urls: [url(i)],
        raft,
        logger: silentLogger,
        probeIntervalMs: 0,
        security: { tls: { ca: pki.ca.cert, ...pair(own) } },
      });
      servers.use(
        await serve(t, {
          port: ports[i],
          ...pair(own),
          ca: pki.ca.cert,
          clientCertAuth: true,
          allowedCN: ["m1", "m2"],
        }),
      );
      t.start();
      transports.defer(() => t.stop());
      return { t, raft };
    };
    // m1's certificate has the SAN 127.0.0.1 and serves; m2's has none, so
    // b serves with the server certificate and dials with m2's.
    const a = await member(0, pki.m1);
    const bRaft = new RecordingRaft();
    const b = new Transport({
      id: 2n,
      clusterId: CLUSTER,
      urls: [url(1)],
      raft: bRaft,
      logger: silentLogger,
      probeIntervalMs: 0,
      security: { tls: { ca: pki.ca.cert, ...pair(pki.m2) } },
    });
    servers.use(
      await serve(b, {
        port: ports[1],
        ...pair(pki.server),
        ca: pki.ca.cert,
        clientCertAuth: true,
        allowedCN: ["m1", "m2"],
      }),
    );
    b.start();
    transports.defer(() => b.stop());
    const c = await member(2, pki.other);
    a.t.addPeer(2n, [url(1)]);
    b.addPeer(1n, [url(0)]);
    c.t.addPeer(1n, [url(0)]);
    await waitUntil(
      () => {
        const s = a.t.peerStatus(2n);
        return s !== undefined && s.streams.message.incoming && s.streams.message.outgoing;
      },
      10_000,
      "mTLS streams up",
    );
    a.t.send([msg(MessageType.MsgApp, 1n, 2n, { term: 1n, logTerm: 1n, index: 1n })]);
    b.send([msg(MessageType.MsgHeartbeat, 2n, 1n, { term: 1n })]);
    await bRaft.until(() => bRaft.received.length >= 1, 5000, "MsgApp over mTLS");
    await a.raft.until(() => a.raft.received.some((m) => m.from === 2n), 5000, "heartbeat");
    c.t.send([msg(MessageType.MsgHeartbeat, 3n, 1n)]);
    await c.raft.until(() => c.raft.unreachable.includes(1n), 5000, "other CA: unreachable");
    assertEquals(a.raft.received.filter((m) => m.from === 3n).length, 0);
  },
});

Deno.test("mtls: engine deno cannot check client certificates", async () => {
  const t = transport(1);
  await assertRejects(
    () =>
      serve(t, {
        port: 0,
        engine: "deno",
        cert: "c",
        key: "k",
        ca: "a",
        clientCertAuth: true,
      }),
    TypeError,
    "denoland/deno#26825",
  );
  await t.stop();
});
