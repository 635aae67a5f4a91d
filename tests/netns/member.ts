// A member for the network-namespace tests, run as a subprocess inside its
// namespace (`ip netns exec NS deno run -A tests/netns/member.ts '<json>'`).
// It serves its transport on its namespace's address and obeys one JSON
// command per stdin line, answering each with one JSON line on stdout:
//   {"cmd":"beat","to":["2","3"],"intervalMs":50}  send each a numbered MsgHeartbeat every interval
//   {"cmd":"unbeat"}                                stop sending
//   {"cmd":"status"}                                counters, per peer (see Status)
//   {"cmd":"snapshot","to":"2","bytes":268435456}   send a snapshot of generated data; answers when done
//   {"cmd":"stop"}                                  stop the transport and the server, then exit
// Heartbeats carry their sequence number in `commit`, so the receiver can
// tell which ones arrived.
import { create } from "@bufbuild/protobuf";
import { MessageSchema, MessageType } from "../../raftpb/raft_pb.ts";
import type { Message } from "../../raftpb/raft_pb.ts";
import { Transport } from "../../src/transport.ts";
import type { TransportOptions } from "../../src/options.ts";
import type { Raft } from "../../src/raft_node.ts";
import { SnapshotStatus } from "../../raftpb/snapshot_status.ts";
import { SnapshotMessage } from "../../src/snapshot/message.ts";
import { serve } from "../../src/edge/serve.ts";
import { silentLogger } from "../../src/logger.ts";

interface Config {
  id: string;
  addr: string;
  port: number;
  peers: Record<string, string>;
  options: Partial<TransportOptions>;
}

const cfg: Config = JSON.parse(Deno.args[0]);
const id = BigInt(cfg.id);

/** Per peer: what we sent it, what arrived from it, what raft heard. */
const sent = new Map<bigint, number>();
const got = new Map<bigint, Set<number>>();
const unreachable = new Map<bigint, number[]>();
const snapshots: { from: string; bytes: number }[] = [];
const snapshotReports: [string, string][] = [];

const raft: Raft = {
  process(m: Message) {
    if (m.type === MessageType.MsgHeartbeat) {
      let s = got.get(m.from);
      if (s === undefined) got.set(m.from, s = new Set());
      s.add(Number(m.commit));
    }
  },
  isIDRemoved: () => false,
  reportUnreachable(to) {
    const l = unreachable.get(to) ?? [];
    // Bounded: the test needs the first report after a cut and a count.
    if (l.length < 10000) l.push(Date.now());
    unreachable.set(to, l);
  },
  reportSnapshot(to, status) {
    snapshotReports.push([to.toString(), SnapshotStatus[status]]);
  },
};

const url = `http://${cfg.addr}:${cfg.port}`;
const transport = new Transport({
  id,
  clusterId: 0x5eedn,
  urls: [url],
  raft,
  logger: silentLogger,
  probeIntervalMs: 0,
  snapshot: {
    sink: {
      async save(m, data) {
        let bytes = 0;
        for await (const c of data) bytes += c.length;
        snapshots.push({ from: m.from.toString(), bytes });
      },
    },
  },
  ...cfg.options,
});
const server = await serve(transport, { hostname: cfg.addr, port: cfg.port });
transport.start();
for (const [pid, purl] of Object.entries(cfg.peers)) transport.addPeer(BigInt(pid), [purl]);

let beat: ReturnType<typeof setInterval> | undefined;

function status() {
  const peers: Record<string, unknown> = {};
  for (const pid of transport.peers()) {
    const s = transport.peerStatus(pid)!;
    peers[pid.toString()] = {
      sent: sent.get(pid) ?? 0,
      received: got.get(pid)?.size ?? 0,
      unreachable: unreachable.get(pid) ?? [],
      active: s.activeSince !== undefined,
      streams: s.streams,
      queued: s.queued,
      stats: s.stats,
    };
  }
  return { now: Date.now(), peers, snapshots, snapshotReports };
}

function snapshot(to: bigint, total: number): Promise<unknown> {
  const chunk = new Uint8Array(1 << 20).fill(0x5a);
  let left = total;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (left <= 0) return c.close();
      const n = Math.min(left, chunk.length);
      left -= n;
      c.enqueue(n === chunk.length ? chunk.slice() : chunk.slice(0, n));
    },
  });
  const m = create(MessageSchema, {
    type: MessageType.MsgSnap,
    from: id,
    to,
    term: 1n,
    snapshot: { metadata: { index: 100n, term: 1n } },
  });
  const snap = new SnapshotMessage(m, body, total);
  const started = Date.now();
  transport.sendSnapshot(snap);
  return snap.done.then((ok) => ({ ok, ms: Date.now() - started, started }));
}

const out = (v: unknown) =>
  console.log(JSON.stringify(v, (_k, x) => typeof x === "bigint" ? x.toString() : x));

// deno-lint-ignore no-explicit-any
async function handle(c: any): Promise<unknown> {
  switch (c.cmd) {
    case "beat": {
      clearInterval(beat);
      const to: bigint[] = c.to.map((x: string) => BigInt(x));
      beat = setInterval(() => {
        for (const t of to) {
          const seq = (sent.get(t) ?? 0) + 1;
          sent.set(t, seq);
          transport.send([
            create(MessageSchema, {
              type: MessageType.MsgHeartbeat,
              from: id,
              to: t,
              term: 1n,
              commit: BigInt(seq),
            }),
          ]);
        }
      }, c.intervalMs);
      return {};
    }
    case "unbeat":
      clearInterval(beat);
      return {};
    case "status":
      return status();
    case "snapshot":
      return await snapshot(BigInt(c.to), c.bytes);
    case "stop":
      clearInterval(beat);
      await transport.stop();
      await server.shutdown();
      return { stopped: true };
    default:
      throw new Error(`unknown command ${c.cmd}`);
  }
}

out({ rid: 0, url });
const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
let buf = "";
let stopping = false;
for await (const text of lines) {
  buf += text;
  let nl: number;
  while ((nl = buf.indexOf("\n")) >= 0) {
    const c = JSON.parse(buf.slice(0, nl));
    buf = buf.slice(nl + 1);
    if (c.cmd === "stop") stopping = true;
    handle(c).then(
      (r) => out({ rid: c.rid, ...(r as object) }),
      (e) => out({ rid: c.rid, error: String(e) }),
    ).then(() => {
      if (c.cmd === "stop") Deno.exit(0);
    });
  }
  if (stopping) break;
}
