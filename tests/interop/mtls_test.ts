// etcd 3.4 and our member over mTLS: etcd runs with https peer URLs and
// --peer-client-cert-auth --peer-trusted-ca-file --peer-cert-file
// --peer-key-file; we serve with serve()'s clientCertAuth, the same CA and
// allowedCN (etcd's CN and ours),
// and dial with a client certificate. A two-member cluster can only commit
// with our acks, so every put that succeeds crossed https both ways. A
// member of ours with a certificate from another CA is refused by both.
import { assert, assertEquals } from "@std/assert";
import { Transport } from "../../src/transport.ts";
import { serve } from "../../src/edge/serve.ts";
import { silentLogger } from "../../src/logger.ts";
import { MessageType } from "../../raftpb/raft_pb.ts";
import { msg, RecordingRaft, tempDir, waitUntil } from "../harness.ts";
import { type Cert, hasOpenssl, makeCa, makeCert } from "../security/certs.ts";
import { Etcd, freePort, interopTest, retry } from "./etcd.ts";
import { Follower } from "./follower.ts";
import { clusterIds } from "./ids.ts";
import { RecordingLogger } from "./member.ts";

const pair = (c: Cert) => ({ cert: c.cert, key: c.key });

/** A CA with etcd's certificate and ours; an intruder's (CN as ours) from another CA. */
async function makeCerts(dir: string) {
  const ca = await makeCa(dir, "ca");
  await makeCa(dir, "other-ca");
  const san = ["IP:127.0.0.1", "DNS:localhost"];
  return {
    ca,
    etcd: await makeCert(dir, "ca", "etcd1", "etcd1", san),
    ours: await makeCert(dir, "ca", "deno", "deno", san),
    intruder: await makeCert(dir, "other-ca", "intruder", "deno", san),
  };
}
type Certs = Awaited<ReturnType<typeof makeCerts>>;

/** The two members: their https peer URLs and the ids etcd derives from them. */
interface Cluster {
  urls: { etcd1: string; deno: string };
  ids: Awaited<ReturnType<typeof clusterIds>>;
}

/**
 * Our member: served with the CA's client-cert checks, dialling with its
 * certificate; `stack` stops it.
 */
async function startOurMember(
  stack: AsyncDisposableStack,
  certs: Certs,
  { urls, ids }: Cluster,
  port: number,
): Promise<{ t: Transport; follower: Follower; logger: RecordingLogger }> {
  const { ca, ours } = certs;
  const follower = new Follower(ids.members.deno);
  const logger = new RecordingLogger();
  const t = new Transport({
    id: ids.members.deno,
    clusterId: ids.cluster,
    urls: [urls.deno],
    raft: follower,
    logger,
    probeIntervalMs: 0,
    // The client side of mTLS, through the transport's own node:https dialer.
    security: { tls: { ca: ca.cert, ...pair(ours) } },
  });
  follower.transport = t;
  const server = await serve(t, {
    port,
    ...pair(ours),
    ca: ca.cert,
    clientCertAuth: true,
    // etcd's peer certificate has CN etcd1; the intruder's has ours, "deno".
    allowedCN: ["etcd1", "deno"],
    logger,
  });
  stack.defer(() => server.shutdown());
  t.start();
  stack.defer(() => t.stop());
  t.addPeer(ids.members.etcd1, [urls.etcd1]);
  return { t, follower, logger };
}

/** Puts commit (so our acks crossed https) and all four streams are up, over mTLS. */
async function commitsOverMtls(
  etcd: Etcd,
  { t, follower }: { t: Transport; follower: Follower },
  { ids }: Cluster,
): Promise<void> {
  await retry(() => etcd.put("interop/mtls", "over https"), "first put over mTLS", 40000);
  for (let i = 0; i < 20; i++) await etcd.put(`interop/mtls/${i}`, String(i));
  await waitUntil(
    () => {
      const s = t.peerStatus(ids.members.etcd1)!.streams;
      return s.message.outgoing && s.msgappv2.outgoing && s.message.incoming &&
        s.msgappv2.incoming;
    },
    20000,
    "all four streams between etcd and us, over https",
  );
  assert(follower.appends.some((a) => a.accepted), "MsgApps from etcd, accepted");
}

