// OpenTelemetry: a member process run with OTEL_DENO=true exports the same
// instruments with Deno's built-in OTLP exporter (http/json) to a small
// OTLP/HTTP receiver here, on 127.0.0.1.
import { assert, assertEquals } from "@std/assert";
import { freePorts, waitUntil } from "../harness.ts";

interface Attr {
  key: string;
  value: { stringValue?: string };
}
interface Point {
  attributes?: Attr[];
  asDouble?: number;
  asInt?: string | number;
  count?: string | number;
  explicitBounds?: number[];
}
interface OtlpMetric {
  name: string;
  unit?: string;
  sum?: { dataPoints: Point[]; isMonotonic?: boolean };
  gauge?: { dataPoints: Point[] };
  histogram?: { dataPoints: Point[] };
}

function metricsOf(body: unknown): OtlpMetric[] {
  const out: OtlpMetric[] = [];
  // deno-lint-ignore no-explicit-any
  for (const rm of (body as any).resourceMetrics ?? []) {
    for (const sm of rm.scopeMetrics ?? []) {
      if (sm.scope?.name === "rafthttp") out.push(...(sm.metrics ?? []));
    }
  }
  return out;
}

const attr = (p: Point, key: string) => p.attributes?.find((a) => a.key === key)?.value.stringValue;
const num = (p: Point) => Number(p.asDouble ?? p.asInt ?? 0);

Deno.test("otel: OTEL_DENO=true exports etcd_network_peer_sent_bytes_total over OTLP/HTTP", async () => {
  const seen: OtlpMetric[] = [];
  let requests = 0;
  const receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const text = await req.text();
    if (++requests <= 200 && new URL(req.url).pathname === "/v1/metrics") {
      seen.push(...metricsOf(JSON.parse(text)));
    }
    return Response.json({});
  });
  const ports = freePorts(2);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./otel_member.ts", import.meta.url).pathname,
      ...ports.map(String),
    ],
    env: {
      OTEL_DENO: "true",
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${receiver.addr.port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_METRIC_EXPORT_INTERVAL: "200",
      OTEL_SERVICE_NAME: "rafthttp-test",
    },
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const stderrDone = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (s) => void (stderr = (stderr + s).slice(-10_000)) }),
  ).catch(() => {});
  const sent = () =>
    seen.filter((m) => m.name === "etcd_network_peer_sent_bytes_total")
      .flatMap((m) => m.sum?.dataPoints ?? [])
      .filter((p) => attr(p, "To") === "2")
      .map(num);
  try {
    await waitUntil(
      () => sent().some((v) => v > 0),
      20_000,
      () => `sent bytes to 2 over OTLP (got ${seen.length} metrics); child stderr:\n${stderr}`,
      50,
    );
    // The histograms keep etcd's buckets.
    await waitUntil(
      () => seen.some((m) => m.name === "etcd_network_peer_round_trip_time_seconds"),
      10_000,
      "the RTT histogram",
      50,
    );
    const rtt = seen.find((m) => m.name === "etcd_network_peer_round_trip_time_seconds")!;
    const point = rtt.histogram!.dataPoints.find((p) => attr(p, "To") === "2")!;
    assertEquals(point.explicitBounds?.length, 16);
    assertEquals(point.explicitBounds?.[0], 0.0001);
    const active = seen.find((m) => m.name === "etcd_network_active_peers");
    assert(active?.gauge !== undefined, "active_peers is a gauge");
    const bytes = seen.find((m) => m.name === "etcd_network_peer_sent_bytes_total")!;
    assertEquals([bytes.unit, bytes.sum?.isMonotonic], ["By", true]);
  } finally {
    await child.stdin.close();
    const status = await child.status;
    await stderrDone;
    await receiver.shutdown();
    assert(status.success, `the member exited cleanly: ${stderr}`);
  }
});
