import { assert, assertEquals, assertThrows } from "@std/assert";
import { Transport } from "./transport.ts";
import * as options from "./options.ts";
import type { TransportOptions } from "./options.ts";
import { silentLogger } from "./logger.ts";

const base: TransportOptions = {
  id: 1n,
  clusterId: 1n,
  urls: ["http://127.0.0.1:1"],
  raft: { process() {}, isIDRemoved: () => false, reportUnreachable() {}, reportSnapshot() {} },
  logger: silentLogger,
  snapshot: { sink: { async save() {} } },
};

/** The options an option path sets: `at("stream.chunkSize", 1)` is `{ stream: { chunkSize: 1 } }`. */
function at(path: string, value: unknown): Partial<TransportOptions> {
  const [group, name] = path.split(".");
  if (name === undefined) return { [group]: value };
  // The test sink stays, so that no file sink is made.
  const kept = group === "snapshot" ? base.snapshot : {};
  return { [group]: { ...kept, [name]: value } };
}

/** `new Transport` with `extra` must throw a RangeError naming the option and the value. */
function refuses(extra: Partial<TransportOptions>, name: string, value: string): void {
  const e = assertThrows(() => new Transport({ ...base, ...extra }), RangeError);
  assert(e.message.includes(name), `message names ${name}: ${e.message}`);
  assert(e.message.includes(`got ${value}`) || e.message.includes(value), e.message);
}

const COUNTS = [
  "stream.chunkSize",
  "stream.queueSize",
  "pipeline.workers",
  "pipeline.queueSize",
  "pipeline.maxBodySize",
  "snapshot.maxConcurrentReceives",
  "snapshot.maxEnvelopeSize",
  "snapshot.spoolSize",
  "limits.maxFrameSize",
  "limits.maxRemotes",
  "limits.receiveQueueSize",
] as const;

const TIMEOUTS = [
  "stream.dialTimeoutMs",
  "stream.linkHeartbeatIntervalMs",
  "stream.readTimeoutMs",
  "stream.writeTimeoutMs",
  "stream.redialMinMs",
  "stream.redialMaxMs",
  "snapshot.progressTimeoutMs",
  "snapshot.responseTimeoutMs",
  "pipeline.timeoutMs",
] as const;

Deno.test("options: counts and sizes must be integers of at least 1, named by their path", () => {
  for (const path of COUNTS) {
    for (const bad of [0, -1, 1.5, NaN, Infinity]) {
      refuses(at(path, bad), path, String(bad));
    }
    const e = assertThrows(() => new Transport({ ...base, ...at(path, 0) }), RangeError);
    assert(e.message.includes("integer from 1"), `the range is named: ${e.message}`);
  }
});

Deno.test("options: timeouts must be positive and within timer range, named by their path", () => {
  for (const path of TIMEOUTS) {
    for (const bad of [0, -5, NaN, Infinity, 2 ** 31]) refuses(at(path, bad), path, String(bad));
  }
  const e = assertThrows(
    () => new Transport({ ...base, stream: { dialTimeoutMs: 0 } }),
    RangeError,
  );
  assert(e.message.startsWith("stream.dialTimeoutMs must be a number of ms above 0"), e.message);
});

Deno.test("options: probing and the log rate limit may be turned off with 0, not below", () => {
  using _a = disposable(new Transport({ ...base, probeIntervalMs: 0, logIntervalMs: 0 }));
  refuses({ probeIntervalMs: -1 }, "probeIntervalMs", "-1");
  refuses({ logIntervalMs: -1 }, "logIntervalMs", "-1");
});

Deno.test("options: stream.redialMinMs may not exceed stream.redialMaxMs", () => {
  const e = assertThrows(
    () => new Transport({ ...base, stream: { redialMinMs: 600, redialMaxMs: 500 } }),
    RangeError,
  );
  assertEquals(
    e.message,
    "stream.redialMinMs (600) must not exceed stream.redialMaxMs (500)",
  );
  using _t = disposable(
    new Transport({ ...base, stream: { redialMinMs: 500, redialMaxMs: 500 } }),
  );
});

