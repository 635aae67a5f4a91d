// Snapshots over real HTTP: streamed on both sides, reported to raft and to
// the SnapshotMessage, and never half-saved.
import { assert, assertEquals } from "@std/assert";
import { MessageType } from "../../raftpb/raft_pb.ts";
import { SnapshotStatus } from "../../raftpb/snapshot_status.ts";
import { SnapshotMessage } from "../../src/snapshot/message.ts";
import type { SnapshotSink } from "../../src/snapshot/sink.ts";
import { FileSnapshotSink } from "../../src/snapshot/file_sink.ts";
import { msg, startCluster, tempDir } from "../harness.ts";

const MiB = 1024 * 1024;

/** Bytes made by `generated` and not yet taken by a sink: what the transport holds. */
const flow = { produced: 0, consumed: 0, maxInFlight: 0 };

/** `size` bytes in 64 KiB chunks made on demand; byte i is (i * 7) & 0xff. */
function generated(size: number, failAt = -1): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(c) {
      if (failAt >= 0 && sent >= failAt) {
        c.error(new Error("disk read failed"));
        return;
      }
      const n = Math.min(64 * 1024, size - sent);
      if (n === 0) {
        c.close();
        return;
      }
      const chunk = new Uint8Array(n);
      for (let i = 0; i < n; i++) chunk[i] = ((sent + i) * 7) & 0xff;
      sent += n;
      flow.produced += n;
      flow.maxInFlight = Math.max(flow.maxInFlight, flow.produced - flow.consumed);
      c.enqueue(chunk);
    },
  }, { highWaterMark: 0 });
}

/** A sink that checks the bytes and keeps only counts. */
function checkingSink(result: { bytes: number; ok: boolean; failed: number }): SnapshotSink {
  return {
    async save(_m, data) {
      let n = 0;
      let ok = true;
      try {
        for await (const chunk of data) {
          for (let i = 0; i < chunk.length; i += 4093) {
            if (chunk[i] !== ((n + i) * 7 & 0xff)) ok = false;
          }
          n += chunk.length;
          flow.consumed += chunk.length;
        }
      } catch (e) {
        result.failed++;
        throw e;
      }
      result.bytes = n;
      result.ok = ok;
    },
  };
}

function snapMsg(from: bigint, to: bigint, index: bigint) {
  return msg(MessageType.MsgSnap, from, to, {
    term: 1n,
    snapshot: { metadata: { index, term: 1n, confState: { voters: [from, to] } } },
  });
}

Deno.test("snapshot: 64 MiB crosses streamed, with bounded memory, then raft hears Finish", async () => {
  const result = { bytes: 0, ok: false, failed: 0 };
  await using nodes = startCluster(2, { snapshot: { sink: checkingSink(result) } });
  const [a, b] = nodes;
  const size = 64 * MiB;
  Object.assign(flow, { produced: 0, consumed: 0, maxInFlight: 0 });
  const snap = new SnapshotMessage(snapMsg(1n, 2n, 1000n), generated(size), size);
  a.transport.sendSnapshot(snap);
  const ok = await snap.done;
  assertEquals(ok, true);
  assertEquals(result, { bytes: size, ok: true, failed: 0 });
  assertEquals(a.raft.snapshots, [[2n, SnapshotStatus.Finish]]);
  // The MsgSnap reached raft only after the data was saved.
  assertEquals(b.raft.received.map((m) => [m.type, m.snapshot?.metadata?.index]), [[
    MessageType.MsgSnap,
    1000n,
  ]]);
  // Counted on both sides: one message on the pipeline, and every byte.
  const sent = a.transport.peerStatus(2n)!.stats;
  const got = b.transport.peerStatus(1n)!.stats;
  assertEquals([sent.sentOn.pipeline, got.receivedOn.pipeline], [1, 1]);
  assert(
    sent.sentBytes >= size && got.receivedBytes >= size,
    `${sent.sentBytes} / ${got.receivedBytes}`,
  );
  // Streamed end to end: the bytes between the data source and the sink
  // (in fetch, sockets, Deno.serve and our code) stay far below the size.
  const held = flow.maxInFlight / MiB;
  assert(held < 16, `up to ${held.toFixed(1)} MiB were in flight at once`);
});

Deno.test("snapshot: the default file sink writes <index>.snap.db and nothing partial", async () => {
  await using dir = await tempDir("rafthttp-snap-");
  await using nodes = startCluster(2, { snapshot: { sink: new FileSnapshotSink(dir.path) } });
  const [a, b] = nodes;
  const snap = new SnapshotMessage(snapMsg(1n, 2n, 11n), generated(300_000), 300_000);
  a.transport.sendSnapshot(snap);
  assertEquals(await snap.done, true);
  const file = await Deno.readFile(`${dir.path}/000000000000000b.snap.db`);
  assertEquals(file.length, 300_000);
  assertEquals(file[299_999], (299_999 * 7) & 0xff);

  // The data source fails midway: the sender reports failure, the receiver keeps nothing.
  const broken = new SnapshotMessage(snapMsg(1n, 2n, 12n), generated(1 * MiB, 200_000), 1 * MiB);
  a.transport.sendSnapshot(broken);
  assertEquals(await broken.done, false);
  await b.raft.until(() => true);
  const names = [];
  for await (const e of Deno.readDir(dir.path)) names.push(e.name);
  assertEquals(names, ["000000000000000b.snap.db"], "no partial or temporary file is left");
  assertEquals(a.raft.snapshots, [[2n, SnapshotStatus.Finish], [2n, SnapshotStatus.Failure]]);
  assertEquals(b.raft.received.filter((m) => m.type === MessageType.MsgSnap).length, 1);
});

Deno.test("snapshot: a body shorter or longer than declared fails the transfer", async () => {
  const result = { bytes: 0, ok: false, failed: 0 };
  await using nodes = startCluster(2, { snapshot: { sink: checkingSink(result) } });
  const [a, b] = nodes;
  const short = new SnapshotMessage(snapMsg(1n, 2n, 5n), generated(1000), 2000);
  a.transport.sendSnapshot(short);
  assertEquals(await short.done, false);
  const long = new SnapshotMessage(snapMsg(1n, 2n, 6n), generated(3000), 2000);
  a.transport.sendSnapshot(long);
  assertEquals(await long.done, false);
  assertEquals(a.raft.snapshots.map(([, s]) => s), [
    SnapshotStatus.Failure,
    SnapshotStatus.Failure,
  ]);
  assertEquals(
    b.raft.received.length,
    0,
    "raft never saw a MsgSnap for data that did not arrive whole",
  );
});

Deno.test("snapshot: to an unknown member fails at once", async () => {
  await using nodes = startCluster(1);
  const snap = new SnapshotMessage(snapMsg(1n, 9n, 5n), generated(10), 10);
  nodes[0].transport.sendSnapshot(snap);
  assertEquals(await snap.done, false);
});
