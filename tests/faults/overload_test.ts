// Offered ten times what gets through: bounded queues, drops reported to
// raft, one warning line per peer per interval with a count, and full
// recovery once the load drops.
import { assert, assertEquals } from "@std/assert";
import { MessageType } from "../../raftpb/raft_pb.ts";
import type { LogFields, Logger } from "../../src/logger.ts";
import { group, msg, startNode, streamsUp, waitUntil } from "../harness.ts";
import { FaultProxy } from "./proxy.ts";

function recordingLogger() {
  const lines: { msg: string; fields?: LogFields }[] = [];
  const logger: Logger = {
    debug() {},
    info() {},
    warn: (msg, fields) => lines.push({ msg, fields }),
    error: (msg, fields) => lines.push({ msg, fields }),
  };
  return { lines, logger };
}

/** Offers about `perSecond` 1 KiB MsgApps for `ms`, sampling `sample` as it goes. */
async function offer(send: (i: number) => void, perSecond: number, ms: number, sample: () => void) {
  let i = 0;
  const until = Date.now() + ms;
  while (Date.now() < until) {
    for (let k = 0; k < perSecond / 100; k++) send(i++);
    sample();
    await new Promise((r) => setTimeout(r, 10));
  }
  return i;
}

const payload = { entries: [{ data: new Uint8Array(1024) }] };

Deno.test("overload: a link that carries a tenth of the offered load", async () => {
  const { lines, logger } = recordingLogger();
  const opts = { stream: { queueSize: 512 }, logIntervalMs: 500, logger };
  await using nodes = group(startNode(1n, opts), startNode(2n, opts));
  const [a, b] = nodes;
  await using proxy = new FaultProxy(a.server.addr.port);
  // b's readers reach a through the proxy: what a sends to b crosses it.
  a.transport.addPeer(2n, [b.url]);
  b.transport.addPeer(1n, [proxy.url]);
  await waitUntil(() => streamsUp(a, b), 5000, "streams up");
  proxy.rate = 512 * 1024; // about 500 messages per second get through
  const rss0 = Deno.memoryUsage().rss;
  let maxQueued = 0;
  const offered = await offer(
    (i) => a.transport.send([msg(MessageType.MsgApp, 1n, 2n, { ...payload, index: BigInt(i) })]),
    5000,
    2000,
    () => maxQueued = Math.max(maxQueued, a.transport.peerStatus(2n)!.queued.msgappv2),
  );
  const rssGrowth = (Deno.memoryUsage().rss - rss0) / 2 ** 20;
  const st = a.transport.peerStatus(2n)!;
  assert(maxQueued <= 512, `sender queue reached ${maxQueued}`);
  // Socket buffers absorb a few MB at first; after that, drops (how many
  // depends on how fast this machine offered; every one is accounted for
  // below, once the link is fast again).
  assert(st.stats.sendDrops > 0, `none of ${offered} dropped: the link was not overloaded`);
  assertEquals(a.raft.unreachable.length, st.stats.sendDrops, "every drop is reported to raft");
  assert(rssGrowth < 64, `RSS grew by ${rssGrowth.toFixed(1)} MiB`);
  // One line at once, then one summary per 500 ms interval with its count.
  const dropLines = () => lines.filter((l) => l.msg.startsWith("dropped an internal raft message"));
  const counted = () =>
    dropLines().reduce(
      (n, l) => n + (typeof l.fields?.count === "number" ? l.fields.count : 1),
      0,
    );
  // The last summary comes when its interval ends.
  await waitUntil(
    () => counted() === st.stats.sendDrops,
    2000,
    "the lines account for every drop",
  );
  const n = dropLines().length;
  assert(n >= 2 && n <= 2000 / 500 + 3, `${n} drop lines`);

  // The load stops and the link is fast again: delivery resumes, no restart.
  proxy.rate = 0;
  const before = b.raft.received.length;
  await waitUntil(
    () => {
      a.transport.send([msg(MessageType.MsgHeartbeat, 1n, 2n, { term: 42n })]);
      return b.raft.received.slice(before).some((m) => m.term === 42n);
    },
    10_000,
    "delivered after the load",
  );
  assertEquals(a.transport.activePeers(), 1);
  // Nothing vanished: each MsgApp offered was delivered or counted as dropped.
  const delivered = () => b.raft.received.filter((m) => m.type === MessageType.MsgApp).length;
  const accounted = () =>
    delivered() + a.transport.peerStatus(2n)!.stats.sendDrops +
    b.transport.peerStatus(1n)!.stats.receiveDrops;
  await waitUntil(() => accounted() === offered, 5000, () => `${accounted()} of ${offered}`);
});

Deno.test("overload: a receiver whose raft processes a tenth of the offered load", async () => {
  const { lines, logger } = recordingLogger();
  await using nodes = group(
    startNode(1n, { logIntervalMs: 500 }),
    startNode(2n, { limits: { receiveQueueSize: 256 }, logIntervalMs: 500, logger }),
  );
  const [a, b] = nodes;
  b.raft.process = (m) => {
    b.raft.received.push(m);
    return new Promise((r) => setTimeout(r, 2)); // about 500 per second
  };
  a.transport.addPeer(2n, [b.url]);
  b.transport.addPeer(1n, [a.url]);
  await waitUntil(() => streamsUp(a, b), 5000, "streams up");
  let maxQueued = 0;
  const offered = await offer(
    (i) => a.transport.send([msg(MessageType.MsgApp, 1n, 2n, { ...payload, index: BigInt(i) })]),
    5000,
    2000,
    () => maxQueued = Math.max(maxQueued, b.transport.peerStatus(1n)!.queued.received),
  );
  const st = b.transport.peerStatus(1n)!;
  assert(
    offered > 5 * b.raft.received.length,
    `offered ${offered}, processed ${b.raft.received.length}`,
  );
  assert(maxQueued <= 256, `receive queue reached ${maxQueued}`);
  assert(st.stats.receiveDrops > offered / 2, `${st.stats.receiveDrops} of ${offered} dropped`);
  const drops = lines.filter((l) => l.msg.startsWith("dropped a received raft message"));
  assert(drops.length >= 2 && drops.length <= 2000 / 500 + 2, `${drops.length} drop lines`);
  // Nothing stale piles up: once the load stops, b catches up within its queue's worth.
  const stopped = Date.now();
  await waitUntil(() => b.transport.peerStatus(1n)!.queued.received === 0, 5000, "b drains");
  const drained = Date.now() - stopped;
  a.transport.send([msg(MessageType.MsgHeartbeat, 1n, 2n, { term: 42n })]);
  await waitUntil(() => b.raft.received.some((m) => m.term === 42n), 5000, "delivered");
  console.log(
    `offered ${offered}, processed ${b.raft.received.length}, b drained in ${drained} ms`,
  );
});
