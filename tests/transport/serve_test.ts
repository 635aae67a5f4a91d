// serve() on both engines (node:http, the default, and Deno.serve): members
// served by it exchange messages on both stream types and the pipeline,
// send a snapshot, fail over to a peer's second URL, and release every
// socket and timer on stop (the sanitizers are on).
import { assert, assertEquals, assertRejects } from "@std/assert";
import { MessageType } from "../../raftpb/raft_pb.ts";
import { SnapshotStatus } from "../../raftpb/snapshot_status.ts";
import { SnapshotMessage } from "../../src/snapshot/message.ts";
import type { SnapshotSink } from "../../src/snapshot/sink.ts";
import { serve } from "../../src/edge/serve.ts";
import type { PeerServer } from "../../src/edge/node_server.ts";
import { Transport } from "../../src/transport.ts";
import type { TransportOptions } from "../../src/options.ts";
import { silentLogger } from "../../src/logger.ts";
import { CLUSTER, freePorts, msg, RecordingRaft, waitUntil } from "../harness.ts";

const ENGINES = ["node", "deno"] as const;
const MiB = 1024 * 1024;

interface Member extends AsyncDisposable {
  id: bigint;
  url: string;
  raft: RecordingRaft;
  transport: Transport;
  server: PeerServer;
  saved: { bytes: number; sum: number }[];
}

/** A transport with no peers, for the server's own behaviour. */
function lone(): Transport {
  return new Transport({
    id: 1n,
    clusterId: CLUSTER,
    urls: ["http://127.0.0.1:1"],
    raft: new RecordingRaft(),
    logger: silentLogger,
  });
}

/** `size` bytes in 64 KiB chunks; byte i is (i * 13) & 0xff. */
function data(size: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(c) {
      const n = Math.min(64 * 1024, size - sent);
      if (n === 0) return c.close();
      const chunk = new Uint8Array(n);
      for (let i = 0; i < n; i++) chunk[i] = ((sent + i) * 13) & 0xff;
      sent += n;
      c.enqueue(chunk);
    },
  }, { highWaterMark: 0 });
}

/** A sink that keeps the size and a position-weighted checksum of what it got. */
function summingSink(saved: { bytes: number; sum: number }[]): SnapshotSink {
  return {
    async save(_m, body) {
      let bytes = 0;
      let sum = 0;
      for await (const c of body) {
        for (let i = 0; i < c.length; i++) {
          if (c[i] !== ((bytes + i) * 13 & 0xff)) sum++;
        }
        bytes += c.length;
      }
      saved.push({ bytes, sum });
    },
  };
}

async function member(
  id: bigint,
  port: number,
  engine: "node" | "deno",
  options: Partial<TransportOptions> = {},
): Promise<Member> {
  const url = `http://127.0.0.1:${port}`;
  const raft = new RecordingRaft();
  const saved: { bytes: number; sum: number }[] = [];
  const transport = new Transport({
    id,
    clusterId: CLUSTER,
    urls: [url],
    raft,
    logger: silentLogger,
    probeIntervalMs: 0,
    snapshot: { sink: summingSink(saved) },
    ...options,
  });
  const server = await serve(transport, { port, engine });
  transport.start();
  const close = async () => {
    await transport.stop();
    await server.shutdown();
  };
  return { id, url, raft, transport, server, saved, [Symbol.asyncDispose]: close };
}

for (const engine of ENGINES) {
  Deno.test(`serve(${engine}): both streams, the pipeline, a snapshot, and failover`, async () => {
    const [p1, p2, p3, dead] = freePorts(4);
    await using a = await member(1n, p1, engine);
    await using b = await member(2n, p2, engine);
    // The first URL of b has nothing listening: a's channels must fail over.
    a.transport.addPeer(2n, [`http://127.0.0.1:${dead}`, b.url]);
    b.transport.addPeer(1n, [a.url]);
    await waitUntil(
      () => {
        const s = a.transport.peerStatus(2n);
        const t = b.transport.peerStatus(1n);
        return s !== undefined && t !== undefined && s.streams.message.incoming &&
          s.streams.msgappv2.incoming && t.streams.message.incoming && t.streams.msgappv2.incoming;
      },
      10_000,
      "both stream types up both ways",
    );

    // msgappv2 carries MsgApp, the message stream the rest.
    a.transport.send([msg(MessageType.MsgApp, 1n, 2n, { term: 1n, logTerm: 1n, index: 1n })]);
    a.transport.send([msg(MessageType.MsgHeartbeat, 1n, 2n, { term: 1n })]);
    await b.raft.until(() => b.raft.received.length >= 2, 5000, "stream messages");
    assertEquals(
      b.raft.received.map((m) => m.type).sort(),
      [
        MessageType.MsgApp,
        MessageType.MsgHeartbeat,
      ].sort(),
    );

    // c knows a, a does not know c: a refuses c's streams, so c's messages take the pipeline.
    await using c = await member(3n, p3, engine);
    c.transport.addPeer(1n, [a.url]);
    c.transport.send([msg(MessageType.MsgHeartbeat, 3n, 1n, { term: 1n })]);
    await waitUntil(() => a.raft.received.some((m) => m.from === 3n), 5000, "pipeline message");
    await waitUntil(() => c.transport.peerStatus(1n)!.stats.sentOn.pipeline === 1);

    // A snapshot, streamed through serve()'s request body path.
    const size = 8 * MiB + 123;
    const snap = new SnapshotMessage(
      msg(MessageType.MsgSnap, 1n, 2n, {
        term: 1n,
        snapshot: { metadata: { index: 42n, term: 1n, confState: { voters: [1n, 2n] } } },
      }),
      data(size),
      size,
    );
    a.transport.sendSnapshot(snap);
    assertEquals(await snap.done, true);
    assertEquals(b.saved, [{ bytes: size, sum: 0 }]);
    assertEquals(a.raft.snapshots, [[2n, SnapshotStatus.Finish]]);
    await b.raft.until(() => b.raft.received.some((m) => m.type === MessageType.MsgSnap));
  });

  Deno.test(`serve(${engine}): shutdown releases the port and ends every stream`, async () => {
    const [p1, p2] = freePorts(2);
    const a = await member(1n, p1, engine);
    await using b = await member(2n, p2, engine);
    a.transport.addPeer(2n, [b.url]);
    b.transport.addPeer(1n, [a.url]);
    await waitUntil(
      () => b.transport.peerStatus(1n)?.streams.message.incoming === true,
      10_000,
      "b reads a's stream",
    );
    await a[Symbol.asyncDispose]();
    await a.server.finished;
    // b notices that a's streams ended, and nothing listens on a's port any more.
    await waitUntil(
      () => b.transport.peerStatus(1n)?.streams.message.incoming === false,
      10_000,
      "b's reader of a ended",
    );
    await assertRejects(() => fetch(`${a.url}/raft/probing`));
  });
}