Deno.test("options: defaults fill in what is not given, group by group", () => {
  const cfg = options.resolveOptions(base);
  assertEquals(cfg.dialTimeoutMs, options.DEFAULT_DIAL_TIMEOUT_MS);
  assertEquals(cfg.streamReadTimeoutMs, 2 * options.DEFAULT_LINK_HEARTBEAT_INTERVAL_MS);
  assertEquals(
    options.resolveOptions({ ...base, stream: { linkHeartbeatIntervalMs: 100 } })
      .streamReadTimeoutMs,
    200,
  );
  assertEquals(cfg.maxFrameSize, options.DEFAULT_TRANSPORT_MAX_FRAME_SIZE);
  assertEquals(cfg.streamChunkSize, options.DEFAULT_STREAM_CHUNK_SIZE);
  // One option of a group leaves the others of that group at their defaults.
  const some = options.resolveOptions({ ...base, pipeline: { workers: 2 } });
  assertEquals([some.pipelineWorkers, some.pipelineQueueSize], [2, 64]);
});

Deno.test("options: a group that is not an object is refused, naming it", () => {
  for (const group of ["stream", "pipeline", "snapshot", "security", "limits"]) {
    for (const bad of [5, "x", null, []]) {
      const e = assertThrows(() => new Transport({ ...base, [group]: bad }), TypeError);
      assert(e.message.startsWith(`${group} must be an object of options`), e.message);
    }
  }
  const noSave = assertThrows(
    () => new Transport({ ...base, snapshot: { sink: {} as never } }),
    TypeError,
  );
  assert(noSave.message.includes("snapshot.sink must have a save"), noSave.message);
});

Deno.test("options: an option of 0.1 is refused, with the path it moved to", () => {
  const moved = (old: string, value: unknown, path: string) => {
    const e = assertThrows(() => new Transport({ ...base, [old]: value }), TypeError);
    assert(e.message.startsWith(`${old} moved to ${path} in 0.2`), e.message);
  };
  moved("streamQueueSize", 8, "stream.queueSize");
  moved("snapshotSink", base.snapshot!.sink, "snapshot.sink");
  moved("tls", {}, "security.tls");
  moved("maxFrameSize", 1024, "limits.maxFrameSize");
  moved("maxPipelineBodySize", 1024, "pipeline.maxBodySize");
  moved("snapshotResume", { retries: 2 }, "the extensions option");
});

/** The option -> default table of docs/operations.md's "Failure behaviour" section. */
async function documentedDefaults(): Promise<Map<string, string>> {
  const page = await Deno.readTextFile(new URL("../docs/operations.md", import.meta.url));
  const from = page.indexOf("## Failure behaviour");
  assert(from >= 0, 'docs/operations.md has no "## Failure behaviour" section');
  const end = page.indexOf("\n## ", from + 1); // to the next section, or the end
  const section = page.slice(from, end < 0 ? undefined : end);
  const rows = new Map<string, string>();
  for (const line of section.split("\n")) {
    const m = /^\| (`[^|]+`)\s*\| ([^|]+?)\s*\|/.exec(line);
    if (m === null) continue;
    const names = [...m[1].matchAll(/`([\w.]+)`/g)].map((x) => x[1]);
    const values = m[2].split(" / ");
    names.forEach((n, i) => rows.set(n, values[Math.min(i, values.length - 1)]));
  }
  return rows;
}

/** "4096 (as etcd)" -> 4096, "64 MiB" -> 67108864, "2 × heartbeat" -> 2. */
function parseDefault(text: string): number {
  const m = /^([\d.]+)\s*(KiB|MiB)?/.exec(text.trim());
  if (m === null) throw new Error(`cannot read the default ${JSON.stringify(text)}`);
  return Number(m[1]) * (m[2] === "KiB" ? 1024 : m[2] === "MiB" ? 1024 * 1024 : 1);
}

