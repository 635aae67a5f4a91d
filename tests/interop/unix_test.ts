// unix:// peer URLs with a real etcd 3.4 member: etcd listens on the socket
// file `localhost:<n>` in its working directory, the Deno member on its own
// (serveUnix) and dials etcd's through unixFetch. etcd can only win its
// election with our vote and commit with our acks, so a successful put went
// through our transport both ways, over unix sockets.
import { assertEquals } from "@std/assert";
import { Transport } from "../../src/transport.ts";
import { serveUnix, unixFetch } from "../../src/edge/unix.ts";
import { Etcd, freePort, interopTest, retry } from "./etcd.ts";
import { Follower } from "./follower.ts";
import { RecordingLogger } from "./member.ts";
import { clusterIds, hex } from "./ids.ts";
import { tempDir, waitUntil } from "../harness.ts";

interopTest(
  "unix sockets: etcd and a Deno member on unix:// peer URLs elect, commit, stream",
  async () => {
    await using dir = await tempDir();
    using unix = unixFetch({ dir: dir.path });
    const token = `rafthttp-unix-${crypto.randomUUID().slice(0, 8)}`;
    const [ep, dp] = [freePort(), freePort()]; // only names here: unique socket files
    const urls = { e1: `unix://localhost:${ep}`, deno: `unix://localhost:${dp}` };
    const ids = await clusterIds({ e1: [urls.e1], deno: [urls.deno] }, token);
    const logger = new RecordingLogger();
    const follower = new Follower(ids.members.deno);
    const t = new Transport({
      id: ids.members.deno,
      clusterId: ids.cluster,
      urls: [urls.deno],
      raft: follower,
      logger,
      fetch: unix.fetch,
      probeIntervalMs: 0,
    });
    follower.transport = t;
    const server = serveUnix(t, { path: `${dir.path}/localhost:${dp}` });
    t.addPeer(ids.members.e1, [urls.e1]);
    t.start();
    const etcd = await Etcd.start({
      name: "e1",
      peerPort: ep,
      clientPort: freePort(),
      initialCluster: urls,
      token,
      cwd: dir.path,
      extraArgs: ["--listen-peer-urls", urls.e1, "--initial-advertise-peer-urls", urls.e1],
    });
    try {
      await retry(() => etcd.put("unix/hello", "world"), "first put over unix sockets", 40000);
      assertEquals(hex((await etcd.status()).leader), hex(ids.members.e1));
      await waitUntil(
        () => {
          const s = t.peerStatus(ids.members.e1)!.streams;
          return s.message.outgoing && s.msgappv2.outgoing && s.message.incoming &&
            s.msgappv2.incoming;
        },
        20000,
        "all four streams between etcd and us, over unix sockets",
      );
      assertEquals((await etcd.rangePrefix("unix/")).get("unix/hello"), "world");
      // etcd reads our /version over the socket too: the cluster version settles at 3.4.0.
      await waitUntil(
        async () =>
          (await (await fetch(`${etcd.clientUrl}/version`)).json()).etcdcluster === "3.4.0",
        20000,
        "cluster version 3.4.0",
        250,
      );
      assertEquals(etcd.lines.filter((l) => l.includes("failed to get version")), []);
    } finally {
      await t.stop();
      await server.shutdown();
      await etcd.stop();
    }
  },
);