/**
 * A member of ours whose certificate another CA signed: etcd refuses it in
 * the handshake (and logs it).
 */
async function etcdRefusesIntruder(
  stack: AsyncDisposableStack,
  etcd: Etcd,
  certs: Certs,
  { urls, ids }: Cluster,
  port: number,
): Promise<void> {
  const raft = new RecordingRaft();
  const bad = new Transport({
    id: ids.members.deno,
    clusterId: ids.cluster,
    urls: [`https://127.0.0.1:${port}`],
    raft,
    logger: silentLogger,
    probeIntervalMs: 0,
    security: { tls: { ca: certs.ca.cert, ...pair(certs.intruder) } },
  });
  bad.start();
  stack.defer(() => bad.stop());
  bad.addPeer(ids.members.etcd1, [urls.etcd1]);
  bad.send([msg(MessageType.MsgHeartbeat, ids.members.deno, ids.members.etcd1, { term: 1n })]);
  await raft.until(() => raft.unreachable.includes(ids.members.etcd1), 10000, "etcd refuses it");
  await waitUntil(
    () => etcd.lines.some((l) => l.includes("rejected connection")),
    10000,
    "etcd logs the rejected connection",
  );
}

/** Both members refuse the intruder's certificate in the handshake; ours logs it. */
async function bothRefuse(
  badClient: Deno.HttpClient,
  { urls }: Cluster,
  logger: RecordingLogger,
): Promise<void> {
  for (const url of [urls.etcd1, urls.deno]) {
    const refused = await fetch(`${url}/version`, { client: badClient }).then(
      async (r) => {
        await r.body?.cancel();
        return `answered ${r.status}`;
      },
      () => "refused",
    );
    assertEquals(refused, "refused", `${url} must refuse another CA's certificate`);
  }
  await waitUntil(
    () => logger.records.some((r) => r.msg.includes("refused a TLS connection")),
    5000,
    "our refusal is logged",
  );
}

interopTest(
  "mTLS: etcd with --peer-client-cert-auth and our member form a cluster over https; another CA is refused by both",
  async () => {
    assert(hasOpenssl, "openssl is needed to make the certificates");
    await using dir = await tempDir("rafthttp-interop-mtls-");
    const certs = await makeCerts(dir.path);
    const { ca } = certs;

    const [peerPort, clientPort, ourPort, intruderPort] = [
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ];
    const urls = { etcd1: `https://127.0.0.1:${peerPort}`, deno: `https://127.0.0.1:${ourPort}` };
    const token = `rafthttp-mtls-${crypto.randomUUID().slice(0, 8)}`;
    const ids = await clusterIds({ etcd1: [urls.etcd1], deno: [urls.deno] }, token);
    const cluster: Cluster = { urls, ids };

    using clients = new DisposableStack();
    await using stack = new AsyncDisposableStack();
    const etcd = await Etcd.start({
      name: "etcd1",
      peerPort,
      clientPort,
      initialCluster: urls,
      token,
      peerTls: { caFile: ca.certFile, certFile: certs.etcd.certFile, keyFile: certs.etcd.keyFile },
    });
    stack.defer(() => etcd.stop());

    // The fetch client below (for direct checks) is HTTP/1.1 only: etcd's peer port hands
    // HTTP/2 (which fetch would negotiate by ALPN) to its gRPC server, which fails it.
    const client = clients.use(
      Deno.createHttpClient({ caCerts: [ca.cert], ...pair(certs.ours), http1: true, http2: false }),
    );
    const us = await startOurMember(stack, certs, cluster, ourPort);
    await etcd.waitListening();
    await commitsOverMtls(etcd, us, cluster);

    const badClient = clients.use(
      Deno.createHttpClient({ caCerts: [ca.cert], ...pair(certs.intruder) }),
    );
    await etcdRefusesIntruder(stack, etcd, certs, cluster, intruderPort);
    await bothRefuse(badClient, cluster, us.logger);
    // Our own client is still served by both.
    for (const url of [urls.etcd1, urls.deno]) {
      const res = await fetch(`${url}/version`, { client });
      assertEquals(res.status, 200, url);
      await res.body?.cancel();
    }
  },
);
