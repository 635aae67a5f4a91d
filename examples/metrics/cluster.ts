/**
 * Two members on 127.0.0.1, each serving its peer URL with `/metrics`
 * (`serve(transport, { metrics: true })`), exchanging heartbeats and, every
 * two seconds, a snapshot; point Prometheus at them with `prometheus.yml`
 * (alerts in `alerts.yml`).
 *
 *   deno run --allow-net=127.0.0.1 examples/metrics/cluster.ts [--base-port N] [--seconds S]
 *   curl -s http://127.0.0.1:12380/metrics | grep etcd_network_peer_sent_bytes_total
 *
 * Ports N and N+1 (default 12380); it runs for S seconds (default: until
 * Ctrl-C).
 *
 * @module
 */

import {
  create,
  MessageSchema,
  MessageType,
  serve,
  SnapshotMessage,
  Transport,
} from "../../mod.ts";

function arg(name: string, fallback: number): number {
  const i = Deno.args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(Deno.args[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < 0) {
    console.error(`--${name} takes a whole number (got ${Deno.args[i + 1]})`);
    Deno.exit(2);
  }
  return v;
}

const base = arg("base-port", 12380);
const seconds = arg("seconds", 0);
const urls = [`http://127.0.0.1:${base}`, `http://127.0.0.1:${base + 1}`];
const members = await Promise.all(urls.map(async (url, i) => {
  const transport = new Transport({
    id: BigInt(i + 1),
    clusterId: 0x1000n,
    urls: [url],
    raft: { process() {}, isIDRemoved: () => false, reportUnreachable() {}, reportSnapshot() {} },
    snapshot: {
      sink: {
        async save(_m, data) {
          for await (const _ of data) { /* a real member stores it */ }
        },
      },
    },
  });
  const server = await serve(transport, { port: base + i, metrics: true });
  transport.start();
  return { transport, server };
}));
members[0].transport.addPeer(2n, [urls[1]]);
members[1].transport.addPeer(1n, [urls[0]]);

let tick = 0;
const timer = setInterval(() => {
  tick++;
  const [a] = members;
  a.transport.send([create(MessageSchema, { type: MessageType.MsgHeartbeat, from: 1n, to: 2n })]);
  if (tick % 20 === 0) {
    const data = new Uint8Array(256 * 1024);
    a.transport.sendSnapshot(
      new SnapshotMessage(
        create(MessageSchema, {
          type: MessageType.MsgSnap,
          from: 1n,
          to: 2n,
          snapshot: { metadata: { index: BigInt(tick), term: 1n } },
        }),
        new Blob([data]).stream(),
        data.length,
      ),
    );
  }
}, 100);
console.log(`metrics: ${urls.map((u) => `${u}/metrics`).join(" ")}`);

const done = Promise.withResolvers<void>();
const onSignal = () => done.resolve();
Deno.addSignalListener("SIGINT", onSignal);
const stopAfter = seconds > 0 ? setTimeout(onSignal, seconds * 1000) : undefined;
await done.promise;
clearTimeout(stopAfter);
clearInterval(timer);
Deno.removeSignalListener("SIGINT", onSignal);
for (const m of members) {
  await m.transport.stop();
  await m.server.shutdown();
}
