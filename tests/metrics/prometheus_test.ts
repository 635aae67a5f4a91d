// A real Prometheus server scrapes two members' /metrics (served by
// serve(transport, { metrics: true })); the values come back through its
// HTTP API, and the alert expressions of docs/metrics.md fire when they should.
// promtool lints the exposition.
import { assert, assertEquals } from "@std/assert";
import { freePorts, msg, RecordingRaft, waitUntil } from "../harness.ts";
import { MessageType } from "../../raftpb/raft_pb.ts";
import { Transport } from "../../src/transport.ts";
import { serve } from "../../src/edge/serve.ts";
import { silentLogger } from "../../src/logger.ts";
import { SnapshotMessage } from "../../src/snapshot/message.ts";
import { CLUSTER } from "../harness.ts";
import {
  type Prometheus,
  prometheusTest,
  promtoolProblems,
  startPrometheus,
} from "./prometheus.ts";
import { metric } from "./scrape.ts";

const le = (v: string) => v === "+Inf" ? Infinity : Number(v);

/** The alert expressions of examples/metrics/alerts.yml, by alert name. */
const ALERTS = (() => {
  const text = Deno.readTextFileSync(new URL("../../examples/metrics/alerts.yml", import.meta.url));
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/- alert: (\S+)\n\s+expr: (.+)\n/g)) out[m[1]] = m[2];
  return out;
})();

/** A member served with /metrics on `port`; `await using` stops it. */
async function member(id: bigint, port: number, probeIntervalMs = 0, sinkFails = { on: false }) {
  const transport = new Transport({
    id,
    clusterId: CLUSTER,
    urls: [`http://127.0.0.1:${port}`],
    raft: new RecordingRaft(),
    logger: silentLogger,
    probeIntervalMs,
    snapshot: {
      sink: {
        async save(_m, data) {
          for await (const _ of data) { /* discard */ }
          if (sinkFails.on) throw new Error("disk full");
        },
      },
    },
  });
  const server = await serve(transport, { port, metrics: true });
  transport.start();
  // Closed once: a test may close a member before `await using` does.
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      await transport.stop();
      await server.shutdown();
    })();
    return closed;
  };
  return { id, transport, url: `http://127.0.0.1:${port}`, close, [Symbol.asyncDispose]: close };
}
type Member = Awaited<ReturnType<typeof member>>;

// What promtool's linter says about etcd's own names, which we keep as etcd
// has them: four counters without _total, and 3.5's two gauges with it.
const ETCD_NAMES_LINT = [
  ...[
    "etcd_network_snapshot_send_success",
    "etcd_network_snapshot_send_failures",
    "etcd_network_snapshot_receive_success",
    "etcd_network_snapshot_receive_failures",
  ].map((n) => `${n} counter metrics should have "_total" suffix`),
  ...[
    "etcd_network_snapshot_send_inflights_total",
    "etcd_network_snapshot_receive_inflights_total",
  ].map((n) => `${n} non-counter metrics should not have "_total" suffix`),
];

/**
 * A 1000-byte snapshot (at `index`) from member 1 to member 2; resolves
 * with whether it was stored.
 */
function sendSnapshot(from: Member, index: bigint): Promise<boolean> {
  const snap = new SnapshotMessage(
    msg(MessageType.MsgSnap, 1n, 2n, { snapshot: { metadata: { index, term: 1n } } }),
    new Blob([new Uint8Array(1000)]).stream(),
    1000,
  );
  from.transport.sendSnapshot(snap);
  return snap.done;
}

/**
 * /metrics of a member that has probed, sent and sent a snapshot: the
 * 0.0.4 text format, on /metrics only, and promtool finds nothing but
 * etcd's own names in it.
 */
async function metricsEndpoint(): Promise<void> {
  const [p1, p2] = freePorts(2);
  await using a = await member(1n, p1, 50);
  await using b = await member(2n, p2);
  a.transport.addPeer(2n, [b.url]);
  b.transport.addPeer(1n, [a.url]);
  a.transport.send([msg(MessageType.MsgHeartbeat, 1n, 2n)]);
  assert(await sendSnapshot(a, 3n));
  await waitUntil(
    () =>
      metric(a.transport.metrics(), "etcd_network_peer_round_trip_time_seconds_count", {
        To: "2",
      }) > 0,
    5000,
    "a probe answered",
  );
  const res = await fetch(`${a.url}/metrics`);
  assertEquals(res.status, 200);
  assert(
    res.headers.get("content-type")?.startsWith("text/plain; version=0.0.4"),
    String(res.headers.get("content-type")),
  );
  const text = await res.text();
  assert(text.includes('etcd_network_peer_sent_bytes_total{To="2"}'), text.slice(0, 500));
  const other = await fetch(`${a.url}/other`);
  await other.body?.cancel();
  assertEquals(other.status, 404, "only /metrics is added");
  const post = await fetch(`${a.url}/metrics`, { method: "POST" });
  await post.body?.cancel();
  assertEquals(post.status, 405);

  const { code, lines } = await promtoolProblems(text);
  const unexpected = lines.filter((l) => !ETCD_NAMES_LINT.includes(l.trim()));
  assertEquals(unexpected, [], `promtool (exit ${code}) reports only etcd's names`);
  assert(code === 0 || code === 3, `promtool exit ${code}: lint findings only, no parse error`);
  // And promtool does fail on a broken exposition (the check can fail).
  const broken = await promtoolProblems("# TYPE x counter\nx{To=2} 1\n");
  assert(broken.code !== 0 && broken.code !== 3, `broken text: exit ${broken.code}`);
}

