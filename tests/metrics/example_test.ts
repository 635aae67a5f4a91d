// examples/metrics/: the two-member program serves /metrics with live
// values, stops cleanly on SIGINT; its Prometheus config and alert rules
// pass promtool.
import { assert, assertEquals } from "@std/assert";
import { waitUntil } from "../harness.ts";
import { prometheusTest } from "./prometheus.ts";
import { metric } from "./scrape.ts";

const DIR = new URL("../../examples/metrics/", import.meta.url);
const PROMTOOL = Deno.env.get("RAFTHTTP_PROMTOOL") ?? "promtool";

/** A port p on 127.0.0.1 with p + 1 free too. */
function freeBasePort(): number {
  for (let i = 0; i < 1000; i++) {
    const p = 20000 + Math.floor(Math.random() * 12000);
    try {
      const a = Deno.listen({ hostname: "127.0.0.1", port: p });
      try {
        Deno.listen({ hostname: "127.0.0.1", port: p + 1 }).close();
        return p;
      } catch {
        /* taken */
      } finally {
        a.close();
      }
    } catch { /* taken */ }
  }
  throw new Error("no two consecutive free ports");
}

Deno.test("examples/metrics: two members with /metrics; live values; SIGINT stops it", async () => {
  const base = freeBasePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      new URL("cluster.ts", DIR).pathname,
      "--base-port",
      String(base),
      "--seconds",
      "30",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = child.output();
  const scrape = async (port: number) => {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      return await res.text();
    } catch {
      return "";
    }
  };
  try {
    await waitUntil(
      async () => {
        const text = await scrape(base);
        return text !== "" &&
          metric(text, "etcd_network_snapshot_send_success", { To: "2" }) >= 1 &&
          metric(text, "etcd_network_active_peers", { Remote: "2" }) === 1;
      },
      15_000,
      "member 1 sent a snapshot and sees 2 active",
      200,
    );
    const b = await scrape(base + 1);
    assert(metric(b, "etcd_network_peer_received_bytes_total", { From: "1" }) > 0);
    assert(metric(b, "etcd_network_snapshot_receive_success", { From: "1" }) >= 1);
  } finally {
    child.kill("SIGINT");
    const result = await out;
    assertEquals(result.code, 0, new TextDecoder().decode(result.stderr));
  }
});

prometheusTest("examples/metrics: prometheus.yml and alerts.yml pass promtool", async () => {
  for (const args of [["check", "config", "prometheus.yml"], ["check", "rules", "alerts.yml"]]) {
    const out = await new Deno.Command(PROMTOOL, {
      args,
      cwd: DIR.pathname,
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert(out.success, `promtool ${args.join(" ")}: ${text}`);
    assert(text.includes("SUCCESS"), text);
  }
});