Deno.test("serve: the engine and the TLS options are checked, naming the option", async () => {
  const t = lone();
  const bad = async (options: Record<string, unknown>, text: string) => {
    const e = await assertRejects(
      () => serve(t, { port: 0, ...options } as Parameters<typeof serve>[1]),
      TypeError,
    );
    assert(e.message.includes(text), e.message);
  };
  await bad({ engine: "bun" }, "`engine`");
  await bad({ cert: "x" }, "`cert` and `key` go together");
  await bad({ clientCertAuth: true }, "need https");
  await bad({ cert: "c", key: "k", clientCertAuth: true }, "`clientCertAuth: true` needs `ca`");
  await bad({ cert: "c", key: "k", ca: "a" }, "set `clientCertAuth: true`");
  await bad({
    cert: "c",
    key: "k",
    ca: "a",
    clientCertAuth: true,
    allowedCN: "x",
    allowedHostname: "y",
  }, "mutually exclusive");
  await bad({ cert: "c", key: "k", ca: [], clientCertAuth: true }, "`ca`");
  await bad(
    { engine: "deno", cert: "c", key: "k", ca: "a", clientCertAuth: true },
    "denoland/deno#26825",
  );
  await t.stop();
});

Deno.test("serve: a port in use is Deno.errors.AddrInUse on both engines", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const t = lone();
  try {
    for (const engine of ENGINES) {
      await assertRejects(() => serve(t, { port: taken.addr.port, engine }), Deno.errors.AddrInUse);
    }
  } finally {
    taken.close();
    await t.stop();
  }
});

Deno.test("serve(node): shutdown completes while a client keeps sending on a kept-alive connection", async () => {
  const t = lone();
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  let slowArrived = false;
  const server = await serve(t, {
    port: 0,
    fallback: async () => {
      slowArrived = true;
      await gate;
      return new Response("slow\n");
    },
  });
  const base = `http://127.0.0.1:${server.addr.port}`;
  // A request in flight when shutdown starts (a peer's stream GET, say)...
  const slow = fetch(`${base}/slow`).then((r) => r.text());
  await waitUntil(() => slowArrived, 2000, "the slow request");
  let closed = false;
  const shutdown = server.shutdown().then(() => closed = true);
  release();
  assertEquals(await slow, "slow\n");
  // ...then the client keeps asking on the connection it has (bounded: 100
  // requests, 3 s), as a peer redialling its streams does.
  const end = Date.now() + 3000;
  for (let i = 0; i < 100 && !closed && Date.now() < end; i++) {
    try {
      const res = await fetch(`${base}/raft/probing`);
      await res.body?.cancel();
    } catch {
      // refused: the server is gone
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  assert(closed, "shutdown still waits after 3 s of requests on a kept-alive connection");
  await shutdown;
  await t.stop();
});

Deno.test("serve(node): shutdown closes the idle kept-alive connections fetch leaves after 404, 405 and /metrics", async () => {
  const t = lone();
  const server = await serve(t, { port: 0, metrics: true });
  const base = `http://127.0.0.1:${server.addr.port}`;
  // What the Prometheus test asks before it stops: a left-open connection of
  // fetch's pool kept shutdown() waiting for ever (seen 1 run in 1 there).
  for (const [path, method] of [["/metrics", "GET"], ["/other", "GET"], ["/metrics", "POST"]]) {
    const res = await fetch(`${base}${path}`, { method });
    if (path === "/metrics" && method === "GET") await res.text();
    else await res.body?.cancel();
  }
  await t.stop();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    server.shutdown().then(() => "closed"),
    new Promise<string>((r) => timer = setTimeout(() => r("still open after 5 s"), 5000)),
  ]);
  clearTimeout(timer);
  assertEquals(outcome, "closed");
});
