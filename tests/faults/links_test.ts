// Faults on the link between two members, made by a TCP proxy: half-open
// connections, slow links, and a peer that dies in the middle of a snapshot.
import { assert, assertEquals } from "@std/assert";
import { MessageType } from "../../raftpb/raft_pb.ts";
import { SnapshotStatus } from "../../raftpb/snapshot_status.ts";
import { SnapshotMessage } from "../../src/snapshot/message.ts";
import { encodeMessageFrame } from "../../src/codec/message.ts";
import { FileSnapshotSink } from "../../src/snapshot/file_sink.ts";
import type { TransportOptions } from "../../src/options.ts";
import {
  group,
  msg,
  type Node,
  readersDown,
  readersUp,
  startNode,
  streamsUp,
  tempDir,
  waitUntil,
} from "../harness.ts";
import { FaultProxy } from "./proxy.ts";

/** a dials b through a proxy; b dials a directly. */
function pair(options: Partial<TransportOptions> = {}): { a: Node; b: Node; proxy: FaultProxy } {
  const a = startNode(1n, options);
  const b = startNode(2n, options);
  const proxy = new FaultProxy(b.server.addr.port);
  a.transport.addPeer(2n, [proxy.url]);
  b.transport.addPeer(1n, [a.url]);
  return { a, b, proxy };
}

function payload(size: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(c) {
      const n = Math.min(32 * 1024, size - sent);
      if (n === 0) return c.close();
      sent += n;
      c.enqueue(new Uint8Array(n).fill(sent & 0xff));
    },
  }, { highWaterMark: 0 });
}

Deno.test("links: a half-open connection is noticed within two heartbeat periods and redialled", async () => {
  const heartbeat = 200;
  const { a, b, proxy } = pair({ stream: { linkHeartbeatIntervalMs: heartbeat } });
  await using _nodes = group(a, b);
  await using _proxy = proxy;
  // The premise is an established link: a's readers get b's bytes through
  // the proxy (b's writers being attached is not enough: the response
  // headers may still be on their way, and a dial that never gets them
  // waits out the dial timeout instead).
  await waitUntil(() => readersUp(a, b), 5000, "a's readers connected through the proxy");
  const dialsBefore = proxy.accepted;
  proxy.freeze();
  const frozeAt = Date.now();
  await waitUntil(() => readersDown(a, b), 5000, "a notices that both streams went silent");
  const noticed = Date.now() - frozeAt;
  assert(noticed <= 2 * heartbeat + 300, `noticed after ${noticed} ms (read timeout 400 ms)`);
  // Young streams that die are redialled after the first backoff step.
  await waitUntil(() => proxy.accepted >= dialsBefore + 2, 2000, "a redials both streams");
  // The new streams work.
  await waitUntil(() => readersUp(a, b), 5000, "new streams");
  const before = a.raft.received.length;
  b.transport.send([msg(MessageType.MsgHeartbeat, 2n, 1n, { term: 7n })]);
  await a.raft.until(() => a.raft.received.length > before, 5000, "message over the new stream");
});

Deno.test("links: a writer whose reader stopped taking data gives up after the write timeout", async () => {
  const { a, b, proxy } = pair({
    stream: { writeTimeoutMs: 300, linkHeartbeatIntervalMs: 100, readTimeoutMs: 60_000 },
  });
  await using _nodes = group(a, b);
  await using _proxy = proxy;
  await waitUntil(() => streamsUp(b, a), 5000, "streams up");
  proxy.freeze();
  // b keeps sending into the frozen stream until the socket buffers fill,
  // then the write deadline closes it and b reports a unreachable.
  const big = { entries: [{ data: new Uint8Array(64 * 1024) }] };
  await waitUntil(
    () => {
      b.transport.send([msg(MessageType.MsgApp, 2n, 1n, big)]);
      return b.raft.unreachable.includes(1n);
    },
    10_000,
    "b gives up on the dead stream",
  );
  const st = b.transport.peerStatus(1n)!;
  assert(st.queued.msgappv2 < 4096, "b does not keep queueing into a dead body");
});

Deno.test("links: a snapshot over a slow link finishes, because timeouts are on progress", async () => {
  const { a, b, proxy } = pair({ snapshot: { progressTimeoutMs: 500 } });
  await using _nodes = group(a, b);
  await using _proxy = proxy;
  proxy.rate = 2 * 1024 * 1024; // 2 MiB/s
  const size = 3 * 1024 * 1024;
  const started = Date.now();
  const snap = new SnapshotMessage(
    msg(MessageType.MsgSnap, 1n, 2n, { snapshot: { metadata: { index: 9n, term: 1n } } }),
    payload(size),
    size,
  );
  a.transport.sendSnapshot(snap);
  assertEquals(await snap.done, true);
  const took = Date.now() - started;
  assert(took > 1000, `took ${took} ms: longer than the progress timeout, and it still finished`);
  assertEquals(a.raft.snapshots, [[2n, SnapshotStatus.Finish]]);
  assertEquals(b.raft.received.filter((m) => m.type === MessageType.MsgSnap).length, 1);
});