/** The constant holding each option's default, by the option's path. */
const CONSTANTS: Record<string, string> = {
  "stream.dialTimeoutMs": "DEFAULT_DIAL_TIMEOUT_MS",
  "stream.linkHeartbeatIntervalMs": "DEFAULT_LINK_HEARTBEAT_INTERVAL_MS",
  "stream.readTimeoutMs": "DEFAULT_STREAM_READ_TIMEOUT_HEARTBEATS",
  "stream.writeTimeoutMs": "DEFAULT_STREAM_WRITE_TIMEOUT_MS",
  "stream.redialMinMs": "DEFAULT_REDIAL_MIN_MS",
  "stream.redialMaxMs": "DEFAULT_REDIAL_MAX_MS",
  "stream.queueSize": "DEFAULT_STREAM_QUEUE_SIZE",
  "stream.chunkSize": "DEFAULT_STREAM_CHUNK_SIZE",
  "pipeline.workers": "DEFAULT_PIPELINE_WORKERS",
  "pipeline.queueSize": "DEFAULT_PIPELINE_QUEUE_SIZE",
  "pipeline.timeoutMs": "DEFAULT_PIPELINE_TIMEOUT_MS",
  "pipeline.maxBodySize": "DEFAULT_MAX_PIPELINE_BODY_SIZE",
  "snapshot.spoolSize": "DEFAULT_SNAPSHOT_SPOOL_SIZE",
  "snapshot.progressTimeoutMs": "DEFAULT_SNAPSHOT_PROGRESS_TIMEOUT_MS",
  "snapshot.responseTimeoutMs": "DEFAULT_SNAPSHOT_RESPONSE_TIMEOUT_MS",
  "snapshot.maxConcurrentReceives": "DEFAULT_MAX_CONCURRENT_SNAPSHOT_RECEIVES",
  "snapshot.maxEnvelopeSize": "DEFAULT_MAX_SNAPSHOT_ENVELOPE_SIZE",
  "limits.maxFrameSize": "DEFAULT_TRANSPORT_MAX_FRAME_SIZE",
  "limits.maxRemotes": "DEFAULT_MAX_REMOTES",
  "limits.receiveQueueSize": "DEFAULT_RECEIVE_QUEUE_SIZE",
  probeIntervalMs: "DEFAULT_PROBE_INTERVAL_MS",
  logIntervalMs: "DEFAULT_LOG_INTERVAL_MS",
};

/** The constant holding an option's default: `stream.dialTimeoutMs` -> `DEFAULT_DIAL_TIMEOUT_MS`. */
function constantName(option: string): string {
  return CONSTANTS[option] ?? `(no constant for ${option})`;
}

Deno.test("options: the documented table of defaults matches the DEFAULT_* constants", async () => {
  const rows = await documentedDefaults();
  const constants = new Map(
    Object.entries(options).filter(([k]) => k.startsWith("DEFAULT_")) as [string, number][],
  );
  assert(constants.size >= 20, `found ${constants.size} constants`);
  for (const [option, text] of rows) {
    const value = constants.get(constantName(option));
    assert(
      value !== undefined,
      `docs/operations.md lists ${option}, but ${constantName(option)} is missing`,
    );
    assertEquals(parseDefault(text), value, `documented default of ${option}`);
  }
  const listed = new Set([...rows.keys()].map(constantName));
  for (const name of constants.keys()) {
    assert(listed.has(name), `${name} is not in docs/operations.md`);
  }
});

/** A transport made only to be validated: `using` stops it. */
function disposable(t: Transport): Disposable {
  return { [Symbol.dispose]: () => void t.stop() };
}

Deno.test("options: dialer, fetch and security.tls: which is used, and combinations refused", async () => {
  const dialer = { dial: () => Promise.reject(new Error("unused")) };
  assertEquals(options.resolveOptions({ ...base, dialer }).dialer, dialer);
  // A fetch is wrapped; it is the one called.
  const calls: string[] = [];
  const f = (input: RequestInfo | URL) => {
    calls.push(String(input));
    return Promise.resolve(new Response(null, { status: 204 }));
  };
  const viaFetch = options.resolveOptions({ ...base, fetch: f as typeof fetch });
  const res = await viaFetch.dialer.dial({ method: "GET", url: "http://127.0.0.1:1/x" });
  assertEquals([res.status, calls], [204, ["http://127.0.0.1:1/x"]]);
  // Deno: the node dialer, made (and closed) by the transport.
  const own = options.resolveOptions({ ...base, security: { tls: { ca: "PEM" } } });
  assert(own.dialer !== dialer);
  own.closeDialer();
  const refused = (extra: Partial<TransportOptions>, ...words: string[]) => {
    const e = assertThrows(() => new Transport({ ...base, ...extra }), TypeError);
    for (const w of words) assert(e.message.includes(w), `"${w}" in: ${e.message}`);
  };
  refused({ dialer, fetch: f as typeof fetch }, "dialer", "drop fetch");
  refused({ dialer, security: { tls: {} } }, "security.tls", "drop it");
  refused(
    { fetch: f as typeof fetch, security: { tls: { ca: "PEM" } } },
    "security.tls and fetch",
    "drop security.tls",
  );
  refused({ dialer: {} as never }, "dialer must have a dial");
  refused({ security: { tls: { cert: "PEM" } } }, "security.tls.cert and security.tls.key");
  refused({ security: { tls: { ca: [1 as never] } } }, "security.tls.ca");
  refused({ security: { tls: "x" as never } }, "security.tls must be an object");
});
