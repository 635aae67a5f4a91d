// Request by request against a real etcd 3.4 member: the same requests
// (valid ones, and each varied in one field: method, path, each header,
// body) go to etcd's peer port and to our handler, and the status codes must
// be equal, except where a difference is intended; each of those is listed
// below with its reason. etcd gets them as from the (not started) Deno
// member, ours as from the etcd member, so each side sees a known peer.
import { assertEquals } from "@std/assert";
import { create } from "@bufbuild/protobuf";
import { MessageSchema, MessageType } from "../../raftpb/raft_pb.ts";
import { encodeMessage } from "../../src/codec/protobuf.ts";
import { encodeMessageFrame } from "../../src/codec/message.ts";
import { Transport } from "../../src/transport.ts";
import { silentLogger } from "../../src/logger.ts";
import { interopTest, VERBOSE } from "./etcd.ts";
import { MixedCluster } from "./member.ts";
import { hex } from "./ids.ts";
import { RecordingRaft } from "../harness.ts";

/** Who a request is from and to, for one side. */
interface Side {
  from: bigint;
  to: bigint;
  cluster: bigint;
  fromUrl: string;
}

interface Case {
  name: string;
  method?: string;
  path: (s: Side) => string;
  headers?: (s: Side) => Record<string, string | null>;
  body?: (s: Side) => Uint8Array | undefined;
}

function baseHeaders(s: Side): Record<string, string> {
  return {
    "X-Server-From": hex(s.from),
    "X-Server-Version": "3.4.23",
    "X-Min-Cluster-Version": "3.0.0",
    "X-Etcd-Cluster-ID": hex(s.cluster),
    "X-Raft-To": hex(s.to),
    "X-PeerURLs": s.fromUrl,
  };
}

const heartbeat = (s: Side, type = MessageType.MsgHeartbeat, to = s.to) =>
  encodeMessage(create(MessageSchema, { type, from: s.from, to, term: 1n }));
// Index 1 is below what a fresh etcd member has committed (its bootstrap
// entries), so etcd's raft ignores this snapshot after the handler saved it.
const snapshot = (s: Side, type = MessageType.MsgSnap) =>
  new Uint8Array([
    ...encodeMessageFrame(create(MessageSchema, {
      type,
      from: s.from,
      to: s.to,
      term: 1n,
      snapshot: { metadata: { index: 1n, term: 1n } },
    })),
    ...new Uint8Array(64).fill(1),
  ]);

const stream = (kind: string) => (s: Side) => `/raft/stream/${kind}/${hex(s.from)}`;
const fixed = (p: string) => () => p;

/** The valid requests, one per endpoint. */
const VALID: Case[] = [
  { name: "stream message", path: stream("message") },
  { name: "stream msgapp", path: stream("msgapp") },
  { name: "POST /raft", method: "POST", path: fixed("/raft"), body: (s) => heartbeat(s) },
  { name: "POST /raft/snapshot", method: "POST", path: fixed("/raft/snapshot"), body: snapshot },
  { name: "GET /raft/probing", path: fixed("/raft/probing") },
  { name: "GET /version", path: fixed("/version") },
  { name: "GET /members", path: fixed("/members") },
];

const HEADER_VALUES: Record<string, (s: Side) => (string | null)[]> = {
  "X-Server-From": () => [null, "zz", "1234"],
  "X-Server-Version": () => [null, "garbage", "2.3.0", "9.9.9"],
  "X-Min-Cluster-Version": () => [null, "garbage", "9.0.0"],
  "X-Etcd-Cluster-ID": () => [null, "zz", "1234"],
  "X-Raft-To": () => [null, "zz", "1234"],
  "X-PeerURLs": () => ["ftp://x", "unix://localhost:23999", "http://10.0.0.1:2380,not a url"],
};

function cases(): Case[] {
  const out: Case[] = [...VALID];
  for (const c of VALID) {
    for (const m of ["GET", "POST", "PUT", "DELETE"]) {
      if (m !== (c.method ?? "GET")) out.push({ ...c, name: `${c.name} as ${m}`, method: m });
    }
    for (const [h, values] of Object.entries(HEADER_VALUES)) {
      out.push({
        ...c,
        name: `${c.name} with ${h} ${JSON.stringify(values({} as Side))}`,
        // one request per value: expanded below
        headers: () => ({ [h]: "__expand__" }),
      });
    }
  }
  const expanded: Case[] = [];
  for (const c of out) {
    const h = c.headers?.({} as Side);
    const name = h === undefined ? undefined : Object.keys(h)[0];
    if (name === undefined) {
      expanded.push(c);
      continue;
    }
    for (const v of HEADER_VALUES[name]({} as Side)) {
      expanded.push({
        ...c,
        name: `${c.name.replace(/ with .*/, "")} with ${name}=${v ?? "(none)"}`,
        headers: () => ({ [name]: v }),
      });
    }
  }
  const paths: [string, (s: Side) => string][] = [
    ["stream to an unknown member", () => "/raft/stream/message/1234"],
    ["stream with a bad id", () => "/raft/stream/message/zz"],
    ["stream of an unknown type", stream("bogus")],
    ["stream without an id", () => "/raft/stream/message/"],
    ["/raft/", () => "/raft/"],
    ["/raft/x", () => "/raft/x"],
    ["/raftx", () => "/raftx"],
    ["/version/", () => "/version/"],
    ["/members/x", () => "/members/x"],
    ["/", () => "/"],
    ["/health", () => "/health"],
  ];
  for (const [name, path] of paths) expanded.push({ name: `GET ${name}`, path });
  const bodies: [string, string, (s: Side) => Uint8Array][] = [
    ["POST /raft with an empty body", "/raft", () => new Uint8Array()],
    ["POST /raft with garbage", "/raft", () => new Uint8Array([0xff, 0xff, 0xff])],
    ["POST /raft with MsgHup", "/raft", (s) => heartbeat(s, MessageType.MsgHup)],
    ["POST /raft with MsgBeat", "/raft", (s) => heartbeat(s, MessageType.MsgBeat)],
    ["POST /raft to another member", "/raft", (s) => heartbeat(s, MessageType.MsgHeartbeat, 99n)],
    ["POST /raft/snapshot with an empty body", "/raft/snapshot", () => new Uint8Array()],
    ["POST /raft/snapshot with garbage", "/raft/snapshot", () => new Uint8Array(16).fill(0xff)],
    ["POST /raft/snapshot with a MsgApp", "/raft/snapshot", (s) => snapshot(s, MessageType.MsgApp)],
    ["POST /raft/snapshot with MsgHup", "/raft/snapshot", (s) => snapshot(s, MessageType.MsgHup)],
  ];
  for (const [name, path, body] of bodies) {
    expanded.push({ name, method: "POST", path: fixed(path), body });
  }
  return expanded;
}

