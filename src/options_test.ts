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
  snapshotSink: { async save() {} },
};

/** `new Transport` with `extra` must throw a RangeError naming the option and the value. */
function refuses(extra: Partial<TransportOptions>, name: string, value: string): void {
  const e = assertThrows(() => new Transport({ ...base, ...extra }), RangeError);
  assert(e.message.includes(name), `message names ${name}: ${e.message}`);
  assert(e.message.includes(`got ${value}`) || e.message.includes(value), e.message);
}

const COUNTS = [
  "streamChunkSize",
  "pipelineWorkers",
  "streamQueueSize",
  "pipelineQueueSize",
  "receiveQueueSize",
  "maxConcurrentSnapshotReceives",
  "maxRemotes",
  "maxFrameSize",
  "maxPipelineBodySize",
  "maxSnapshotEnvelopeSize",
  "snapshotSpoolSize",
] as const;

const TIMEOUTS = [
  "dialTimeoutMs",
  "linkHeartbeatIntervalMs",
  "streamReadTimeoutMs",
  "streamWriteTimeoutMs",
  "redialMinMs",
  "redialMaxMs",
  "snapshotProgressTimeoutMs",
  "snapshotResponseTimeoutMs",
  "pipelineTimeoutMs",
] as const;

Deno.test("options: counts and sizes must be integers of at least 1", () => {
  for (const name of COUNTS) {
    for (const bad of [0, -1, 1.5, NaN, Infinity]) {
      refuses({ [name]: bad }, name, String(bad));
    }
    const e = assertThrows(() => new Transport({ ...base, [name]: 0 }), RangeError);
    assert(e.message.includes("integer from 1"), `the range is named: ${e.message}`);
  }
});

Deno.test("options: timeouts must be positive and within timer range", () => {
  for (const name of TIMEOUTS) {
    for (const bad of [0, -5, NaN, Infinity, 2 ** 31]) refuses({ [name]: bad }, name, String(bad));
  }
  const e = assertThrows(() => new Transport({ ...base, dialTimeoutMs: 0 }), RangeError);
  assert(e.message.includes("above 0"), e.message);
});

Deno.test("options: probing and the log rate limit may be turned off with 0, not below", () => {
  using _a = disposable(new Transport({ ...base, probeIntervalMs: 0, logIntervalMs: 0 }));
  refuses({ probeIntervalMs: -1 }, "probeIntervalMs", "-1");
  refuses({ logIntervalMs: -1 }, "logIntervalMs", "-1");
});

Deno.test("options: redialMinMs may not exceed redialMaxMs", () => {
  const e = assertThrows(
    () => new Transport({ ...base, redialMinMs: 600, redialMaxMs: 500 }),
    RangeError,
  );
  assertEquals(e.message, "redialMinMs (600) must not exceed redialMaxMs (500)");
  using _t = disposable(new Transport({ ...base, redialMinMs: 500, redialMaxMs: 500 }));
});

Deno.test("options: defaults fill in what is not given", () => {
  const cfg = options.resolveOptions(base);
  assertEquals(cfg.dialTimeoutMs, options.DEFAULT_DIAL_TIMEOUT_MS);
  assertEquals(cfg.streamReadTimeoutMs, 2 * options.DEFAULT_LINK_HEARTBEAT_INTERVAL_MS);
  assertEquals(
    options.resolveOptions({ ...base, linkHeartbeatIntervalMs: 100 }).streamReadTimeoutMs,
    200,
  );
  assertEquals(cfg.maxFrameSize, options.DEFAULT_TRANSPORT_MAX_FRAME_SIZE);
  assertEquals(cfg.streamChunkSize, options.DEFAULT_STREAM_CHUNK_SIZE);
});

/** The option -> default table of the README's "Failure behaviour" section. */
async function readmeDefaults(): Promise<Map<string, string>> {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const from = readme.indexOf("## Failure behaviour");
  const section = readme.slice(from, readme.indexOf("\n## ", from + 1)); // to the next section
  const rows = new Map<string, string>();
  for (const line of section.split("\n")) {
    const m = /^\| (`[^|]+`)\s*\| ([^|]+?)\s*\|/.exec(line);
    if (m === null) continue;
    const names = [...m[1].matchAll(/`(\w+)`/g)].map((x) => x[1]);
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

/** The constant holding an option's default: `dialTimeoutMs` -> `DEFAULT_DIAL_TIMEOUT_MS`. */
function constantName(option: string): string {
  if (option === "maxFrameSize") return "DEFAULT_TRANSPORT_MAX_FRAME_SIZE";
  if (option === "streamReadTimeoutMs") return "DEFAULT_STREAM_READ_TIMEOUT_HEARTBEATS";
  return "DEFAULT_" + option.replace(/[A-Z]/g, (c) => "_" + c).toUpperCase();
}

Deno.test("options: the README's table of defaults matches the DEFAULT_* constants", async () => {
  const rows = await readmeDefaults();
  const constants = new Map(
    Object.entries(options).filter(([k]) => k.startsWith("DEFAULT_")) as [string, number][],
  );
  assert(constants.size >= 20, `found ${constants.size} constants`);
  for (const [option, text] of rows) {
    const value = constants.get(constantName(option));
    assert(value !== undefined, `README lists ${option}, but ${constantName(option)} is missing`);
    assertEquals(parseDefault(text), value, `README default of ${option}`);
  }
  const listed = new Set([...rows.keys()].map(constantName));
  for (const name of constants.keys()) assert(listed.has(name), `${name} is not in the README`);
});

/** A transport made only to be validated: `using` stops it. */
function disposable(t: Transport): Disposable {
  return { [Symbol.dispose]: () => void t.stop() };
}

Deno.test("options: dialer, fetch and tls: which is used, and combinations refused", async () => {
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
  const own = options.resolveOptions({ ...base, tls: { ca: "PEM" } });
  assert(own.dialer !== dialer);
  own.closeDialer();
  const refused = (extra: Partial<TransportOptions>, ...words: string[]) => {
    const e = assertThrows(() => new Transport({ ...base, ...extra }), TypeError);
    for (const w of words) assert(e.message.includes(w), `"${w}" in: ${e.message}`);
  };
  refused({ dialer, fetch: f as typeof fetch }, "dialer", "drop fetch");
  refused({ dialer, tls: {} }, "tls", "drop tls");
  refused({ fetch: f as typeof fetch, tls: { ca: "PEM" } }, "tls and fetch", "drop tls");
  refused({ dialer: {} as never }, "dialer must have a dial");
  refused({ tls: { cert: "PEM" } }, "tls.cert and tls.key");
  refused({ tls: { ca: [1 as never] } }, "tls.ca");
  refused({ tls: "x" as never }, "tls must be an object");
});
