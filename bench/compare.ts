// Side-by-side comparison of our transport (bench/peer.ts) with etcd 3.4's
// own rafthttp (etcdpeer, the Go program in bench/etcdpeer/): for each case
// and run, every pair of implementations (sender-sink: go-go, deno-deno,
// go-deno, deno-go) runs back to back as two processes on loopback,
// following the peer benchmark protocol. Prints a table of medians with the
// Deno/Go ratios and writes every raw result line to a file.
//
//   deno task compare [--runs 3] [--cases send-64,send-1k,ping-hb,snap-256m]
//     [--pairs go-go,deno-deno,go-deno,deno-go] [--snap-1g] [--out FILE]
//     [--etcdpeer PATH]
//
// etcdpeer is .tools/etcdpeer/etcdpeer in the repository unless --etcdpeer
// names another binary; when a pair needs it and it is missing or older
// than its Go sources, it is built first (offline, in GOPATH mode, against
// Debian's golang-go and golang-etcd-server-dev; see bench/etcdpeer/).
//
// A run with a failure, a drop, a lost message, an index gap or a bad
// snapshot is a failure, not a figure: it is left out of the medians and
// its row says FAIL. Exit status 1 if any run failed.

import { ensureEtcdpeer, ETCDPEER_BIN, EtcdpeerUnavailable } from "./etcdpeer/build.ts";
import { freePorts } from "./ports.ts";

interface Case {
  name: string;
  mode: "send" | "ping" | "snap";
  sender: string[];
  sink: string[];
  size: number;
  /** Sample both processes' memory (snapshots). */
  rss: boolean;
}

const SIZE_1G = 1 << 30;

function cases(k: number, w: number): Case[] {
  const send = (name: string, n: number, size: number): Case => ({
    name,
    mode: "send",
    sender: ["-mode", "send", "-n", `${n}`, "-size", `${size}`, "-k", `${k}`, "-w", `${w}`],
    sink: ["-k", `${k}`],
    size,
    rss: false,
  });
  const snap = (name: string, size: number): Case => ({
    name,
    mode: "snap",
    sender: ["-mode", "snap", "-size", `${size}`],
    sink: ["-size", `${size}`],
    size,
    rss: true,
  });
  return [
    send("send-64", 200000, 64),
    send("send-1k", 100000, 1024),
    send("send-16k", 20000, 16384),
    {
      name: "ping-hb",
      mode: "ping",
      sender: ["-mode", "ping", "-n", "5000"],
      sink: [],
      size: 0,
      rss: false,
    },
    {
      name: "ping-hb-warm",
      mode: "ping",
      sender: ["-mode", "ping", "-n", "20000", "-warmup", "2000"],
      sink: [],
      size: 0,
      rss: false,
    },
    {
      name: "ping-app1k",
      mode: "ping",
      sender: ["-mode", "ping", "-n", "5000", "-size", "1024"],
      sink: ["-k", "1"],
      size: 1024,
      rss: false,
    },
    snap("snap-256m", 256 << 20),
    snap("snap-1g", SIZE_1G),
  ];
}

const DEFAULT_CASES = "send-64,send-1k,send-16k,ping-hb,snap-256m";
const PAIRS = ["go-go", "deno-deno", "go-deno", "deno-go"] as const;
type Impl = "go" | "deno";
const SINK_ID = "a1";
const SEND_ID = "b2";
const CLUSTER = "c1";

// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

interface Opts {
  runs: number;
  cases: Case[];
  pairs: string[];
  out: string;
  etcdpeer: string;
  /** --etcdpeer was given: use that binary as it is, never build it. */
  etcdpeerGiven: boolean;
  snapRoot: string;
  timeoutS: number;
  extraDeno: string[];
  k: number;
  w: number;
}

function usage(): never {
  console.error(
    `usage: deno task compare [--runs N] [--cases ${DEFAULT_CASES}] [--snap-1g]
  [--pairs go-go,deno-deno,go-deno,deno-go] [--k 250] [--w 1024] [--out FILE]
  [--etcdpeer PATH (default .tools/etcdpeer/etcdpeer, built when missing)]
  [--snapdir-root DIR] [--timeout S]
cases: send-64 send-1k send-16k ping-hb ping-hb-warm ping-app1k snap-256m snap-1g
pairs are sender-sink; a run of every pair follows another for each case.`,
  );
  Deno.exit(2);
}