/** The intended differences: case name -> [etcd, ours, why]. "drop" is a closed connection. */
const DIFFERENCES: Record<string, [number | "drop", number, string]> = {};
for (const c of ["stream message", "stream msgapp", "POST /raft", "POST /raft/snapshot"]) {
  for (const h of ["X-Server-Version", "X-Min-Cluster-Version"]) {
    DIFFERENCES[`${c} with ${h}=garbage`] = [
      "drop",
      400,
      "etcd's handler panics on a malformed version (semver.Must) and Go's server drops the " +
      "connection; we answer 400 naming the header",
    ];
  }
}
for (const c of ["stream message", "stream msgapp"]) {
  for (const v of ["zz", "1234"]) {
    DIFFERENCES[`${c} with X-Server-From=${v}`] = [
      200,
      400,
      "etcd takes the sender from the path and ignores the header; we refuse a header that " +
      "names another member than the path (forged or misrouted)",
    ];
  }
}
for (const c of ["POST /raft", "POST /raft/snapshot"]) {
  DIFFERENCES[`${c} with X-Server-From=1234`] = [
    204,
    400,
    "etcd hands raft a message whose from is not the sender the header names; we refuse it",
  ];
}
DIFFERENCES["POST /raft to another member"] = [
  204,
  400,
  "etcd hands raft a message addressed to another member (raft drops it); we refuse it with 400",
];

function request(c: Case, s: Side, base: string): Request {
  const h = new Headers(baseHeaders(s));
  for (const [k, v] of Object.entries(c.headers?.(s) ?? {})) v === null ? h.delete(k) : h.set(k, v);
  const method = c.method ?? "GET";
  const body = method === "GET" || method === "HEAD"
    ? undefined
    : (c.body?.(s) ?? new Uint8Array());
  return new Request(base + c.path(s), { method, headers: h, body: body as BodyInit | undefined });
}

async function statusOf(res: Promise<Response>): Promise<number | "drop"> {
  try {
    const r = await res;
    await r.body?.cancel();
    return r.status;
  } catch {
    return "drop";
  }
}

interopTest("peer port: our handler answers each request with etcd 3.4's status code", async () => {
  await using c = await MixedCluster.start(1, { member: false });
  const [etcd] = c.etcds;
  const E = c.idOf(etcd);
  const D = c.denoId;
  await using ours = new Transport({
    id: D,
    clusterId: c.clusterId,
    urls: [c.deno.url],
    raft: new RecordingRaft(),
    logger: silentLogger,
    probeIntervalMs: 0,
    snapshot: {
      sink: {
        async save(_m, data) {
          for await (const _ of data) { /* discard */ }
        },
      },
    },
  });
  ours.addPeer(E, [etcd.peerUrl]); // not started: it dials nothing
  const handle = ours.handler();
  const toEtcd: Side = { from: D, to: E, cluster: c.clusterId, fromUrl: c.deno.url };
  const toUs: Side = { from: E, to: D, cluster: c.clusterId, fromUrl: etcd.peerUrl };
  const rows: string[] = [];
  const unexpected: string[] = [];
  const all = cases();
  for (const k of all) {
    const theirs = await statusOf(
      fetch(request(k, toEtcd, etcd.peerUrl), { signal: AbortSignal.timeout(5000) }),
    );
    const mine = await statusOf(handle(request(k, toUs, "http://127.0.0.1:9")));
    const expected = DIFFERENCES[k.name];
    rows.push(`${String(theirs).padEnd(5)} ${String(mine).padEnd(5)} ${k.name}`);
    if (theirs === mine) {
      if (expected !== undefined) {
        unexpected.push(`${k.name}: listed as a difference, but both ${mine}`);
      }
    } else if (expected === undefined || expected[0] !== theirs || expected[1] !== mine) {
      unexpected.push(`${k.name}: etcd ${theirs}, ours ${mine}`);
    }
  }
  const same = all.length - Object.keys(DIFFERENCES).length;
  console.log(`${all.length} requests: ${same} answered alike, the rest as listed in DIFFERENCES`);
  if (VERBOSE) console.log(`etcd  ours  request\n${rows.join("\n")}`);
  assertEquals(unexpected, []);
});