Deno.test("links: a stalled snapshot fails after the progress timeout; a killed one leaves nothing behind", async () => {
  await using dir = await tempDir("rafthttp-faults-");
  const { a, b, proxy } = pair({
    snapshot: { progressTimeoutMs: 300, sink: new FileSnapshotSink(dir.path) },
  });
  await using _nodes = group(a, b);
  await using _proxy = proxy;
  const size = 8 * 1024 * 1024;
  const snapMsg = (index: bigint) =>
    msg(MessageType.MsgSnap, 1n, 2n, { snapshot: { metadata: { index, term: 1n } } });

  proxy.rate = 1024 * 1024;
  const stalled = new SnapshotMessage(snapMsg(1n), payload(size), size);
  a.transport.sendSnapshot(stalled);
  setTimeout(() => proxy.freeze(), 300);
  assertEquals(await stalled.done, false);
  proxy.thaw();

  const killed = new SnapshotMessage(snapMsg(2n), payload(size), size);
  a.transport.sendSnapshot(killed);
  setTimeout(() => proxy.cut(), 300);
  assertEquals(await killed.done, false);

  assertEquals(a.raft.snapshots.map(([, s]) => s), [
    SnapshotStatus.Failure,
    SnapshotStatus.Failure,
  ]);
  await waitUntil(
    async () => (await Array.fromAsync(Deno.readDir(dir.path))).length === 0,
    5000,
    "no files",
  );
  assertEquals(b.raft.received.filter((m) => m.type === MessageType.MsgSnap).length, 0);
});

Deno.test("links: a receiver frees a snapshot whose sender stalls mid-body", async () => {
  await using dir = await tempDir("rafthttp-faults-");
  await using b = startNode(2n, {
    snapshot: { progressTimeoutMs: 200, sink: new FileSnapshotSink(dir.path) },
  });
  // A hand-made sender: the MsgSnap frame and some data, then nothing, forever.
  let stop!: () => void;
  const never = new Promise<void>((r) => stop = r);
  const body = new ReadableStream<Uint8Array>({
    async start(c) {
      c.enqueue(
        encodeMessageFrame(
          msg(MessageType.MsgSnap, 1n, 2n, { snapshot: { metadata: { index: 3n } } }),
        ),
      );
      c.enqueue(new Uint8Array(1000));
      await never;
      c.close();
    },
  });
  const res = await fetch(b.url + "/raft/snapshot", {
    method: "POST",
    headers: {
      "X-Server-From": "1",
      "X-Server-Version": "3.4.23",
      "X-Min-Cluster-Version": "3.0.0",
      "X-Etcd-Cluster-ID": "c1",
    },
    body,
    duplex: "half",
  } as RequestInit);
  const text = await res.text();
  stop();
  assertEquals(res.status, 500);
  assert(text.includes("progress timeout"), text);
  assertEquals((await Array.fromAsync(Deno.readDir(dir.path))).length, 0, "nothing partial kept");
  assertEquals(b.raft.received.length, 0);
});

Deno.test("links: the pause/resume and cut/mend hooks drop traffic while on and nothing after", async () => {
  await using nodes = group(startNode(1n), startNode(2n));
  const [a, b] = nodes;
  a.transport.addPeer(2n, [b.url]);
  b.transport.addPeer(1n, [a.url]);
  await waitUntil(() => streamsUp(a, b) && streamsUp(b, a), 5000, "streams up");
  const beat = (term: bigint) =>
    a.transport.send([msg(MessageType.MsgHeartbeat, 1n, 2n, { term })]);

  a.transport.pause();
  beat(1n);
  await new Promise((r) => setTimeout(r, 100));
  assertEquals(b.raft.received.length, 0, "paused: nothing sent");
  assert(streamsUp(a, b), "links stay up while paused");
  a.transport.resume();
  beat(2n);
  await b.raft.until(() => b.raft.received.some((m) => m.term === 2n), 5000, "resumed");

  b.transport.cutPeer(1n);
  await waitUntil(
    () => !b.transport.peerStatus(1n)!.streams.message.incoming,
    5000,
    "b stops reading a",
  );
  beat(3n);
  await new Promise((r) => setTimeout(r, 200));
  assert(!b.raft.received.some((m) => m.term === 3n), "cut: nothing received");
  b.transport.mendPeer(1n);
  // b's readers reading again, not a's writers being attached: those may
  // still be the old connections, which die after the message went in.
  await waitUntil(() => readersUp(b, a), 5000, "mended: b reads a's streams again");
  beat(4n);
  await b.raft.until(() => b.raft.received.some((m) => m.term === 4n), 5000, "mended: delivered");
});
