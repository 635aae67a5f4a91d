import { assert, assertEquals } from "@std/assert";
import type { MeterProvider } from "npm:@opentelemetry/api@1.10.0";
import { Transport } from "../transport.ts";
import { silentLogger } from "../logger.ts";
import { INSTRUMENTS } from "./etcd.ts";

/** A meter that records what the bridge does with it. */
function fakeProvider() {
  const created = new Map<string, { kind: string; options: Record<string, unknown> }>();
  const callbacks = new Set<(r: unknown) => void>();
  const meter = {
    createObservableCounter: (name: string, options: Record<string, unknown>) => {
      created.set(name, { kind: "counter", options });
      return { name };
    },
    createObservableGauge: (name: string, options: Record<string, unknown>) => {
      created.set(name, { kind: "gauge", options });
      return { name };
    },
    createHistogram: (name: string, options: Record<string, unknown>) => {
      created.set(name, { kind: "histogram", options });
      return { record() {} };
    },
    addBatchObservableCallback: (cb: (r: unknown) => void) => void callbacks.add(cb),
    removeBatchObservableCallback: (cb: (r: unknown) => void) => void callbacks.delete(cb),
  };
  const provider = { getMeter: () => meter } as unknown as MeterProvider;
  const collect = () => {
    const seen: { name: string; value: number; attributes: Record<string, string> }[] = [];
    const result = {
      observe: (o: { name: string }, value: number, attributes: Record<string, string>) =>
        seen.push({ name: o.name, value, attributes }),
    };
    for (const cb of callbacks) cb(result);
    return seen;
  };
  return { provider, created, callbacks, collect };
}

const raft = {
  process() {},
  isIDRemoved: () => false,
  reportUnreachable() {},
  reportSnapshot() {},
};

Deno.test("otel bridge: every instrument on the given MeterProvider, observed from the counters", async () => {
  const fake = fakeProvider();
  const t = new Transport({
    id: 0x1an,
    clusterId: 1n,
    urls: [],
    raft,
    logger: silentLogger,
    probeIntervalMs: 0,
    meterProvider: fake.provider,
  });
  assertEquals(fake.created.size, INSTRUMENTS.length);
  for (const i of INSTRUMENTS) assertEquals(fake.created.get(i.name)?.kind, i.type, i.name);
  const rtt = fake.created.get("etcd_network_peer_round_trip_time_seconds")!;
  assertEquals(
    (rtt.options.advice as { explicitBucketBoundaries: number[] }).explicitBucketBoundaries.length,
    16,
  );
  t.addPeer(0x2bn, ["http://127.0.0.1:1"]);
  const seen = fake.collect();
  const active = seen.find((s) => s.name === "etcd_network_active_peers");
  assertEquals(active, {
    name: "etcd_network_active_peers",
    value: 0,
    attributes: { Local: "1a", Remote: "2b" },
  });
  assert(!seen.some((s) => s.name.endsWith("_seconds")), "histograms are recorded, not observed");
  await t.stop();
  assertEquals(fake.callbacks.size, 0, "stop() detaches the observable callback");
});
