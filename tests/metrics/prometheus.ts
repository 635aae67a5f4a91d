// Debian's Prometheus in tests: a server on 127.0.0.1 with a scrape config
// pointing at members' /metrics, read back through its HTTP API, and
// promtool's linter. Without prometheus the tests skip with a note, unless
// RAFTHTTP_REQUIRE_PROMETHEUS=1 (CI), which makes that a failure.
import { freePort, sleep, waitUntil } from "../harness.ts";

/** Set to 1 (as CI does) to fail instead of skipping when prometheus is missing. */
export const REQUIRE_PROMETHEUS = Deno.env.get("RAFTHTTP_REQUIRE_PROMETHEUS") === "1";
const PROMETHEUS = Deno.env.get("RAFTHTTP_PROMETHEUS") ?? "prometheus";
const PROMTOOL = Deno.env.get("RAFTHTTP_PROMTOOL") ?? "promtool";

async function runs(bin: string): Promise<boolean> {
  try {
    const out = await new Deno.Command(bin, { args: ["--version"], stdout: "null", stderr: "null" })
      .output();
    return out.success;
  } catch {
    return false;
  }
}

const AVAILABLE = (await runs(PROMETHEUS)) && (await runs(PROMTOOL));
let noted = false;

/** Registers a test that needs prometheus and promtool (see the module note). */
export function prometheusTest(name: string, fn: () => Promise<void>): void {
  if (!AVAILABLE && !REQUIRE_PROMETHEUS && !noted) {
    noted = true;
    console.warn(
      `metrics: '${PROMETHEUS}' or '${PROMTOOL}' not found; the Prometheus tests are skipped ` +
        `(apt-get install prometheus; set RAFTHTTP_REQUIRE_PROMETHEUS=1 to make this a failure)`,
    );
  }
  Deno.test({
    name: `prometheus: ${name}`,
    ignore: !AVAILABLE && !REQUIRE_PROMETHEUS,
    async fn() {
      if (!AVAILABLE) {
        throw new Error(
          `RAFTHTTP_REQUIRE_PROMETHEUS=1 but '${PROMETHEUS}' or '${PROMTOOL}' cannot be run; ` +
            `install Debian's prometheus package`,
        );
      }
      await fn();
    },
  });
}

/** The problems `promtool check metrics` reports for `text` (empty: clean). */
export async function promtoolProblems(text: string): Promise<{ code: number; lines: string[] }> {
  const child = new Deno.Command(PROMTOOL, {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(text));
  await w.close();
  const out = await child.output();
  const all = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { code: out.code, lines: all.split("\n").filter((l) => l.trim() !== "") };
}

/** One result of an instant query. */
export interface QueryResult {
  metric: Record<string, string>;
  value: [number, string];
}

/** A Prometheus server; `await using` kills it and removes its data. */
export interface Prometheus extends AsyncDisposable {
  url: string;
  query(q: string): Promise<QueryResult[]>;
  log(): string;
}

/** Starts prometheus on 127.0.0.1 scraping `targets` (host:port) every 500 ms. */
export async function startPrometheus(targets: string[]): Promise<Prometheus> {
  const dir = await Deno.makeTempDir({ prefix: "rafthttp-prom-" });
  const port = freePort();
  const config = [
    "global:",
    "  scrape_interval: 500ms",
    "  scrape_timeout: 400ms",
    "scrape_configs:",
    "  - job_name: rafthttp",
    "    static_configs:",
    `      - targets: [${targets.map((t) => JSON.stringify(t)).join(", ")}]`,
    "",
  ].join("\n");
  await Deno.writeTextFile(`${dir}/prometheus.yml`, config);
  const child = new Deno.Command(PROMETHEUS, {
    args: [
      `--config.file=${dir}/prometheus.yml`,
      `--storage.tsdb.path=${dir}/data`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  // Its log, kept within a bound, for failure messages.
  let log = "";
  const logDone = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({
      write(s) {
        log = (log + s).slice(-20_000);
      },
    }),
  ).catch(() => {});
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // already gone
    }
    const killer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
    }, 5000);
    await child.status;
    clearTimeout(killer);
    await logDone;
    await Deno.remove(dir, { recursive: true });
  };
  const p: Prometheus = {
    url,
    log: () => log,
    async query(q) {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(q)}`);
      const body = await res.json();
      if (body.status !== "success") throw new Error(`query ${q}: ${JSON.stringify(body)}`);
      return body.data.result as QueryResult[];
    },
    [Symbol.asyncDispose]: stop,
  };
  try {
    await waitUntil(
      async () => {
        try {
          const res = await fetch(`${url}/-/ready`);
          await res.body?.cancel();
          return res.status === 200;
        } catch {
          await sleep(100);
          return false;
        }
      },
      20_000,
      () => `prometheus ready on ${url}; its log:\n${log}`,
      100,
    );
  } catch (e) {
    await stop();
    throw e;
  }
  return p;
}
