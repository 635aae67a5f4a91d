// A member taking a large snapshot in keeps its raft traffic flowing: on the
// edges the benchmarks use (serve() on node:http, the node dialer), with the
// default file sink and the snapshot extension, the receiver's heartbeats to
// the sender are answered all along the transfer, no link is declared dead
// and nothing is dropped. Both members share this process's event loop, so
// a receive path that held the loop (long synchronous runs, writes that
// never yield) would silence the sender's side too.
import { assert, assertEquals } from "@std/assert";
import { create } from "@bufbuild/protobuf";
import { type Message, MessageSchema, MessageType } from "../../raftpb/raft_pb.ts";
import { SnapshotStatus } from "../../raftpb/snapshot_status.ts";
import { Transport } from "../../src/transport.ts";
import { serve } from "../../src/edge/serve.ts";
import { SnapshotMessage } from "../../src/snapshot/message.ts";
import { FileSnapshotSink } from "../../src/snapshot/file_sink.ts";
import { silentLogger } from "../../src/logger.ts";
import { freePorts, RecordingRaft, sleep, tempDir, waitUntil } from "../harness.ts";

const MiB = 1024 * 1024;
const SIZE = 256 * MiB;
/** Link heartbeats this often: the read timeout (twice it) is 500 ms. */
const LINK_HB_MS = 250;
const PING_MS = 10;

/** A raft that answers heartbeats and counts the answers to its own. */
class PingRaft extends RecordingRaft {
  tr!: Transport;
  answers = 0;
  override process(m: Message): void {
    if (m.type === MessageType.MsgHeartbeat) {
      const resp = {
        type: MessageType.MsgHeartbeatResp,
        from: m.to,
        to: m.from,
        context: m.context,
      };
      this.tr.send([create(MessageSchema, resp)]);
    } else if (m.type === MessageType.MsgHeartbeatResp) this.answers++;
    else super.process(m);
  }
}

/** `size` bytes handed out as 1 MiB views of one buffer, each when pulled. */
function body(size: number): ReadableStream<Uint8Array> {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i += 4096) data[i] = (i >>> 12) & 0xff;
  let off = 0;
  return new ReadableStream({
    pull(c) {
      if (off >= size) return c.close();
      const end = Math.min(size, off + MiB);
      c.enqueue(data.subarray(off, end));
      off = end;
    },
  }, { highWaterMark: 0 });
}

async function member(id: bigint, port: number, dir: string, stop: AbortSignal) {
  const raft = new PingRaft();
  const tr = new Transport({
    id,
    clusterId: 0xc1n,
    urls: [`http://127.0.0.1:${port}`],
    raft,
    logger: silentLogger,
    probeIntervalMs: 0,
    stream: { linkHeartbeatIntervalMs: LINK_HB_MS },
    snapshot: { sink: new FileSnapshotSink(`${dir}/${id}`) },
  });
  raft.tr = tr;
  tr.start();
  const server = await serve(tr, { port, hostname: "127.0.0.1", signal: stop });
  return { raft, tr, server };
}

Deno.test("snapshot receive: 256 MiB in while the receiver's heartbeats keep being answered", async () => {
  await using dir = await tempDir();
  const stop = new AbortController();
  const [pa, pb] = freePorts(2);
  const a = await member(1n, pa, dir.path, stop.signal); // sends the snapshot
  const b = await member(2n, pb, dir.path, stop.signal); // takes it in, pings a
  try {
    a.tr.addPeer(2n, [`http://127.0.0.1:${pb}`]);
    b.tr.addPeer(1n, [`http://127.0.0.1:${pa}`]);
    await waitUntil(() =>
      a.tr.peerStatus(2n)?.streams.message.outgoing === true &&
      b.tr.peerStatus(1n)?.streams.message.outgoing === true
    );
    let pings = 0;
    const ping = () => {
      const context = new Uint8Array(8);
      new DataView(context.buffer).setUint32(0, ++pings);
      const m = { type: MessageType.MsgHeartbeat, from: 2n, to: 1n, context };
      b.tr.send([create(MessageSchema, m)]);
    };
    const pinger = setInterval(ping, PING_MS);
    let during: number;
    try {
      const m = create(MessageSchema, {
        type: MessageType.MsgSnap,
        from: 1n,
        to: 2n,
        term: 1n,
        snapshot: { metadata: { index: 9n, term: 1n, confState: { voters: [1n, 2n] } } },
      });
      const snap = new SnapshotMessage(m, body(SIZE), SIZE);
      const before = b.raft.answers;
      a.tr.sendSnapshot(snap);
      assertEquals(await snap.done, true);
      during = b.raft.answers - before;
    } finally {
      clearInterval(pinger);
    }
    assertEquals([a.raft.unreachable, b.raft.unreachable], [[], []]);
    await waitUntil(() => b.raft.answers === pings, 5000, "the last heartbeats' answers");
    assertEquals(a.raft.snapshots, [[2n, SnapshotStatus.Finish]]);
    assertEquals((await Deno.stat(`${dir.path}/2/0000000000000009.snap.db`)).size, SIZE);
    // Answers came in all along the transfer, not only before and after it.
    assert(during >= 10, `only ${during} heartbeats answered while the snapshot crossed`);
    for (const [tr, peer] of [[a.tr, 2n], [b.tr, 1n]] as const) {
      const st = tr.peerStatus(peer)!.stats;
      assertEquals([st.sendDrops, st.receiveDrops], [0, 0]);
    }
  } finally {
    await a.tr.stop();
    await b.tr.stop();
    stop.abort();
    await Promise.all([a.server.finished, b.server.finished]);
    await sleep(0);
  }
});
