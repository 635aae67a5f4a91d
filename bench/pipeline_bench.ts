// The pipeline's POST /raft round trip, in process over loopback: node 1
// sends to node 2, which does not know node 1 as a peer, so node 2 never
// opens streams to node 1 and every message goes by the pipeline (one POST
// per message, 4 workers). A round trip ends when node 1's fetch has the
// 204, which node 2 sends after `process` returned. Each iteration runs 200
// messages with 1 or 4 in flight.
//
// Run: deno bench -A bench/pipeline_bench.ts
import { create } from "npm:@bufbuild/protobuf@2.17.0";
import { type Message, MessageSchema, MessageType } from "../raftpb/raft_pb.ts";
import { Transport } from "../src/transport.ts";
import { silentLogger } from "../src/logger.ts";
import type { Raft } from "../src/raft_node.ts";

const M = 200;

const raft: Raft = {
  process() {},
  isIDRemoved: () => false,
  reportUnreachable() {},
  reportSnapshot() {},
};

interface Pair {
  a: Transport;
  b: Transport;
  servers: Deno.HttpServer<Deno.NetAddr>[];
  /** Resolves when `n` more POST /raft responses reached node 1. */
  responses(n: number): Promise<void>;
  unreachable: () => number;
}

function node(id: bigint, r: Raft, f?: typeof fetch) {
  let handler: (req: Request) => Promise<Response> = () =>
    Promise.resolve(new Response(null, { status: 503 }));
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => handler(req),
  );
  const t = new Transport({
    id,
    clusterId: 0xc1n,
    urls: [`http://127.0.0.1:${server.addr.port}`],
    raft: r,
    logger: silentLogger,
    probeIntervalMs: 0,
    fetch: f,
  });
  handler = t.handler();
  t.start();
  return { t, server };
}

function startPair(): Pair {
  let waiting = 0;
  let wake: (() => void) | undefined;
  let unreachable = 0;
  const counting: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    if (String(input).endsWith("/raft") && --waiting === 0) wake?.();
    return res;
  };
  const b = node(2n, raft);
  const a = node(1n, { ...raft, reportUnreachable: () => unreachable++ }, counting);
  a.t.addPeer(2n, [`http://127.0.0.1:${b.server.addr.port}`]);
  return {
    a: a.t,
    b: b.t,
    servers: [a.server, b.server],
    responses(n) {
      waiting += n;
      return new Promise((resolve) => wake = resolve);
    },
    unreachable: () => unreachable,
  };
}

async function stopPair(p: Pair): Promise<void> {
  await p.a.stop();
  await p.b.stop();
  await Promise.all(p.servers.map((s) => s.shutdown()));
}

function heartbeat(i: number): Message {
  return create(MessageSchema, {
    type: MessageType.MsgHeartbeat,
    from: 1n,
    to: 2n,
    term: 1n,
    commit: BigInt(i),
  });
}

for (const inFlight of [1, 4]) {
  Deno.bench(
    `POST /raft round trip, ${M} messages, ${inFlight} in flight`,
    { group: "pipeline", baseline: inFlight === 1, n: 10, warmup: 1 },
    async (b) => {
      const p = startPair();
      try {
        // one round trip first: the connection pool is warm when timing starts
        let done = p.responses(1);
        p.a.send([heartbeat(0)]);
        await done;
        b.start();
        for (let i = 0; i < M; i += inFlight) {
          done = p.responses(inFlight);
          for (let j = 0; j < inFlight; j++) p.a.send([heartbeat(i + j + 1)]);
          await done;
        }
        b.end();
        if (p.unreachable() > 0) throw new Error(`${p.unreachable()} POSTs failed`);
        const sent = p.a.peerStatus(2n)!.stats.sentOn;
        if (sent.message + sent.msgappv2 > 0) throw new Error("a stream was used");
      } finally {
        await stopPair(p);
      }
    },
  );
}
