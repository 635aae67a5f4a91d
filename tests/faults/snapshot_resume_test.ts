// The snapshot extension over a bad link: a transfer cut twice resumes
// where the receiver stands, a flipped byte fails it with nothing kept, and
// a receiver restarted between attempts makes the sender start over.
import { assert, assertEquals } from "@std/assert";
import { MessageType } from "../../raftpb/raft_pb.ts";
import { SnapshotStatus } from "../../raftpb/snapshot_status.ts";
import { SnapshotMessage } from "../../src/snapshot/message.ts";
import type { SnapshotSink } from "../../src/snapshot/sink.ts";
import type { SnapshotProgress } from "../../src/snapshot/progress.ts";
import type { TransportOptions } from "../../src/options.ts";
import { snapshotResume } from "../../src/extensions/snapshot_resume/mod.ts";
import { msg, type Node, startNode, tempDir, waitUntil } from "../harness.ts";
import { read } from "../metrics/scrape.ts";
import { FaultProxy } from "./proxy.ts";
import { byteAt, generated } from "./snapshot_data.ts";

const MiB = 1024 * 1024;
const WINDOW = MiB;

interface SinkLog {
  committed: number;
  failed: number;
  bytes: number;
  ok: boolean;
}

/** A sink that checks every byte and counts saves that completed and failed. */
function checkingSink(log: SinkLog): SnapshotSink {
  return {
    async save(_m, data) {
      let n = 0;
      let ok = true;
      try {
        for await (const chunk of data) {
          for (let i = 0; i < chunk.length; i++) if (chunk[i] !== byteAt(n + i)) ok = false;
          n += chunk.length;
        }
      } catch (e) {
        log.failed++;
        throw e;
      }
      log.committed++;
      log.bytes = n;
      log.ok = ok;
    },
  };
}

function snapshot(size: number, progress?: SnapshotProgress[]): SnapshotMessage {
  const m = msg(MessageType.MsgSnap, 1n, 2n, {
    term: 3n,
    snapshot: { metadata: { index: 77n, term: 3n, confState: { voters: [1n, 2n] } } },
  });
  return new SnapshotMessage(m, generated(size), size, {
    reopen: (offset) => generated(size, offset),
    onProgress: (p) => progress?.push(p),
  });
}

const fast: Partial<TransportOptions> = {
  extensions: [snapshotResume({ retryBackoffMs: 50, windowSize: WINDOW })],
};

/** a sends to b through a proxy; b reaches a directly. */
function pair(
  log: SinkLog,
  bOptions: Partial<TransportOptions> = {},
  aOptions: Partial<TransportOptions> = fast,
) {
  const a = startNode(1n, aOptions);
  const b = startNode(2n, { ...fast, snapshot: { sink: checkingSink(log) }, ...bOptions });
  const proxy = new FaultProxy(b.server.addr.port);
  a.transport.addPeer(2n, [proxy.url]);
  b.transport.addPeer(1n, [a.url]);
  return { a, b, proxy };
}

const newLog = (): SinkLog => ({ committed: 0, failed: 0, bytes: 0, ok: false });

