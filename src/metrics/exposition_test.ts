import { assert, assertEquals } from "@std/assert";
import { Histogram } from "./histogram.ts";
import { Registry } from "./registry.ts";
import type { Instrument, MetricsSource } from "./registry.ts";
import { escapeLabelValue, formatValue, writeExposition } from "./exposition.ts";
import { INSTRUMENTS } from "./etcd.ts";

const empty: MetricsSource = { local: "1", peers: () => [], remotes: () => [] };

function instrument(i: Partial<Instrument> & Pick<Instrument, "name" | "collect">): Instrument {
  return { help: "help", type: "counter", labels: ["To"], unit: "1", ...i };
}

Deno.test("exposition: HELP, TYPE and one line per sample, label values escaped", () => {
  const r = new Registry([
    instrument({
      name: "a_total",
      help: 'back\\slash\nnewline "quote"',
      collect: (_s, emit) => {
        emit(["2"], 3);
        emit(['we"ird\\\n'], 1.5);
      },
    }),
  ], empty);
  assertEquals(
    writeExposition(r),
    [
      '# HELP a_total back\\\\slash\\nnewline "quote"',
      "# TYPE a_total counter",
      'a_total{To="2"} 3',
      'a_total{To="we\\"ird\\\\\\n"} 1.5',
      "",
    ].join("\n"),
  );
});

Deno.test("exposition: a histogram as cumulative buckets, +Inf, _sum and _count", () => {
  const h = new Histogram([0.1, 0.2]);
  h.observe(0.05);
  h.observe(0.15);
  h.observe(7);
  const r = new Registry([
    instrument({ name: "h_seconds", type: "histogram", collect: (_s, e) => e(["a"], h) }),
  ], empty);
  const lines = writeExposition(r).trimEnd().split("\n");
  assertEquals(lines.slice(2), [
    'h_seconds_bucket{To="a",le="0.1"} 1',
    'h_seconds_bucket{To="a",le="0.2"} 2',
    'h_seconds_bucket{To="a",le="+Inf"} 3',
    'h_seconds_sum{To="a"} 7.2',
    'h_seconds_count{To="a"} 3',
  ]);
});

Deno.test("exposition: special values", () => {
  assertEquals([NaN, Infinity, -Infinity, 0, 1e21].map(formatValue), [
    "NaN",
    "+Inf",
    "-Inf",
    "0",
    "1e+21",
  ]);
  assertEquals(escapeLabelValue("plain"), "plain");
});

Deno.test("registry: a name registered twice is refused", () => {
  const i = instrument({ name: "x", collect: () => {} });
  let error: unknown;
  try {
    new Registry([i, i], empty);
  } catch (e) {
    error = e;
  }
  assert(error instanceof TypeError && error.message.includes("x is registered twice"));
});

Deno.test("instruments: etcd 3.4's names, types and labels, and 3.5's in-flight gauges", () => {
  const byName = new Map(INSTRUMENTS.map((i) => [i.name, i]));
  const etcd: [string, string, string[]][] = [
    ["etcd_network_active_peers", "gauge", ["Local", "Remote"]],
    ["etcd_network_disconnected_peers_total", "counter", ["Local", "Remote"]],
    ["etcd_network_peer_sent_bytes_total", "counter", ["To"]],
    ["etcd_network_peer_received_bytes_total", "counter", ["From"]],
    ["etcd_network_peer_sent_failures_total", "counter", ["To"]],
    ["etcd_network_peer_received_failures_total", "counter", ["From"]],
    ["etcd_network_snapshot_send_success", "counter", ["To"]],
    ["etcd_network_snapshot_send_failures", "counter", ["To"]],
    ["etcd_network_snapshot_send_total_duration_seconds", "histogram", ["To"]],
    ["etcd_network_snapshot_receive_success", "counter", ["From"]],
    ["etcd_network_snapshot_receive_failures", "counter", ["From"]],
    ["etcd_network_snapshot_receive_total_duration_seconds", "histogram", ["From"]],
    ["etcd_network_peer_round_trip_time_seconds", "histogram", ["To"]],
    ["etcd_network_snapshot_send_inflights_total", "gauge", ["To"]],
    ["etcd_network_snapshot_receive_inflights_total", "gauge", ["From"]],
  ];
  for (const [name, type, labels] of etcd) {
    const i = byName.get(name);
    assert(i !== undefined, `${name} is missing`);
    assertEquals([i?.type, i?.labels], [type, labels], name);
  }
  assertEquals(byName.get("etcd_network_peer_round_trip_time_seconds")?.buckets?.length, 16);
  for (const i of INSTRUMENTS) {
    assert(
      i.name.startsWith("etcd_network_") || i.name.startsWith("rafthttp_"),
      `${i.name}: ours go under rafthttp_`,
    );
  }
  assertEquals(INSTRUMENTS.filter((i) => i.name.startsWith("etcd_")).length, etcd.length);
});
