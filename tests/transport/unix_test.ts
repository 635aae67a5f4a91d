// unix:// peer URLs, both ways: two members served on unix sockets
// (serveUnix) that dial each other through unixFetch, streams and pipeline.
import { assertEquals, assertStringIncludes } from "@std/assert";
import { MessageType } from "../../raftpb/raft_pb.ts";
import { Transport } from "../../src/transport.ts";
import { serveUnix, unixFetch } from "../../src/edge/unix.ts";
import { silentLogger } from "../../src/logger.ts";
import { recordingLogger } from "../../src/testdata/recording_logger.ts";
import { CLUSTER, msg, RecordingRaft, tempDir, waitUntil } from "../harness.ts";

function member(id: bigint, url: string, fetch: typeof globalThis.fetch) {
  const raft = new RecordingRaft();
  const t = new Transport({
    id,
    clusterId: CLUSTER,
    urls: [url],
    raft,
    logger: silentLogger,
    probeIntervalMs: 0,
    fetch,
  });
  return { raft, t };
}

Deno.test("unix sockets: two members on unix:// URLs reach each other on streams and the pipeline", async () => {
  await using dir = await tempDir();
  using unix = unixFetch({ dir: dir.path });
  const [u1, u2] = ["unix://localhost:23801", "unix://localhost:23802"];
  const a = member(1n, u1, unix.fetch);
  const b = member(2n, u2, unix.fetch);
  const sa = serveUnix(a.t, { path: `${dir.path}/localhost:23801` });
  const sb = serveUnix(b.t, { path: `${dir.path}/localhost:23802` });
  try {
    a.t.start();
    b.t.start();
    // Before the streams are up, a message takes the pipeline (POST /raft over the socket).
    a.t.addPeer(2n, [u2]);
    a.t.send([msg(MessageType.MsgVote, 1n, 2n, { term: 2n })]);
    await b.raft.until(() => b.raft.received.length === 1, 5000, "the POST");
    b.t.addPeer(1n, [u1]);
    await waitUntil(
      () =>
        a.t.peerStatus(2n)!.streams.message.outgoing &&
        b.t.peerStatus(1n)!.streams.message.outgoing,
      5000,
      "streams both ways",
    );
    a.t.send([msg(MessageType.MsgHeartbeat, 1n, 2n, { term: 2n })]);
    b.t.send([msg(MessageType.MsgHeartbeatResp, 2n, 1n, { term: 2n })]);
    await b.raft.until(() => b.raft.received.length === 2, 5000, "the heartbeat");
    await a.raft.until(() => a.raft.received.length === 1, 5000, "the answer");
    assertEquals(a.t.peerStatus(2n)!.stats.sentOn, { message: 1, msgappv2: 0, pipeline: 1 });
    assertEquals(b.t.peerStatus(1n)!.stats.sentOn.message, 1);
    // The peer port's other endpoints answer over the socket too.
    const v = await unix.fetch("unix://localhost:23802/version");
    assertEquals(await v.json(), { etcdserver: "3.4.23", etcdcluster: "3.4.0" });
  } finally {
    await Promise.all([a.t.stop(), b.t.stop()]);
    await Promise.all([sa.shutdown(), sb.shutdown()]);
  }
});

Deno.test("unix sockets: without a fetch that reaches them, dials fail with a clear error", async () => {
  const logger = recordingLogger();
  const t = new Transport({
    id: 1n,
    clusterId: CLUSTER,
    urls: ["http://127.0.0.1:1"],
    raft: new RecordingRaft(),
    logger,
    probeIntervalMs: 0,
  });
  try {
    t.start();
    t.addPeer(2n, ["unix://localhost:23803"]);
    await waitUntil(() => logger.lines.some((r) => r.level === "warn"), 5000, "a warning");
    const w = logger.lines.find((r) => r.level === "warn")!;
    assertStringIncludes(String(w.fields?.error), "pass fetch: unixFetch().fetch");
  } finally {
    await t.stop();
  }
});
