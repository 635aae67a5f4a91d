// Throws generated requests at a transport's handler: valid ones with one
// mutation each (so the right status is known), and random ones. Every
// request must get the expected status, never an exception. Used by the test
// run and by `deno task fuzz`.
import { create } from "@bufbuild/protobuf";
import { MessageSchema, MessageType } from "../../raftpb/raft_pb.ts";
import { encodeMessage } from "../../src/codec/protobuf.ts";
import { encodeMessageFrame } from "../../src/codec/message.ts";
import { Transport } from "../../src/transport.ts";
import { silentLogger } from "../../src/logger.ts";
import type { Raft } from "../../src/raft_node.ts";

export const LOCAL = 0xa1n;
export const PEER = 0xb2n;
export const REMOVED = 0xd4n;
const CLUSTER = "c1";
const BODY_LIMIT = 4096;

/** A transport whose handler is fuzzed: peer PEER known, REMOVED removed, not started. */
export function fuzzTarget(): {
  transport: Transport;
  handle: (req: Request) => Promise<Response>;
} {
  const raft: Raft = {
    process() {},
    isIDRemoved: (id) => id === REMOVED,
    reportUnreachable() {},
    reportSnapshot() {},
  };
  const transport = new Transport({
    id: LOCAL,
    clusterId: 0xc1n,
    urls: ["http://127.0.0.1:1"],
    raft,
    logger: silentLogger,
    probeIntervalMs: 0,
    pipeline: { maxBodySize: BODY_LIMIT },
    snapshot: {
      maxEnvelopeSize: BODY_LIMIT,
      sink: {
        async save(_m, data) {
          for await (const _ of data) { /* discard */ }
        },
      },
    },
  });
  transport.addPeer(PEER, ["http://127.0.0.1:2"]);
  return { transport, handle: transport.handler() };
}

type Rnd = () => number;
const pick = <T>(rnd: Rnd, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];

function headers(rnd: Rnd): Record<string, string> {
  return {
    "X-Server-From": PEER.toString(16),
    "X-Server-Version": pick(rnd, ["3.4.23", "3.4.0", "3.5.9", "3.3.1"]),
    "X-Min-Cluster-Version": "3.0.0",
    "X-Etcd-Cluster-ID": CLUSTER,
    "X-Raft-To": LOCAL.toString(16),
  };
}

function randomBytes(rnd: Rnd, max: number): Uint8Array<ArrayBuffer> {
  return Uint8Array.from({ length: Math.floor(rnd() * max) }, () => Math.floor(rnd() * 256));
}

function flipBits(rnd: Rnd, b: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  const out = b.slice();
  for (let i = 0, n = 1 + Math.floor(rnd() * 3); i < n && out.length > 0; i++) {
    out[Math.floor(rnd() * out.length)] ^= 1 << Math.floor(rnd() * 8);
  }
  return out;
}

function validMessage(rnd: Rnd, type = MessageType.MsgApp) {
  return create(MessageSchema, {
    type,
    from: PEER,
    to: LOCAL,
    term: BigInt(Math.floor(rnd() * 100)),
    index: BigInt(Math.floor(rnd() * 1e6)),
    entries: Array.from({ length: Math.floor(rnd() * 3) }, () => ({ data: randomBytes(rnd, 50) })),
    snapshot: type === MessageType.MsgSnap ? { metadata: { index: 5n } } : undefined,
  });
}

/** One generated case: the request and the statuses it may get. */
interface Case {
  kind: string;
  req: Request;
  expect: number[];
}

const BASE = "http://127.0.0.1:9";

/** Makes one kind of case; `h` are the headers of a valid request from PEER. */
type CaseMaker = (rnd: Rnd, h: Record<string, string>) => Case;

/** A valid POST /raft. */
const pipelineValid: CaseMaker = (rnd, h) => ({
  kind: "pipeline valid",
  req: new Request(BASE + "/raft", {
    method: "POST",
    headers: h,
    body: encodeMessage(validMessage(rnd)),
  }),
  expect: [204],
});

/** A POST /raft with flipped bits or truncated. */
const pipelineMutated: CaseMaker = (rnd, h) => ({
  kind: "pipeline mutated body",
  req: new Request(BASE + "/raft", {
    method: "POST",
    headers: h,
    body: rnd() < 0.5
      ? flipBits(rnd, encodeMessage(validMessage(rnd)))
      : encodeMessage(validMessage(rnd)).slice(0, Math.floor(rnd() * 40)),
  }),
  // A flipped bit may still decode (to another valid message, maybe for someone else).
  expect: [204, 400],
});

/** A POST /raft over the body limit. */
const pipelineOversized: CaseMaker = (_rnd, h) => ({
  kind: "pipeline oversized",
  req: new Request(BASE + "/raft", {
    method: "POST",
    headers: h,
    body: new Uint8Array(BODY_LIMIT + 1),
  }),
  expect: [413],
});

/** One header missing or malformed. */
const headerBroken: CaseMaker = (rnd, h) => {
  const key = pick(rnd, ["X-Server-Version", "X-Min-Cluster-Version", "X-Etcd-Cluster-ID"]);
  const value = pick(rnd, [null, "", "garbage", "3.4", "9.9.9", "C1", "0c1", "\u00ff"]);
  const hh: Record<string, string> = { ...h };
  if (value === null) delete hh[key];
  else hh[key] = value;
  let expect: number[];
  if (key === "X-Etcd-Cluster-ID") expect = [412];
  else if (value === null) expect = key === "X-Server-Version" ? [412] : [204];
  else if (value === "9.9.9") expect = key === "X-Server-Version" ? [204] : [412];
  else expect = [400];
  return {
    kind: `header ${key}`,
    req: new Request(BASE + "/raft", {
      method: "POST",
      headers: hh,
      body: encodeMessage(validMessage(rnd)),
    }),
    expect,
  };
};