Deno.test("snapshot resume: 64 MiB cut at 30 % and at 70 % finishes, sending at most size + one window", async () => {
  const log = newLog();
  const { a, b, proxy } = pair(log);
  await using _ = { [Symbol.asyncDispose]: () => closeAll([a, b], proxy) };
  const size = 64 * MiB;
  const progress: SnapshotProgress[] = [];
  const snap = snapshot(size, progress);
  proxy.cutAt = Math.floor(size * 0.3);
  a.transport.sendSnapshot(snap);
  await waitUntil(() => proxy.cutAt === undefined, 20_000);
  proxy.cutAt = Math.floor(size * 0.7);
  // The receiver's progress shows in peerStatus while the data flows.
  const receiving = () => b.transport.peerStatus(1n)?.snapshotReceive;
  await waitUntil(() => (receiving()?.bytes ?? 0) > size * 0.35, 20_000);
  assertEquals(receiving()?.total, size);
  assertEquals(await snap.done, true);
  assertEquals(receiving(), undefined);
  assertEquals(proxy.cutAt, undefined, "the second cut happened");
  assertEquals(a.raft.snapshots, [[2n, SnapshotStatus.Finish]]);
  assertEquals([log.committed, log.bytes, log.ok], [1, size, true]);
  assertEquals(log.failed, 2, "the sink saw both broken attempts fail");
  // Everything that went through the link toward the receiver, over all
  // attempts: requests, headers, digests and data.
  assert(proxy.forwarded <= size + WINDOW, `forwarded ${proxy.forwarded} > ${size + WINDOW}`);
  assertEquals(read(b.transport, "rafthttp_snapshot_receive_resumed_total", { From: "1" }), 2);
  assertEquals(read(a.transport, "rafthttp_snapshot_send_retries_total", { To: "2" }), 2);
  assertEquals(read(b.transport, "rafthttp_snapshot_receive_bytes", { From: "1" }), 0);
  // Progress: three attempts, the later ones starting where the receiver stood.
  const starts = progress.filter((p, i) => i === 0 || p.attempt !== progress[i - 1].attempt);
  assertEquals(starts.map((p) => p.attempt), [1, 2, 3]);
  assert(starts[1].resumedFrom > size * 0.25 && starts[1].resumedFrom <= size * 0.3);
  assert(starts[2].resumedFrom > size * 0.65 && starts[2].resumedFrom <= size * 0.7);
  assertEquals(progress.at(-1)!.sent, size);
});

Deno.test("snapshot resume: a flipped byte fails the transfer, nothing is kept, the mismatch is counted", async () => {
  const log = newLog();
  await using dir = await tempDir();
  const { a, b, proxy } = pair(log, {
    extensions: [snapshotResume({ retryBackoffMs: 50, windowSize: WINDOW, dir: dir.path })],
  });
  await using _ = { [Symbol.asyncDispose]: () => closeAll([a, b], proxy) };
  const size = 8 * MiB;
  const snap = snapshot(size);
  proxy.flipAt = 3 * MiB + 12_345;
  a.transport.sendSnapshot(snap);
  assertEquals(await snap.done, false);
  assertEquals(proxy.flipAt, undefined, "the byte was flipped");
  assertEquals(a.raft.snapshots, [[2n, SnapshotStatus.Failure]]);
  assertEquals([log.committed, log.failed], [0, 1]);
  assertEquals(read(b.transport, "rafthttp_snapshot_digest_mismatches_total", { From: "1" }), 1);
  assertEquals(read(b.transport, "etcd_network_snapshot_receive_failures", { From: "1" }), 1);
  assertEquals(read(a.transport, "rafthttp_snapshot_send_retries_total", { To: "2" }), 0);
  assertEquals([...Deno.readDirSync(dir.path)].length, 0, "nothing kept on disk");
  assertEquals(b.raft.received.length, 0, "raft never got the MsgSnap");
});

Deno.test("snapshot resume: a receiver restarted between attempts starts over cleanly", async () => {
  const log = newLog();
  // The retry waits long enough for the restart.
  const { a, b, proxy } = pair(log, {}, {
    extensions: [snapshotResume({ retryBackoffMs: 1500, windowSize: WINDOW })],
  });
  const nodes: Node[] = [a, b];
  await using _ = { [Symbol.asyncDispose]: () => closeAll(nodes, proxy) };
  const size = 16 * MiB;
  const snap = snapshot(size);
  proxy.cutAt = Math.floor(size * 0.5);
  a.transport.sendSnapshot(snap);
  await waitUntil(() => proxy.cutAt === undefined, 20_000);
  const port = b.server.addr.port;
  await b.close();
  const log2 = newLog();
  const b2 = startNode(2n, { ...fast, snapshot: { sink: checkingSink(log2) } }, port);
  nodes.push(b2);
  b2.transport.addPeer(1n, [a.url]);
  assertEquals(await snap.done, true);
  assertEquals([log2.committed, log2.bytes, log2.ok], [1, size, true]);
  assertEquals(read(b2.transport, "rafthttp_snapshot_receive_resumed_total", { From: "1" }), 0);
  assert(proxy.forwarded > size * 1.4, "the second attempt sent everything again");
  assertEquals(a.raft.snapshots, [[2n, SnapshotStatus.Finish]]);
});

async function closeAll(nodes: Node[], proxy: FaultProxy): Promise<void> {
  await Promise.all(nodes.map((n) => n.close()));
  await proxy.close();
}