const VALUE_OPTS = [
  "runs",
  "cases",
  "pairs",
  "out",
  "etcdpeer",
  "snapdir-root",
  "k",
  "w",
  "timeout",
];

/** `--name value`, `--name=value`, and the flags `--snap-1g`, `--help`. */
function parseCli(args: string[]): Record<string, string | boolean | undefined> {
  const a: Record<string, string | boolean | undefined> = {};
  for (let i = 0; i < args.length; i++) {
    const m = /^--?([a-z0-9-]+)(?:=(.*))?$/.exec(args[i]);
    if (m === null) {
      console.error(`compare: unexpected argument ${args[i]}`);
      usage();
    }
    const [, name, value] = m;
    if (name === "snap-1g" || name === "help") a[name] = true;
    else if (VALUE_OPTS.includes(name)) {
      if (value === undefined && i + 1 >= args.length) usage();
      a[name] = value ?? args[++i];
    } else {
      console.error(`compare: unknown option ${args[i]}`);
      usage();
    }
  }
  return a;
}

function parseOpts(): Opts {
  const a = parseCli(Deno.args) as Record<string, string | undefined> & {
    "snap-1g"?: boolean;
    help?: boolean;
  };
  if (a.help) usage();
  const k = Number(a.k ?? 250);
  const w = Number(a.w ?? 1024);
  const all = cases(k, w);
  const names = (a.cases ?? DEFAULT_CASES).split(/[ ,]+/).filter((s) => s !== "");
  if (a["snap-1g"] && !names.includes("snap-1g")) names.push("snap-1g");
  const selected = names.map((n) => {
    const c = all.find((c) => c.name === n);
    if (c === undefined) {
      console.error(`compare: unknown case ${n}`);
      usage();
    }
    return c;
  });
  const pairs = (a.pairs ?? PAIRS.join(",")).split(/[ ,]+/).filter((s) => s !== "");
  for (const p of pairs) {
    if (!(PAIRS as readonly string[]).includes(p)) {
      console.error(`compare: unknown pair ${p}`);
      usage();
    }
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  return {
    runs: Number(a.runs ?? 1),
    cases: selected,
    pairs,
    out: a.out ?? `/tmp/rafthttp-compare-${stamp}.jsonl`,
    etcdpeer: a.etcdpeer ?? ETCDPEER_BIN,
    etcdpeerGiven: a.etcdpeer !== undefined,
    snapRoot: a["snapdir-root"] ?? "",
    timeoutS: Number(a.timeout ?? 600),
    extraDeno: [],
    k,
    w,
  };
}

// ---------------------------------------------------------------------------
// Processes

const PEER_TS = new URL("./peer.ts", import.meta.url).pathname;

function command(impl: Impl, opts: Opts, args: string[]): [string, string[]] {
  if (impl === "go") return [opts.etcdpeer, args];
  return [Deno.execPath(), ["run", "-A", ...opts.extraDeno, PEER_TS, ...args]];
}

const live = new Set<Deno.ChildProcess>();

function spawn(bin: string, args: string[]): Deno.ChildProcess {
  const child = new Deno.Command(bin, { args, stdout: "piped", stderr: "piped" }).spawn();
  live.add(child);
  child.status.finally(() => live.delete(child));
  return child;
}

/** SIGTERM, then SIGKILL after 5 s, every child still running (by its own handle). */
async function killAll(): Promise<void> {
  const all = [...live];
  for (const c of all) {
    try {
      c.kill("SIGTERM");
    } catch { /* exited */ }
  }
  await Promise.all(all.map(async (c) => {
    const t = setTimeout(() => {
      try {
        c.kill("SIGKILL");
      } catch { /* exited */ }
    }, 5000);
    await c.status;
    clearTimeout(t);
  }));
}

async function waitPort(port: number, ms = 20000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  return false;
}

function procStatus(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const s = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(s)?.[1]) * 1024;
    return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
  } catch {
    return undefined;
  }
}