prometheusTest(
  "GET /metrics: 0.0.4 content type; promtool finds nothing but etcd's own names",
  metricsEndpoint,
);

/** The value of a query with exactly one result, else undefined. */
async function single(prom: Prometheus, q: string): Promise<number | undefined> {
  const r = await prom.query(q);
  return r.length === 1 ? Number(r[0].value[1]) : undefined;
}

prometheusTest("a Prometheus server scrapes two members; values and alerts read back", async () => {
  const [p1, p2] = freePorts(2);
  const sinkFails = { on: false };
  await using a = await member(1n, p1, 100);
  await using b = await member(2n, p2, 100, sinkFails);
  a.transport.addPeer(2n, [b.url]);
  b.transport.addPeer(1n, [a.url]);
  for (let i = 0; i < 20; i++) {
    a.transport.send([
      msg(MessageType.MsgApp, 1n, 2n, { entries: [{ data: new Uint8Array(64) }] }),
    ]);
  }
  await using prom = await startPrometheus([`127.0.0.1:${p1}`, `127.0.0.1:${p2}`]);
  await waitUntil(
    async () => (await prom.query('up{job="rafthttp"} == 1')).length === 2,
    20_000,
    () => `both targets scraped and up; prometheus log:\n${prom.log()}`,
    200,
  );
  await waitUntil(
    async () => (await single(prom, 'etcd_network_active_peers{Local="1",Remote="2"}')) === 1,
    10_000,
    "a's peer 2 active in Prometheus",
    200,
  );
  await scrapedValuesMatch(prom, a, p1);
  await alertsFire(prom, { a, b, sinkFails });
});

/** What Prometheus scraped from a (at `port`): its sent bytes, and etcd's RTT buckets. */
async function scrapedValuesMatch(prom: Prometheus, a: Member, port: number): Promise<void> {
  // The sent bytes Prometheus holds are what a's counter said at a scrape: > 0, <= now.
  const sent = await single(
    prom,
    `etcd_network_peer_sent_bytes_total{instance="127.0.0.1:${port}",To="2"}`,
  );
  assert(sent !== undefined && sent > 20 * 64, `scraped sent bytes: ${sent}`);
  assert(sent! <= metric(a.transport.metrics(), "etcd_network_peer_sent_bytes_total", { To: "2" }));
  // etcd's buckets survive the trip: 16 bounds and +Inf per peer.
  const buckets = `etcd_network_peer_round_trip_time_seconds_bucket{instance="127.0.0.1:${port}"}`;
  await waitUntil(
    async () => (await single(prom, `count(${buckets})`)) === 17,
    10_000,
    "17 RTT buckets",
    200,
  );
  const les = (await prom.query(buckets)).map((r) => r.metric.le).sort((x, y) => le(x) - le(y));
  assertEquals(les[0], "0.0001");
  assertEquals(les[15], "3.2768");
  assertEquals(les[16], "+Inf");
}

/**
 * The example's alerts: silent while all is well, the snapshot alert once b
 * fails to store a snapshot, the unreachable one once b is gone.
 */
async function alertsFire(
  prom: Prometheus,
  { a, b, sinkFails }: { a: Member; b: Member; sinkFails: { on: boolean } },
): Promise<void> {
  const UNREACHABLE = ALERTS.EtcdPeerUnreachable;
  const SNAPSHOTS = ALERTS.EtcdSnapshotFailures;
  assertEquals(UNREACHABLE, "etcd_network_active_peers == 0");
  assert(SNAPSHOTS?.includes("etcd_network_snapshot_send_failures"), SNAPSHOTS);
  // Silent while all is well...
  assertEquals(await prom.query(UNREACHABLE), []);
  assertEquals(await prom.query(SNAPSHOTS), []);
  // ...a snapshot the peer fails to store fires the snapshot alert for both sides...
  sinkFails.on = true;
  assertEquals(await sendSnapshot(a, 5n), false);
  await waitUntil(
    async () => {
      const r = await prom.query(SNAPSHOTS);
      return r.some((x) => x.metric.To === "2") && r.some((x) => x.metric.From === "1");
    },
    15_000,
    "the snapshot alert for a's send to 2 and b's receive from 1",
    200,
  );
  // ...and the unreachable alert names the peer once that peer is killed.
  await b.close();
  await waitUntil(
    async () => (await prom.query(UNREACHABLE)).some((r) => r.metric.Remote === "2"),
    15_000,
    "the unreachable alert for peer 2",
    200,
  );
  const lost = await single(prom, `etcd_network_disconnected_peers_total{Local="1",Remote="2"}`);
  assertEquals(lost, 1, "one disconnect for the killed peer, as Prometheus saw it");
}