/** A method the route does not take. */
const wrongMethod: CaseMaker = (rnd, h) => ({
  kind: "wrong method",
  req: new Request(BASE + pick(rnd, ["/raft", "/raft/snapshot", "/raft/stream/message/b2"]), {
    method: pick(rnd, ["PUT", "DELETE", "PATCH"]),
    headers: h,
  }),
  expect: [405],
});

/** A stream GET with odd paths and ids. */
const streamPath: CaseMaker = (rnd, h) => {
  const type = pick(rnd, ["message", "msgapp", "msgappv2", "", "x/y"]);
  const id = pick(rnd, ["b2", "B2", "00b2", "d4", "77", "xyz", "", "1".repeat(17), "-1"]);
  const to = pick(rnd, [LOCAL.toString(16), "0a1", "A1", "5"]);
  let expect: number[];
  if (type !== "message" && type !== "msgapp") expect = [404];
  else if (!/^[0-9a-fA-F]{1,16}$/.test(id.replace(/^0+(?=.)/, ""))) expect = [404];
  else if (BigInt("0x" + id) === REMOVED) expect = [410];
  else if (BigInt("0x" + id) !== PEER) expect = [404];
  else if (to !== LOCAL.toString(16)) expect = [412];
  else expect = [200];
  return {
    kind: "stream",
    req: new Request(`${BASE}/raft/stream/${type}/${id}`, {
      headers: { ...h, "X-Raft-To": to, "X-Server-From": id },
    }),
    expect,
  };
};

/** A snapshot POST: valid with trailing bytes, flipped bits, a huge frame length, or noise. */
const snapshotBody: CaseMaker = (rnd, h) => {
  const good = encodeMessageFrame(validMessage(rnd, MessageType.MsgSnap));
  const variant = Math.floor(rnd() * 4);
  const body = variant === 0
    ? new Uint8Array([...good, ...randomBytes(rnd, 500)])
    : variant === 1
    ? flipBits(rnd, good)
    : variant === 2
    ? new Uint8Array([0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff])
    : randomBytes(rnd, 100);
  return {
    kind: "snapshot",
    req: new Request(BASE + "/raft/snapshot", { method: "POST", headers: h, body }),
    expect: variant === 0 ? [204] : variant === 2 ? [400] : [204, 400],
  };
};

/** A path no route has. */
const unknownPath: CaseMaker = (rnd, h) => ({
  kind: "unknown path",
  req: new Request(
    BASE +
      pick(rnd, ["/", "/raft/", "/raft/x", "/raft/stream", "/version/", "/raft/snapshot/1"]),
    {
      headers: h,
    },
  ),
  expect: [404],
});

/** A POST from the removed member. */
const removedSender: CaseMaker = (_rnd, h) => ({
  kind: "removed sender",
  req: new Request(BASE + "/raft", {
    method: "POST",
    headers: { ...h, "X-Server-From": REMOVED.toString(16) },
    body: encodeMessage(
      create(MessageSchema, { type: MessageType.MsgApp, from: REMOVED, to: LOCAL }),
    ),
  }),
  expect: [403],
});

/** X-PeerURLs garbage from an unknown sender. */
const peerUrlsGarbage: CaseMaker = (rnd, h) => ({
  kind: "peer urls",
  req: new Request(BASE + "/raft", {
    method: "POST",
    headers: {
      ...h,
      "X-Server-From": (0x1000n + BigInt(Math.floor(rnd() * 1e9))).toString(16),
      "X-PeerURLs": pick(rnd, ["notaurl", "ftp://x:1", "http://h:1/p", ",", "http://"]),
    },
    body: encodeMessage(validMessage(rnd)),
  }),
  expect: [400],
});

/** Probing, any method. */
const probing: CaseMaker = (rnd) => ({
  kind: "probing",
  req: new Request(BASE + "/raft/probing", { method: pick(rnd, ["GET", "POST", "HEAD"]) }),
  expect: [200],
});

/** Random headers and bytes everywhere. */
const randomRequest: CaseMaker = (rnd, h) => ({
  kind: "random",
  req: new Request(BASE + pick(rnd, ["/raft", "/raft/snapshot"]), {
    method: "POST",
    headers: rnd() < 0.5 ? h : { "X-Server-Version": String(rnd()) },
    body: randomBytes(rnd, 300),
  }),
  expect: [204, 400, 412],
});

/** The kinds of case, equally likely. */
const CASES: readonly CaseMaker[] = [
  pipelineValid,
  pipelineMutated,
  pipelineOversized,
  headerBroken,
  wrongMethod,
  streamPath,
  snapshotBody,
  unknownPath,
  removedSender,
  peerUrlsGarbage,
  probing,
  randomRequest,
];

/** One case of a kind drawn at random (the headers are drawn first). */
function generate(rnd: Rnd): Case {
  const h = headers(rnd);
  return CASES[Math.floor(rnd() * CASES.length)](rnd, h);
}

/** Runs `n` generated requests; throws on an unexpected status or any exception. */
export async function fuzzHandler(
  handle: (req: Request) => Promise<Response>,
  rnd: Rnd,
  n: number,
  counts: Map<number, number>,
): Promise<void> {
  for (let i = 0; i < n; i++) {
    const c = generate(rnd);
    const res = await handle(c.req);
    await res.body?.cancel();
    if (!c.expect.includes(res.status)) {
      throw new Error(
        `${c.kind}: ${c.req.method} ${c.req.url} got ${res.status}, expected ${c.expect}`,
      );
    }
    counts.set(res.status, (counts.get(res.status) ?? 0) + 1);
  }
}