/** Samples VmRSS of a process every 20 ms: [ms since epoch, bytes][]. */
class RssSampler {
  samples: [number, number][] = [];
  #timer: ReturnType<typeof setInterval>;
  constructor(readonly pid: number) {
    const take = () => {
      const s = procStatus(pid);
      if (s !== undefined) this.samples.push([Date.now(), s.rss]);
    };
    take();
    this.#timer = setInterval(take, 20);
  }
  stop(): void {
    clearInterval(this.#timer);
  }
  max(from = 0): number {
    let m = 0;
    for (const [t, v] of this.samples) if (t >= from && v > m) m = v;
    return m;
  }
}

const dec = new TextDecoder();

function lastJsonLine(out: Uint8Array): Json | undefined {
  const lines = dec.decode(out).trim().split("\n").filter((l) => l.startsWith("{"));
  if (lines.length === 0) return undefined;
  try {
    return JSON.parse(lines[lines.length - 1]);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------
// One run of one case for one pair.

interface RunResult extends Json {
  case: string;
  pair: string;
  run: number;
  ok: boolean;
  fail?: string;
}

const MiB = 1 << 20;

async function runCase(c: Case, pair: string, run: number, opts: Opts): Promise<RunResult> {
  const [senderImpl, sinkImpl] = pair.split("-") as [Impl, Impl];
  const [p1, p2] = freePorts(2);
  const snapRoot = opts.snapRoot || await Deno.makeTempDir({ prefix: "rafthttp-compare-" });
  const snapDir = `${snapRoot}/snap-${c.name}-${pair}-${run}-${Deno.pid}`;
  const common = ["-cluster", CLUSTER, "-json", "-log", "error"];
  const sinkArgs = [
    "-mode",
    "sink",
    "-id",
    SINK_ID,
    "-listen",
    `127.0.0.1:${p1}`,
    "-peer",
    `${SEND_ID}=http://127.0.0.1:${p2}`,
    "-snapdir",
    snapDir,
    "-timeout",
    "3600",
    ...common,
    ...c.sink,
  ];
  const senderArgs = [
    "-id",
    SEND_ID,
    "-listen",
    `127.0.0.1:${p2}`,
    "-peer",
    `${SINK_ID}=http://127.0.0.1:${p1}`,
    "-timeout",
    `${opts.timeoutS}`,
    ...common,
    ...c.sender,
    ...(c.rss && senderImpl === "deno" ? ["-rss"] : []),
  ];
  const res: RunResult = {
    case: c.name,
    pair,
    run,
    ok: false,
    sender_impl: senderImpl,
    sink_impl: sinkImpl,
  };
  const sink = spawn(...command(sinkImpl, opts, sinkArgs));
  const sinkOut = sink.output();
  try {
    if (!(await waitPort(p1))) {
      res.fail = `sink did not listen on ${p1}`;
      return res;
    }
    const sinkSampler = c.rss ? new RssSampler(sink.pid) : undefined;
    const sinkBase = c.rss ? procStatus(sink.pid)?.rss : undefined;
    const spawnedAt = Date.now();
    const sender = spawn(...command(senderImpl, opts, senderArgs));
    const senderSampler = c.rss ? new RssSampler(sender.pid) : undefined;
    const senderOut = await sender.output();
    senderSampler?.stop();
    const sinkHwm = c.rss ? procStatus(sink.pid)?.hwm : undefined;
    sinkSampler?.stop();
    try {
      sink.kill("SIGTERM");
    } catch { /* exited */ }
    const sinkDone = await sinkOut;
    const s = lastJsonLine(senderOut.stdout);
    const k = lastJsonLine(sinkDone.stdout);
    res.sender_exit = senderOut.code;
    res.sink_exit = sinkDone.code;
    if (s === undefined || k === undefined) {
      res.fail = `no result line from the ${s === undefined ? "sender" : "sink"}`;
      res.sender_stderr = dec.decode(senderOut.stderr).slice(-2000);
      res.sink_stderr = dec.decode(sinkDone.stderr).slice(-2000);
      return res;
    }
    Object.assign(res, summary(c, s, k));
    if (c.rss && sinkBase !== undefined && senderSampler !== undefined) {
      res.rss = memoryFigures(c, s, sinkBase, sinkHwm, sinkSampler!, senderSampler, spawnedAt);
    }
    res.fail = failure(c, res, s, k);
    res.ok = res.fail === undefined;
    if (!res.ok) {
      res.sender_stderr = dec.decode(senderOut.stderr).slice(-2000);
      res.sink_stderr = dec.decode(sinkDone.stderr).slice(-2000);
    }
    res.sender = s;
    res.sink = k;
    return res;
  } finally {
    await killAll();
    await Deno.remove(snapDir, { recursive: true }).catch(() => {});
    if (!opts.snapRoot) await Deno.remove(snapRoot, { recursive: true }).catch(() => {});
  }
}

function summary(c: Case, s: Json, k: Json): Json {
  const recv = k.recv ?? {};
  let lost = 0;
  if (c.mode === "send") lost = s.n - (recv.MsgApp ?? 0);
  if (c.mode === "ping") {
    lost = s.n + s.warmup - (s.ping === "MsgApp" ? recv.MsgApp ?? 0 : recv.MsgHeartbeat ?? 0);
  }
  const snap = (k.snapshots ?? [])[0];
  const out: Json = {
    elapsed_s: s.elapsed_s,
    msgs_per_s: s.msgs_per_s,
    mb_per_s: s.mb_per_s,
    p50_us: s.p50_us,
    p90_us: s.p90_us,
    p99_us: s.p99_us,
    max_us: s.max_us,
    status: s.status,
    drops_sender: s.drops,
    drops_sink: k.drops,
    index_gaps: k.index_gaps,
    lost,
    pipeline_posts: (s.http_requests?.pipeline ?? 0) + (k.http_requests?.pipeline ?? 0),
    streams_at_start: s.streams_at_start,
    streams_to_sink: s.stream_bytes_out,
    streams_to_sender: k.stream_bytes_out,
  };
  if (c.mode === "snap") {
    out.snap_received = snap !== undefined;
    out.snap_size_ok = snap?.size_ok;
    out.snap_verified = snap?.verified;
  }
  for (const key of Object.keys(out)) if (out[key] === undefined) delete out[key];
  return out;
}

function failure(c: Case, r: Json, s: Json, k: Json): string | undefined {
  if (r.sender_exit !== 0 || s.ok !== true) {
    return `sender failed (exit ${r.sender_exit}): ${s.error ?? "no error text"}`;
  }
  if (r.drops_sender !== 0 || r.drops_sink !== 0) {
    return `drops: sender ${r.drops_sender}, sink ${r.drops_sink}`;
  }
  if ((r.index_gaps ?? 0) !== 0) return `${r.index_gaps} index gaps at the sink`;
  if (r.lost !== 0) return `${r.lost} messages lost`;
  if (c.mode === "snap") {
    if (!r.snap_received) return "the sink got no snapshot";
    if (r.snap_size_ok !== true) return "snapshot size mismatch";
    if (r.snap_verified !== true) return "snapshot contents differ from the payload stream";
  }
  if (r.sink_exit !== 0 || k.ok !== true) return `sink not ok (exit ${r.sink_exit})`;
  return undefined;
}

/**
 * Memory while a snapshot crosses. Sink: peak (VmHWM and samples) minus its
 * VmRSS just before the sender started. Sender: peak minus the payload it
 * holds minus its VmRSS while it settled (the 200 ms between its start
 * condition and building the payload, located from its `connect_s`); a Deno
 * sender also measures itself (`-rss`).
 */
function memoryFigures(
  c: Case,
  s: Json,
  sinkBase: number,
  sinkHwm: number | undefined,
  sinkSampler: RssSampler,
  senderSampler: RssSampler,
  spawnedAt: number,
): Json {
  const sinkPeak = Math.max(sinkHwm ?? 0, sinkSampler.max());
  const ready = spawnedAt + (s.connect_s ?? 0) * 1000;
  let idle = 0;
  for (const [t, v] of senderSampler.samples) {
    if (t >= ready - 200 && t <= ready && v > idle) idle = v;
  }
  const senderPeak = senderSampler.max();
  const out: Json = {
    sink_base_mib: sinkBase / MiB,
    sink_peak_mib: sinkPeak / MiB,
    sink_growth_mib: (sinkPeak - sinkBase) / MiB,
    sender_idle_mib: idle / MiB,
    sender_peak_mib: senderPeak / MiB,
    sender_growth_mib: idle > 0 ? (senderPeak - idle - c.size) / MiB : undefined,
  };
  if (typeof s.rss_growth_bytes === "number") {
    out.sender_self_growth_mib = s.rss_growth_bytes / MiB;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Medians and the table

function median(v: number[]): number | undefined {
  if (v.length === 0) return undefined;
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const FIELDS = ["elapsed_s", "msgs_per_s", "mb_per_s", "p50_us", "p90_us", "p99_us", "max_us"];
const RSS_FIELDS = ["sink_growth_mib", "sender_growth_mib", "sender_self_growth_mib"];

function medians(c: Case, pair: string, results: RunResult[], runs: number): Json {
  const mine = results.filter((r) => r.case === c.name && r.pair === pair);
  const good = mine.filter((r) => r.ok);
  const out: Json = {
    median_of: runs,
    case: c.name,
    pair,
    runs_ok: good.length,
    runs: mine.length,
    fails: mine.filter((r) => !r.ok).map((r) => `run ${r.run}: ${r.fail}`),
    max_drops: Math.max(0, ...mine.map((r) => (r.drops_sender ?? 0) + (r.drops_sink ?? 0))),
    pipeline_posts: mine.reduce((a, r) => a + (r.pipeline_posts ?? 0), 0),
  };
  for (const f of FIELDS) {
    const m = median(good.map((r) => r[f]).filter((v) => typeof v === "number"));
    if (m !== undefined) out[f] = m;
  }
  for (const f of RSS_FIELDS) {
    // memory: the worst run counts
    const v = mine.map((r) => r.rss?.[f]).filter((v) => typeof v === "number");
    if (v.length > 0) out[`max_${f}`] = Math.max(...v);
  }
  return out;
}

function fmt(v: number | undefined, digits = 0): string {
  if (v === undefined || !Number.isFinite(v)) return "-";
  return v.toLocaleString("en-US", {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
}

function table(rows: Json[]): string {
  const head = [
    "case",
    "pair (sender→sink)",
    "runs",
    "msgs/s",
    "MB/s",
    "p50 µs",
    "p99 µs",
    "drops",
    "vs go-go",
    "RSS growth sink/sender MiB",
  ];
  const lines: string[][] = [];
  for (const r of rows) {
    const base = rows.find((b) => b.case === r.case && b.pair === "go-go");
    let ratio = "";
    if (base !== undefined && r.pair !== "go-go") {
      const q = (a?: number, b?: number) =>
        a !== undefined && b !== undefined && b > 0 ? a / b : undefined;
      const ping = r.p50_us !== undefined;
      const x = ping
        ? q(r.p50_us, base.p50_us)
        : q(r.mb_per_s ?? r.msgs_per_s, base.mb_per_s ?? base.msgs_per_s);
      ratio = x === undefined ? "-" : `${fmt(x, 2)}×${ping ? " p50" : ""}`;
    }
    const ok = r.runs_ok === r.runs;
    const rss = r.max_sink_growth_mib !== undefined
      ? `${fmt(r.max_sink_growth_mib, 1)} / ${
        fmt(r.max_sender_self_growth_mib ?? r.max_sender_growth_mib, 1)
      }`
      : "";
    lines.push([
      r.case,
      r.pair.replace("-", "→"),
      ok ? `${r.runs_ok}/${r.runs}` : `FAIL ${r.runs - r.runs_ok}/${r.runs}`,
      fmt(r.msgs_per_s),
      fmt(r.mb_per_s, 1),
      fmt(r.p50_us, 1),
      fmt(r.p99_us, 1),
      `${r.max_drops}`,
      ratio,
      rss,
    ]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const row = (cells: string[]) =>
    "| " + cells.map((c, i) => i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join(" | ") +
    " |";
  return [
    row(head),
    "|" +
    widths.map((w, i) => (i < 3 ? "-".repeat(w + 1) + "-" : "-".repeat(w + 1) + ":")).join("|") +
    "|",
    ...lines.map(row),
  ].join("\n");
}

// ---------------------------------------------------------------------------

/** Gets the Go side ready (building the default binary if needed); an error text if it cannot. */
async function etcdpeerProblem(opts: Opts): Promise<string | undefined> {
  if (opts.etcdpeerGiven) {
    try {
      if ((await Deno.stat(opts.etcdpeer)).isFile) return undefined;
    } catch { /* reported below */ }
    return `--etcdpeer ${opts.etcdpeer} is not a file (leave --etcdpeer out to build bench/etcdpeer)`;
  }
  try {
    await ensureEtcdpeer(opts.etcdpeer, "compare");
    return undefined;
  } catch (e) {
    if (e instanceof EtcdpeerUnavailable) return `cannot build etcdpeer: ${e.message}`;
    return (e as Error).message;
  }
}

async function main(): Promise<number> {
  const opts = parseOpts();
  if (opts.pairs.some((p) => p.includes("go"))) {
    const err = await etcdpeerProblem(opts);
    if (err !== undefined) {
      console.error(`compare: ${err}`);
      return 2;
    }
  }
  const onSignal = () => {
    killAll().finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const out = await Deno.open(opts.out, { write: true, create: true, truncate: true });
  const enc = new TextEncoder();
  const write = (j: Json) => out.write(enc.encode(JSON.stringify(j) + "\n"));
  console.error(
    `compare: ${opts.runs} run(s) of ${opts.cases.map((c) => c.name).join(" ")} for ${
      opts.pairs.join(" ")
    }; raw lines -> ${opts.out}`,
  );
  const results: RunResult[] = [];
  try {
    for (let run = 1; run <= opts.runs; run++) {
      for (const c of opts.cases) {
        for (const pair of opts.pairs) {
          const r = await runCase(c, pair, run, opts);
          results.push(r);
          await write(r);
          const fig = c.mode === "ping"
            ? `p50 ${fmt(r.p50_us, 1)} µs p99 ${fmt(r.p99_us, 1)} µs`
            : c.mode === "snap"
            ? `${fmt(r.mb_per_s, 1)} MB/s in ${fmt(r.elapsed_s, 2)} s`
            : `${fmt(r.msgs_per_s)} msgs/s ${fmt(r.mb_per_s, 1)} MB/s`;
          const mem = r.rss === undefined
            ? ""
            : ` rss growth sink ${fmt(r.rss.sink_growth_mib, 1)} MiB sender ${
              fmt(r.rss.sender_self_growth_mib ?? r.rss.sender_growth_mib, 1)
            } MiB`;
          console.error(
            `  run ${run} ${c.name.padEnd(10)} ${pair.padEnd(9)} ${
              r.ok ? "ok  " : "FAIL"
            } ${fig}${mem}${r.ok ? "" : `: ${r.fail}`}`,
          );
        }
      }
    }
    const rows: Json[] = [];
    for (const c of opts.cases) {
      for (const pair of opts.pairs) {
        const m = medians(c, pair, results, opts.runs);
        rows.push(m);
        await write(m);
      }
    }
    console.log(
      `\nmedians of ${opts.runs} run(s), K=${opts.k} W=${opts.w}; raw lines in ${opts.out}`,
    );
    console.log(table(rows));
    console.log(
      "vs go-go: throughput ratio (MB/s, or msgs/s) for send/snap, higher is better; " +
        "p50 latency ratio for ping, lower is better.",
    );
  } finally {
    out.close();
    await killAll();
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
  return results.every((r) => r.ok) ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());
