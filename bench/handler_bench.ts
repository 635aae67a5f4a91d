// Handler dispatch without the network: the transport's handler answering
// Request objects built in process, as Deno.serve would hand them over.
// - POST /raft: headers checked, body read and decoded, `process` called
//   (synchronous here), 204.
// - GET /raft/stream/msgapp/<from>: headers checked, the writer attached,
//   200 with the stream body (cancelled right away, which detaches it).
// Each iteration handles 1000 requests; a "build the Request only" row in
// each group shows what constructing the requests alone costs.
//
// Run: deno bench -A bench/handler_bench.ts
import { create } from "npm:@bufbuild/protobuf@2.17.0";
import { MessageSchema, MessageType } from "../raftpb/raft_pb.ts";
import { encodeMessage } from "../src/codec/protobuf.ts";
import { Transport } from "../src/transport.ts";
import { silentLogger } from "../src/logger.ts";
import type { Raft } from "../src/raft_node.ts";

const LOCAL = 0x8e9e05c52164694dn;
const PEER = 0x91bc3c398fb3c146n;
const BASE = "http://127.0.0.1:12380";
const REQUESTS = 1000;

let processed = 0;
const raft: Raft = {
  process() {
    processed++;
  },
  isIDRemoved: () => false,
  reportUnreachable() {},
  reportSnapshot() {},
};

const identity = {
  "X-Server-From": PEER.toString(16),
  "X-Server-Version": "3.4.23",
  "X-Min-Cluster-Version": "3.0.0",
  "X-Etcd-Cluster-ID": "c1",
  "X-PeerURLs": "http://127.0.0.1:12381",
};

const heartbeat = encodeMessage(create(MessageSchema, {
  type: MessageType.MsgHeartbeat,
  from: PEER,
  to: LOCAL,
  term: 3n,
  commit: 10n,
}));
const app = encodeMessage(create(MessageSchema, {
  type: MessageType.MsgApp,
  from: PEER,
  to: LOCAL,
  term: 3n,
  logTerm: 3n,
  index: 10n,
  commit: 9n,
  entries: [{ term: 3n, index: 11n, data: new Uint8Array(1024).fill(1) }],
}));

function post(body: Uint8Array<ArrayBuffer>): Request {
  return new Request(`${BASE}/raft`, {
    method: "POST",
    headers: { ...identity, "Content-Type": "application/protobuf" },
    body,
  });
}

function streamGet(): Request {
  return new Request(`${BASE}/raft/stream/msgapp/${PEER.toString(16)}`, {
    headers: { ...identity, "X-Raft-To": LOCAL.toString(16) },
  });
}

/** A transport that knows PEER but was never started: nothing dials. */
function transport(): Transport {
  const t = new Transport({
    id: LOCAL,
    clusterId: 0xc1n,
    urls: [BASE],
    raft,
    logger: silentLogger,
    probeIntervalMs: 0,
  });
  t.addPeer(PEER, ["http://127.0.0.1:12381"]);
  return t;
}

const cases: [string, () => Request, number][] = [
  ["POST /raft MsgHeartbeat", () => post(heartbeat), 204],
  ["POST /raft MsgApp 1 KiB", () => post(app), 204],
  ["GET /raft/stream/msgapp", streamGet, 200],
];

for (const [name, build, status] of cases) {
  Deno.bench(
    `${name}: build the Request only, x${REQUESTS}`,
    { group: name, n: 30, warmup: 3 },
    (b) => {
      const reqs: Request[] = [];
      b.start();
      for (let i = 0; i < REQUESTS; i++) reqs.push(build());
      b.end();
    },
  );
  Deno.bench(
    `${name}: handler, x${REQUESTS}`,
    { group: name, baseline: true, n: 30, warmup: 3 },
    async (b) => {
      const t = transport();
      const handler = t.handler();
      try {
        const before = processed;
        b.start();
        for (let i = 0; i < REQUESTS; i++) {
          const res = await handler(build());
          if (res.status !== status) throw new Error(`${name}: status ${res.status}`);
          await res.body?.cancel();
        }
        b.end();
        if (status === 204 && processed - before !== REQUESTS) throw new Error("not processed");
      } finally {
        await t.stop();
      }
    },
  );
}
