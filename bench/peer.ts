// The peer benchmark: one raft node's network layer (our Transport) playing
// one role of the peer benchmark protocol (bench/PROTOCOL.md):
// sink (answers), send (throughput), ping (round trip) or snap (snapshot
// transfer). etcd's own transport plays the same roles in
// bench/etcdpeer/ (Go, on etcd 3.4.23's rafthttp), so any pair (Go/Go, Deno/Deno, Go->Deno,
// Deno->Go) runs the same measurement.
//
//   deno task peer --mode sink --id a1 --cluster c1 --listen 127.0.0.1:P1 \
//     --peer b2=http://127.0.0.1:P2 --k 250 --json &
//   deno task peer --mode send --id b2 --cluster c1 --listen 127.0.0.1:P2 \
//     --peer a1=http://127.0.0.1:P1 --n 200000 --size 64 --k 250 --w 1024 --json
//   kill -TERM <sink pid>          # the sink prints its JSON line on exit
//
// stdout carries only the result (one JSON line with --json, else
// `key value` lines); logs go to stderr. Exit status: 0 ok, 1 failure, 2 bad
// flags.
import { create } from "npm:@bufbuild/protobuf@2.17.0";
import {
  type Entry,
  EntrySchema,
  EntryType,
  fetchDialer,
  FileSnapshotSink,
  type LogFields,
  type Logger,
  type LogLevel,
  type Message,
  MessageSchema,
  MessageType,
  nodeDialer,
  type Raft,
  snapshotFileName,
  SnapshotMessage,
  snapshotResume,
  SnapshotStatus,
  Transport,
} from "../mod.ts";
import { newMessage } from "../src/codec/protobuf.ts";
import { listenNode, type PeerServer } from "../src/edge/node_server.ts";
import { payload, payloadYielding, verifyPayloadFile } from "./payload.ts";

const STARTED = performance.now();
const IMPL = "deno";
const SNAP_INDEX = 1000n;
const SNAP_TERM = 1n;
/** Once the peer is active, how long a sender waits for both stream GETs before starting anyway. */
const STREAM_GRACE_MS = 3000;

// ---------------------------------------------------------------------------
// Command line: Go's flag syntax (-flag, --flag, -flag=value, -flag value;
// booleans as -flag or -flag=false).

type Mode = "sink" | "send" | "ping" | "snap" | "freeport";

export interface Config {
  id: bigint;
  cluster: bigint;
  to: bigint;
  listen: string;
  peers: { id: bigint; url: string }[];
  mode: Mode;
  n: number;
  size: number;
  k: number;
  w: number;
  warmup: number;
  timeoutS: number;
  settleMs: number;
  wait: "streams" | "active" | "none";
  json: boolean;
  snapDir: string;
  verify: boolean;
  wireStats: boolean;
  log: LogLevel | "off";
  snapChunk: number;
  rss: boolean;
  msg: "fast" | "create";
  /** What serves the peer port: serve()'s engines (node:http, or Deno.serve). */
  engine: "node" | "deno";
  /** `stream.linkHeartbeatIntervalMs` (the read timeout is twice it); 0: the default. */
  linkHbMs: number;
}

class FlagError extends Error {}

const BOOL_FLAGS = new Set(["json", "verify", "wirestats", "rss", "help", "h"]);
const VALUE_FLAGS = new Set([
  "id",
  "cluster",
  "listen",
  "peer",
  "to",
  "mode",
  "n",
  "size",
  "k",
  "w",
  "warmup",
  "timeout",
  "settle",
  "wait",
  "snapdir",
  "log",
  "snapchunk",
  "msg",
  "engine",
  "linkhb",
]);

const USAGE = `usage: deno task peer --mode sink|send|ping|snap|freeport --id HEX --cluster HEX
  --listen 127.0.0.1:PORT --peer HEXID=URL (repeatable) [--to HEX] [--n N] [--size BYTES]
  [--k K] [--w W] [--warmup N] [--timeout S] [--settle MS] [--wait streams|active|none]
  [--snapdir DIR] [--verify=false] [--wirestats=false] [--snapchunk BYTES] [--rss]
  [--msg fast|create] [--engine node|deno (default node, or $RAFTHTTP_PEER_ENGINE)] [--linkhb MS]
  [--log debug|info|warn|error|off] [--json]`;

function parseHex(name: string, s: string | undefined): bigint {
  if (s === undefined || !/^[0-9a-fA-F]{1,16}$/.test(s) || BigInt("0x" + s) === 0n) {
    throw new FlagError(`-${name}: want a non-zero hex id, got ${JSON.stringify(s ?? "")}`);
  }
  return BigInt("0x" + s);
}

function parseNum(name: string, s: string | undefined, def: number): number {
  if (s === undefined) return def;
  const v = Number(s);
  if (s.trim() === "" || !Number.isFinite(v)) {
    throw new FlagError(`-${name}: not a number: ${JSON.stringify(s)}`);
  }
  return v;
}

function parseIntFlag(name: string, s: string | undefined, def: number): number {
  const v = parseNum(name, s, def);
  if (!Number.isSafeInteger(v)) throw new FlagError(`-${name}: not an integer: ${s}`);
  return v;
}

/**
 * RAFTHTTP_BENCH_DIALER=fetch measures the fetch dialer (what every client
 * used before the node dialer); =streams-fetch reads streams with fetch and
 * sends POSTs with node:http. Unset: the transport's default.
 */
function benchDialer() {
  const which = Deno.env.get("RAFTHTTP_BENCH_DIALER");
  if (which === "fetch") return { fetch: globalThis.fetch };
  if (which !== "streams-fetch") return {};
  const viaFetch = fetchDialer(globalThis.fetch);
  const viaNode = nodeDialer();
  return {
    dialer: {
      dial: (req: Parameters<typeof viaNode.dial>[0]) =>
        (new URL(req.url).pathname.startsWith("/raft/stream/") ? viaFetch : viaNode).dial(req),
    },
  };
}

/** Parses the command line as etcdpeer does; throws FlagError on bad flags. */
export function parseFlags(args: string[]): Config | "help" {
  const { values, peers, bools } = readArgs(args);
  if (bools.get("help") || bools.get("h")) return "help";
  const cfg = generalFlags(values, bools);
  // freeport only prints ports: it has no identity, peers or mode rules.
  if (cfg.mode === "freeport") return cfg;
  identityFlags(cfg, values, peers);
  modeRules(cfg);
  return cfg;
}

/** The flags as given: values by name, the repeatable -peer in order, booleans. */
interface RawFlags {
  values: Map<string, string>;
  peers: string[];
  bools: Map<string, boolean>;
}

/** Splits the command line into flags by Go's syntax, knowing nothing of their meaning. */
function readArgs(args: string[]): RawFlags {
  const values = new Map<string, string>();
  const peers: string[] = [];
  const bools = new Map<string, boolean>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const m = /^--?([A-Za-z][A-Za-z0-9-]*)(?:=(.*))?$/s.exec(a);
    if (m === null) throw new FlagError(`unexpected argument ${JSON.stringify(a)}`);
    const name = m[1];
    let value = m[2];
    if (BOOL_FLAGS.has(name)) {
      if (value === undefined) bools.set(name, true);
      else if (/^(1|t|true|TRUE|True)$/.test(value)) bools.set(name, true);
      else if (/^(0|f|false|FALSE|False)$/.test(value)) bools.set(name, false);
      else throw new FlagError(`-${name}: invalid boolean ${JSON.stringify(value)}`);
      continue;
    }
    if (!VALUE_FLAGS.has(name)) throw new FlagError(`flag provided but not defined: -${name}`);
    if (value === undefined) {
      if (i + 1 >= args.length) throw new FlagError(`flag needs an argument: -${name}`);
      value = args[++i];
    }
    if (name === "peer") peers.push(value);
    else values.set(name, value);
  }
  return { values, peers, bools };
}

/**
 * The flags every mode has (freeport too), with their defaults; the ids,
 * -listen and the peers are left for {@link identityFlags}.
 */
function generalFlags(values: Map<string, string>, bools: Map<string, boolean>): Config {
  const mode = (values.get("mode") ?? "sink") as Mode;
  if (!["sink", "send", "ping", "snap", "freeport"].includes(mode)) {
    throw new FlagError(`unknown -mode ${JSON.stringify(mode)}`);
  }
  const n = parseIntFlag("n", values.get("n"), 10000);
  const k = parseIntFlag("k", values.get("k"), 256);
  const w = parseIntFlag("w", values.get("w"), 1024);
  const warmup = parseIntFlag("warmup", values.get("warmup"), 0);
  if (n < 0 || warmup < 0 || k <= 0 || w <= 0) {
    throw new FlagError("-n, -warmup must be >= 0; -k, -w must be > 0");
  }
  const log = values.get("log") ?? "warn";
  if (!["debug", "info", "warn", "error", "off"].includes(log)) {
    throw new FlagError(`-log: unknown level ${JSON.stringify(log)}`);
  }
  const wait = values.get("wait") ?? "streams";
  if (wait !== "streams" && wait !== "active" && wait !== "none") {
    throw new FlagError(`unknown -wait ${JSON.stringify(wait)}`);
  }
  const cfg: Config = {
    id: 0n,
    cluster: 0n,
    to: 0n,
    listen: values.get("listen") ?? "",
    peers: [],
    mode,
    n,
    size: parseIntFlag("size", values.get("size"), -1),
    k,
    w,
    warmup,
    timeoutS: parseNum("timeout", values.get("timeout"), 600),
    settleMs: parseIntFlag("settle", values.get("settle"), 200),
    wait,
    json: bools.get("json") ?? false,
    snapDir: values.get("snapdir") ?? "",
    verify: bools.get("verify") ?? true,
    wireStats: bools.get("wirestats") ?? true,
    log: log as LogLevel | "off",
    snapChunk: parseIntFlag("snapchunk", values.get("snapchunk"), 1 << 20),
    rss: bools.get("rss") ?? false,
    msg: values.get("msg") === "create" ? "create" : "fast",
    linkHbMs: parseIntFlag("linkhb", values.get("linkhb"), 0),
    // The env var lets bench/compare.ts runs pick the engine without a flag of its own.
    engine: (values.get("engine") ?? Deno.env.get("RAFTHTTP_PEER_ENGINE") ?? "node") as
      | "node"
      | "deno",
  };
  if (cfg.engine !== "node" && cfg.engine !== "deno") {
    throw new FlagError(`-engine: "node" or "deno", not ${JSON.stringify(cfg.engine)}`);
  }
  if (!["fast", "create", undefined].includes(values.get("msg"))) {
    throw new FlagError(`-msg: want fast or create, got ${values.get("msg")}`);
  }
  return cfg;
}

/** Sets -id, -cluster, -listen, the -peer list and -to (by default the first peer). */
function identityFlags(cfg: Config, values: Map<string, string>, peers: string[]): void {
  cfg.id = parseHex("id", values.get("id"));
  cfg.cluster = parseHex("cluster", values.get("cluster"));
  if (!/^127\.0\.0\.1:\d+$/.test(cfg.listen)) {
    throw new FlagError(`-listen: want 127.0.0.1:PORT (loopback only), got ${cfg.listen}`);
  }
  for (const p of peers) {
    const eq = p.indexOf("=");
    if (eq <= 0) throw new FlagError(`-peer: want HEXID=URL, got ${JSON.stringify(p)}`);
    const id = parseHex("peer", p.slice(0, eq));
    const url = p.slice(eq + 1);
    if (!/^https?:\/\/[^/]+$/.test(url)) {
      throw new FlagError(`-peer: bad url ${JSON.stringify(url)} (want http://host:port)`);
    }
    if (id === cfg.id) throw new FlagError(`-peer ${id.toString(16)} has the local -id`);
    cfg.peers.push({ id, url });
  }
  if (cfg.mode !== "sink") {
    if (cfg.peers.length === 0) throw new FlagError(`-mode ${cfg.mode} needs a -peer`);
    cfg.to = values.has("to") ? parseHex("to", values.get("to")) : cfg.peers[0].id;
    if (!cfg.peers.some((p) => p.id === cfg.to)) {
      throw new FlagError(`-to ${cfg.to.toString(16)} is not among the -peer ids`);
    }
  }
}

/** Each mode's default -size, and the limits a mode puts on the counts. */
function modeRules(cfg: Config): void {
  const { mode, n, k, w } = cfg;
  if (cfg.size < 0) {
    if (mode === "send") cfg.size = 64;
    else if (mode === "ping") cfg.size = 0;
    else if (mode === "snap") cfg.size = 1 << 20;
  }
  if (mode === "send") {
    if (n === 0 || n % k !== 0) {
      throw new FlagError(`-mode send: -n (${n}) must be a positive multiple of -k (${k})`);
    }
    if (w < k) throw new FlagError(`-w (${w}) must be >= -k (${k}) or the sender deadlocks`);
    if (w >= 4096) {
      console.error(
        `peer: warning: -w ${w} reaches the 4096-message stream buffer; drops are likely`,
      );
    }
  }
  if (mode === "ping" && n === 0) throw new FlagError("-mode ping: -n must be > 0");
  if (mode === "snap" && cfg.size <= 0) throw new FlagError("-mode snap: -size must be > 0");
  if (cfg.snapChunk <= 0) throw new FlagError("-snapchunk must be > 0");
}

// ---------------------------------------------------------------------------
// HTTP side: counts requests, error statuses and stream bytes per route.

const ROUTES = [
  "stream_msgappv2",
  "stream_message",
  "pipeline",
  "snapshot",
  "probing",
  "version",
  "other",
] as const;
type Route = typeof ROUTES[number];

function classify(path: string): Route {
  if (path.startsWith("/raft/stream/msgapp/")) return "stream_msgappv2";
  if (path.startsWith("/raft/stream/message/")) return "stream_message";
  if (path === "/raft") return "pipeline";
  if (path === "/raft/snapshot") return "snapshot";
  if (path === "/raft/probing") return "probing";
  if (path === "/version") return "version";
  return "other";
}

class WireStats {
  requests = new Map<Route, number>();
  errors = new Map<Route, number>();
  bytesOut = { msgappv2: 0, message: 0 };

  count(map: Map<Route, number>, r: Route): void {
    map.set(r, (map.get(r) ?? 0) + 1);
  }

  snapshot(): {
    http_requests: Record<string, number>;
    http_errors: Record<string, number>;
    stream_bytes_out: { msgappv2: number; message: number };
  } {
    return {
      http_requests: Object.fromEntries(this.requests),
      http_errors: Object.fromEntries(this.errors),
      stream_bytes_out: { ...this.bytesOut },
    };
  }
}

/**
 * A response body that counts the bytes pulled through it: one pull of the
 * wrapper is one pull of the original (high-water mark 0), so the writer's
 * batching is unchanged.
 */
function countingBody(
  body: ReadableStream<Uint8Array>,
  add: (n: number) => void,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(ctl) {
      const { done, value } = await reader.read();
      if (done) ctl.close();
      else {
        add(value.length);
        ctl.enqueue(value);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

function versionResponse(req: Request): Response {
  if (req.method !== "GET" && req.method !== "HEAD") {
    return new Response("Method Not Allowed\n", { status: 405, headers: { Allow: "GET, HEAD" } });
  }
  return new Response(JSON.stringify({ etcdserver: "3.4.23", etcdcluster: "3.4.0" }), {
    headers: { "Content-Type": "application/json" },
  });
}

function wrapHandler(
  raft: (req: Request) => Promise<Response>,
  ws: WireStats,
  countBytes: boolean,
): (req: Request) => Promise<Response> {
  return async (req) => {
    const path = new URL(req.url).pathname;
    const route = classify(path);
    ws.count(ws.requests, route);
    let res: Response;
    if (route === "version") res = versionResponse(req);
    else if (path === "/raft" || path.startsWith("/raft/")) res = await raft(req);
    else res = new Response("404 page not found\n", { status: 404 });
    if (res.status >= 400) ws.count(ws.errors, route);
    if (
      countBytes && res.status === 200 && res.body !== null &&
      (route === "stream_msgappv2" || route === "stream_message")
    ) {
      const kind = route === "stream_msgappv2" ? "msgappv2" : "message";
      return new Response(countingBody(res.body, (n) => ws.bytesOut[kind] += n), {
        status: res.status,
        headers: res.headers,
      });
    }
    return res;
  };
}

// ---------------------------------------------------------------------------
// The node: the Raft the transport delivers to, for every mode.

interface SnapRecord {
  from: string;
  index: number;
  term: number;
  voters: string[];
  at_s: number;
  db_path?: string;
  db_size: number;
  size_ok?: boolean;
  verified?: boolean;
  verify_note?: string;
  db_error?: string;
}

function hex(id: bigint): string {
  return id.toString(16);
}

function u64be(b: Uint8Array): number {
  if (b.length !== 8) return -1;
  return (b[0] * 2 ** 24 + (b[1] << 16 | b[2] << 8 | b[3]) >>> 0) * 2 ** 32 +
    ((b[4] << 24 | b[5] << 16 | b[6] << 8 | b[7]) >>> 0);
}

function contextOf(j: number): Uint8Array {
  const c = new Uint8Array(8);
  const dv = new DataView(c.buffer);
  dv.setUint32(0, Math.floor(j / 2 ** 32));
  dv.setUint32(4, j >>> 0);
  return c;
}

class Node implements Raft {
  readonly cfg: Config;
  tr!: Transport;
  recv = new Map<number, number>();
  unreachable = 0;
  critical = 0;
  // sink
  entries = 0;
  entryBytes = 0;
  lastIndex = 0;
  gaps = 0;
  restarts = 0;
  appResps = 0;
  hbResps = 0;
  snaps: SnapRecord[] = [];
  // senders
  acked = 0;
  #ackWant = Infinity;
  #ackWake: ((ok: boolean) => void) | undefined;
  #hbWant = -1;
  #hbWake: ((ok: boolean) => void) | undefined;
  snapStatuses: string[] = [];
  #snapWake: ((s: SnapshotStatus) => void) | undefined;
  #snapStatus: SnapshotStatus | undefined;

  constructor(cfg: Config) {
    this.cfg = cfg;
  }

  process(m: Message): void {
    this.recv.set(m.type, (this.recv.get(m.type) ?? 0) + 1);
    if (this.cfg.mode === "sink") {
      this.#sink(m);
      return;
    }
    if (m.type === MessageType.MsgAppResp) {
      const idx = Number(m.index);
      if (idx > this.acked) this.acked = idx;
      if (this.acked >= this.#ackWant) {
        const wake = this.#ackWake!;
        this.#ackWant = Infinity;
        this.#ackWake = undefined;
        wake(true);
      }
    } else if (m.type === MessageType.MsgHeartbeatResp) {
      if (this.#hbWake !== undefined && u64be(m.context) === this.#hbWant) {
        const wake = this.#hbWake;
        this.#hbWake = undefined;
        this.#hbWant = -1;
        wake(true);
      }
    }
  }

  #sink(m: Message): void {
    if (m.type === MessageType.MsgApp) {
      const k = this.cfg.k;
      const es = m.entries;
      for (let i = 0; i < es.length; i++) {
        const e = es[i];
        const idx = Number(e.index);
        this.entries++;
        this.entryBytes += e.data.length;
        if (idx === this.lastIndex + 1) {
          // contiguous
        } else if (idx === 1) this.restarts++; // a new sender run starts again at index 1
        else this.gaps++;
        this.lastIndex = idx;
        if (idx % k === 0) {
          this.tr.send([reply(this.cfg, MessageType.MsgAppResp, m.from, e.index)]);
          this.appResps++;
        }
      }
    } else if (m.type === MessageType.MsgHeartbeat) {
      this.tr.send([reply(this.cfg, MessageType.MsgHeartbeatResp, m.from, 0n, m.context)]);
      this.hbResps++;
    } else if (m.type === MessageType.MsgSnap) {
      this.#sinkSnap(m);
    }
  }

  #sinkSnap(m: Message): void {
    const md = m.snapshot?.metadata;
    const index = md?.index ?? 0n;
    const rec: SnapRecord = {
      from: hex(m.from),
      index: Number(index),
      term: Number(md?.term ?? 0n),
      voters: (md?.confState?.voters ?? []).map(hex),
      at_s: (performance.now() - STARTED) / 1000,
      db_size: -1,
    };
    const path = `${this.cfg.snapDir}/${snapshotFileName(index)}`;
    try {
      rec.db_size = Deno.statSync(path).size;
      rec.db_path = path;
    } catch (e) {
      rec.db_error = (e as Error).message;
    }
    let check = "size not checked (no -size)";
    if (this.cfg.size >= 0) {
      rec.size_ok = rec.db_size === this.cfg.size;
      check = `expected ${this.cfg.size}: ok=${rec.size_ok}`;
    }
    console.error(
      `peer: sink: MsgSnap from ${rec.from} index ${rec.index} term ${rec.term}: ` +
        `db file ${rec.db_path} size ${rec.db_size} (${check})`,
    );
    this.snaps.push(rec);
  }

  isIDRemoved(): boolean {
    return false;
  }

  reportUnreachable(): void {
    this.unreachable++;
  }

  reportSnapshot(_id: bigint, status: SnapshotStatus): void {
    this.snapStatuses.push(status === SnapshotStatus.Finish ? "finish" : "failure");
    if (this.#snapWake !== undefined) {
      const wake = this.#snapWake;
      this.#snapWake = undefined;
      wake(status);
    } else {
      this.#snapStatus ??= status;
    }
  }

  /** Resolves true once `acked >= want`, false if `abort` fires first. */
  waitAcked(want: number, abort: AbortSignal): Promise<boolean> | boolean {
    if (this.acked >= want) return true;
    if (abort.aborted) return false;
    return new Promise((resolve) => {
      this.#ackWant = want;
      this.#ackWake = resolve;
      abortWith(abort, () => {
        if (this.#ackWake === resolve) {
          this.#ackWake = undefined;
          this.#ackWant = Infinity;
          resolve(false);
        }
      });
    });
  }

  /** Resolves true when the MsgHeartbeatResp carrying `seq` arrives; false on abort. */
  expectHeartbeatResp(seq: number, abort: AbortSignal): Promise<boolean> {
    if (abort.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.#hbWant = seq;
      this.#hbWake = resolve;
      abortWith(abort, () => {
        if (this.#hbWake === resolve) {
          this.#hbWake = undefined;
          resolve(false);
        }
      });
    });
  }

  /** Resolves with the first reported snapshot status, or undefined on abort. */
  snapshotReported(abort: AbortSignal): Promise<SnapshotStatus | undefined> {
    if (this.#snapStatus !== undefined) return Promise.resolve(this.#snapStatus);
    return new Promise((resolve) => {
      this.#snapWake = resolve;
      abortWith(abort, () => {
        if (this.#snapWake === resolve) {
          this.#snapWake = undefined;
          resolve(undefined);
        }
      });
    });
  }

  recvCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [t, n] of [...this.recv].sort((a, b) => a[0] - b[0])) {
      out[MessageType[t] ?? `type${t}`] = n;
    }
    return out;
  }
}

/**
 * One listener on a long-lived signal, replaced on each wait: the node has
 * at most one waiter of each kind, so listeners never pile up.
 */
const abortHooks = new WeakMap<AbortSignal, () => void>();
function abortWith(signal: AbortSignal, fn: () => void): void {
  if (!abortHooks.has(signal)) {
    signal.addEventListener("abort", () => abortHooks.get(signal)?.(), { once: true });
  }
  abortHooks.set(signal, fn);
}

// ---------------------------------------------------------------------------

function stderrLogger(level: LogLevel | "off"): Logger {
  const levels = ["debug", "info", "warn", "error"];
  const min = level === "off" ? 99 : levels.indexOf(level);
  const line = (l: string) => (msg: string, f?: LogFields) => {
    if (levels.indexOf(l) < min) return;
    const fields = f === undefined
      ? ""
      : " " + JSON.stringify(f, (_k, v) => typeof v === "bigint" ? v.toString(16) : v);
    console.error(`${new Date().toISOString()} ${l} rafthttp: ${msg}${fields}`);
  };
  return { debug: line("debug"), info: line("info"), warn: line("warn"), error: line("error") };
}

/** VmRSS, VmHWM of this process in bytes (Linux), or undefined. */
function memory(): { rss: number; hwm: number } | undefined {
  try {
    const s = Deno.readTextFileSync("/proc/self/status");
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(s)?.[1]) * 1024;
    return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
  } catch {
    return undefined;
  }
}

function freePorts(n: number): number[] {
  const out: number[] = [];
  const seen = new Set<number>();
  for (let tries = 0; out.length < n && tries < 10000; tries++) {
    // below Linux's ephemeral range (32768-60999), so an outgoing connection
    // cannot take the port between this check and its use
    const p = 20000 + Math.floor(Math.random() * 12000);
    if (seen.has(p)) continue;
    seen.add(p);
    try {
      Deno.listen({ hostname: "127.0.0.1", port: p }).close();
      out.push(p);
    } catch {
      // taken
    }
  }
  if (out.length < n) throw new Error("could not find free ports");
  return out;
}

type Result = Record<string, unknown>;

function printResult(cfg: Config, res: Result): void {
  const replacer = (_k: string, v: unknown) => typeof v === "bigint" ? Number(v) : v;
  if (cfg.json) {
    console.log(JSON.stringify(res, replacer));
    return;
  }
  for (const k of Object.keys(res).sort()) {
    const v = res[k];
    const s = typeof v === "object" ? JSON.stringify(v, replacer) : String(v);
    console.log(`${k.padEnd(18)} ${s}`);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Runs one role; returns the exit status. */
export async function run(cfg: Config): Promise<number> {
  const snapDir = await useSnapDir(cfg);
  const node = new Node(cfg);
  const tr = newTransport(cfg, node);
  node.tr = tr;
  tr.start();
  const ws = new WireStats();
  const server = await listenPeer(cfg, tr, ws);
  if (server === undefined) {
    await tr.stop();
    if (snapDir.temporary) await Deno.remove(cfg.snapDir, { recursive: true });
    return 1;
  }
  console.error(
    `peer: ${cfg.mode} id=${hex(cfg.id)} cluster=${
      hex(cfg.cluster)
    } listening on http://${cfg.listen} (pid ${Deno.pid})`,
  );
  for (const p of cfg.peers) tr.addPeer(p.id, [p.url]);

  const stop = stopOnTimeoutOrSignal(cfg.timeoutS);
  const res: Result = { impl: IMPL, mode: cfg.mode, id: hex(cfg.id), pid: Deno.pid };
  let ok = true;
  try {
    if (cfg.mode === "sink") await sinkUntilStopped(node, res, stop);
    else {
      ok = await runSender(node, res, stop.signal, stop.why);
      // A sender's figures are taken when its measurement ends: once it
      // stops, the peer's redials get 404 and say nothing about the run.
      res.unreachable_at_end = node.unreachable;
      res.metrics = metrics(tr, cfg);
      addWireStats(res, ws, cfg);
    }
  } finally {
    stop.dispose();
  }

  const sinkMetrics = cfg.mode === "sink" ? metrics(tr, cfg) : undefined;
  await tr.stop();
  await server.shutdown();

  if (cfg.mode === "sink") {
    // Every snapshot is checked (and its record says how), gaps or not.
    const snapshotsOk = await checkSnapshots(node.snaps, cfg.verify);
    ok = node.gaps === 0 && snapshotsOk;
    if (node.snaps.length > 0) res.snapshots = node.snaps;
    res.metrics = sinkMetrics;
    addWireStats(res, ws, cfg);
  }
  if (snapDir.temporary) await Deno.remove(cfg.snapDir, { recursive: true }).catch(() => {});
  addNodeFigures(res, node, cfg);
  res.ok = ok;
  printResult(cfg, res);
  return ok ? 0 : 1;
}

/**
 * Points cfg.snapDir at -snapdir (created if need be) or, without one, at a
 * new temporary directory, which the run removes at its end.
 */
async function useSnapDir(cfg: Config): Promise<{ temporary: boolean }> {
  if (cfg.snapDir !== "") {
    await Deno.mkdir(cfg.snapDir, { recursive: true });
    return { temporary: false };
  }
  cfg.snapDir = await Deno.makeTempDir({ prefix: "peerts-snap-" });
  return { temporary: true };
}

/** The transport under measurement, delivering to `node`. */
function newTransport(cfg: Config, node: Node): Transport {
  return new Transport({
    id: cfg.id,
    clusterId: cfg.cluster,
    urls: [`http://${cfg.listen}`],
    raft: node,
    snapshot: { sink: new FileSnapshotSink(cfg.snapDir) },
    ...(cfg.linkHbMs > 0 ? { stream: { linkHeartbeatIntervalMs: cfg.linkHbMs } } : {}),
    // RAFTHTTP_SNAPSHOT_RESUME=0: etcd's plain snapshot protocol (to measure the extension's cost).
    extensions: Deno.env.get("RAFTHTTP_SNAPSHOT_RESUME") === "0"
      ? []
      : [snapshotResume({ maxBytes: Number(Deno.env.get("RAFTHTTP_SNAPSHOT_KEEP") ?? 2 ** 30) })],
    logger: stderrLogger(cfg.log),
    ...benchDialer(),
    onError: (e) => {
      node.critical++;
      console.error(`peer: rafthttp critical error: ${e.message}`);
    },
  });
}

/** Serves the transport on -listen with -engine; undefined (said on stderr) if it cannot. */
async function listenPeer(
  cfg: Config,
  tr: Transport,
  ws: WireStats,
): Promise<PeerServer | undefined> {
  const [hostname, portS] = cfg.listen.split(":");
  try {
    const handler = wrapHandler(tr.handler(), ws, cfg.wireStats);
    return cfg.engine === "node"
      ? await listenNode("peer", handler, { hostname, port: Number(portS) })
      : Deno.serve({ hostname, port: Number(portS), onListen() {} }, handler);
  } catch (e) {
    console.error(`peer: listen: ${(e as Error).message}`);
    return undefined;
  }
}

/** What ends a run: -timeout, SIGTERM or SIGINT; `why` names which. */
interface Stop {
  signal: AbortSignal;
  why: () => string;
  /** Clears the timer and the signal listeners. */
  dispose: () => void;
}

/** -timeout and SIGTERM/SIGINT end a sink, and make a sender give up. */
function stopOnTimeoutOrSignal(timeoutS: number): Stop {
  const abort = new AbortController();
  let abortWhy = "timeout";
  const timer = timeoutS > 0 ? setTimeout(() => abort.abort(), timeoutS * 1000) : undefined;
  const onSignal = (sig: Deno.Signal) => () => {
    abortWhy = sig === "SIGTERM" ? "terminated" : "interrupt";
    abort.abort();
  };
  const sigterm = onSignal("SIGTERM");
  const sigint = onSignal("SIGINT");
  Deno.addSignalListener("SIGTERM", sigterm);
  Deno.addSignalListener("SIGINT", sigint);
  return {
    signal: abort.signal,
    why: () => abortWhy,
    dispose() {
      clearTimeout(timer);
      Deno.removeSignalListener("SIGTERM", sigterm);
      Deno.removeSignalListener("SIGINT", sigint);
    },
  };
}

/** A sink answers until it is stopped, then reports what it received. */
async function sinkUntilStopped(node: Node, res: Result, stop: Stop): Promise<void> {
  await new Promise<void>((resolve) => stop.signal.addEventListener("abort", () => resolve()));
  res.stop = stop.why();
  res.uptime_s = (performance.now() - STARTED) / 1000;
  res.k = node.cfg.k;
  res.entries = node.entries;
  res.entry_bytes = node.entryBytes;
  res.last_index = node.lastIndex;
  res.index_gaps = node.gaps;
  res.restarts = node.restarts;
  res.replies = { MsgAppResp: node.appResps, MsgHeartbeatResp: node.hbResps };
}

/**
 * Whether every snapshot the sink received is whole: the size -size asked
 * for and, with -verify, the payload's bytes. Notes each check on its record.
 */
async function checkSnapshots(snaps: SnapRecord[], verify: boolean): Promise<boolean> {
  let ok = true;
  for (const s of snaps) {
    if (verify && s.db_path !== undefined) {
      try {
        const at = await verifyPayloadFile(s.db_path);
        s.verified = at < 0;
        if (at >= 0) s.verify_note = `first difference at byte ${at}`;
      } catch (e) {
        s.verified = false;
        s.verify_note = (e as Error).message;
      }
    }
    ok = ok && s.size_ok !== false && s.verified !== false && s.db_error === undefined;
  }
  return ok;
}

/** The HTTP side's counts; stream bytes only with -wirestats (they were not counted). */
function addWireStats(res: Result, ws: WireStats, cfg: Config): void {
  Object.assign(res, ws.snapshot());
  if (!cfg.wireStats) delete res.stream_bytes_out;
}

/** The node's received types, unreachable reports, errors and drops (and with -rss, its peak). */
function addNodeFigures(res: Result, node: Node, cfg: Config): void {
  res.recv = node.recvCounts();
  res.unreachable = node.unreachable;
  res.critical_errors = node.critical;
  const m = res.metrics as Record<string, number>;
  const unr = (res.unreachable_at_end as number | undefined) ?? node.unreachable;
  // Every send-side drop calls reportUnreachable; a full receive queue is
  // only counted (as etcd's peer_received_failures_total).
  res.drops = unr + (m.peer_received_failures_total ?? 0);
  if (cfg.rss) {
    const mem = memory();
    if (mem !== undefined) res.vm_hwm_bytes = mem.hwm;
  }
}

/** Our transport's counters, under etcd's metric names where one matches. */
function metrics(tr: Transport, cfg: Config): Record<string, number> {
  const out: Record<string, number> = {
    peer_sent_failures_total: 0,
    peer_received_failures_total: 0,
    peer_sent_bytes_total: 0,
    peer_received_bytes_total: 0,
    sent_messages: 0,
    received_messages: 0,
  };
  for (const p of cfg.peers) {
    const st = tr.peerStatus(p.id)?.stats;
    if (st === undefined) continue;
    out.peer_sent_failures_total += st.sendDrops;
    out.peer_received_failures_total += st.receiveDrops;
    out.peer_sent_bytes_total += st.sentBytes;
    out.peer_received_bytes_total += st.receivedBytes;
    out.sent_messages += st.sentMessages;
    out.received_messages += st.receivedMessages;
  }
  return out;
}

/**
 * The start condition: the peer is active and has opened both stream GETs
 * to us (our writers are attached); if one stream type has not come
 * STREAM_GRACE_MS after activation, start anyway. Then settle.
 */
async function waitReady(
  node: Node,
  abort: AbortSignal,
): Promise<Record<string, boolean> | undefined> {
  const { cfg, tr } = node;
  let activeAt = -1;
  for (;;) {
    const now = performance.now();
    const active = tr.activeSince(cfg.to) !== undefined;
    const st = tr.peerStatus(cfg.to);
    const msgapp = st?.streams.msgappv2.outgoing ?? false;
    const message = st?.streams.message.outgoing ?? false;
    const report = { active, msgappv2: msgapp, message };
    if (cfg.wait === "none") return report;
    if (active && activeAt < 0) activeAt = now;
    if (
      active &&
      (cfg.wait === "active" || (msgapp && message) || now - activeAt > STREAM_GRACE_MS)
    ) {
      await sleep(cfg.settleMs, abort);
      return abort.aborted ? undefined : report;
    }
    if (abort.aborted) return undefined;
    await sleep(5, abort);
  }
}

const ENTRY_PROTO = Object.getPrototypeOf(create(EntrySchema));

/**
 * MsgApp i of the protocol. `create()` (the public way) walks the schema
 * for every message, which costs more than sending it; `fast` builds the
 * same objects directly, as the decoder does (`-msg create` measures the
 * other way).
 */
function msgApp(self: bigint, to: bigint, i: number, data: Uint8Array, fast: boolean): Message {
  const index = BigInt(i);
  if (fast) {
    const e = Object.create(ENTRY_PROTO) as Entry;
    (e as { $typeName: string }).$typeName = "raftpb.Entry";
    e.type = EntryType.EntryNormal;
    e.term = 1n;
    e.index = index;
    e.data = data;
    return newMessage(MessageType.MsgApp, to, self, 1n, 1n, index - 1n, [e], 0n);
  }
  return create(MessageSchema, {
    type: MessageType.MsgApp,
    from: self,
    to,
    term: 1n,
    logTerm: 1n,
    index: index - 1n,
    commit: 0n,
    entries: [create(EntrySchema, { term: 1n, index, type: EntryType.EntryNormal, data })],
  });
}

/**
 * A message with only type, from (us), to, term 1, index and context set:
 * MsgAppResp, MsgHeartbeat, MsgHeartbeatResp.
 */
function reply(
  cfg: Config,
  type: MessageType,
  to: bigint,
  index: bigint,
  context?: Uint8Array,
): Message {
  if (cfg.msg === "create") {
    return create(MessageSchema, { type, from: cfg.id, to, term: 1n, index, context });
  }
  const m = newMessage(type, to, cfg.id, 1n, 0n, index, [], 0n);
  if (context !== undefined) m.context = context;
  return m;
}

/** The percentile `p` of sorted `v`, nearest rank. */
function percentile(v: number[], p: number): number {
  return v[Math.max(1, Math.ceil(p / 100 * v.length)) - 1];
}

/** Notes why a sender gave up (and what stopped it, if something did); returns false. */
type Fail = (msg: string) => false;

/** Plays -mode send, ping or snap against -to once it is ready; false if the run failed. */
async function runSender(
  node: Node,
  res: Result,
  abort: AbortSignal,
  abortWhy: () => string,
): Promise<boolean> {
  const { cfg } = node;
  res.to = hex(cfg.to);
  res.size = cfg.size;
  res.wait = cfg.wait;
  if (cfg.mode !== "snap") res.n = cfg.n;
  const fail: Fail = (msg) => {
    res.error = abort.aborted ? `${msg} (${abortWhy()})` : msg;
    return false;
  };
  const streams = await waitReady(node, abort);
  if (streams === undefined) return fail("gave up waiting for the peer to connect");
  res.streams_at_start = streams;
  res.connect_s = (performance.now() - STARTED) / 1000;
  if (cfg.mode === "send") return await sendThroughput(node, res, abort, fail);
  if (cfg.mode === "ping") return await pingRoundTrips(node, res, abort, fail);
  return await sendSnapshot(node, res, abort, fail);
}

/**
 * -mode send: -n MsgApps of -size bytes, at most -w unacknowledged (the sink
 * acks every -k-th); the rate is taken once the last one is acked.
 */
async function sendThroughput(
  node: Node,
  res: Result,
  abort: AbortSignal,
  fail: Fail,
): Promise<boolean> {
  const { cfg, tr } = node;
  const fast = cfg.msg === "fast";
  res.k = cfg.k;
  res.w = cfg.w;
  const data = payload(cfg.size);
  const { n, w } = cfg;
  const start = performance.now();
  for (let i = 1; i <= n; i++) {
    if (i > w && node.acked < i - w && !(await node.waitAcked(i - w, abort))) {
      res.sent = i - 1;
      res.acked = node.acked;
      return fail("gave up waiting for acks (window full)");
    }
    tr.send([msgApp(cfg.id, cfg.to, i, data, fast)]);
  }
  res.sent = n;
  if (!(await node.waitAcked(n, abort))) {
    res.acked = node.acked;
    return fail("gave up waiting for the final MsgAppResp");
  }
  const el = (performance.now() - start) / 1000;
  res.acked = node.acked;
  res.elapsed_s = el;
  res.msgs_per_s = n / el;
  res.mb_per_s = n * cfg.size / el / 1e6;
  return true;
}

/**
 * -mode ping: one message at a time, each awaiting its answer: a
 * MsgHeartbeat (-size 0) or a MsgApp of -size bytes (the sink must ack each,
 * -k 1). The first -warmup round trips are not measured.
 */
async function pingRoundTrips(
  node: Node,
  res: Result,
  abort: AbortSignal,
  fail: Fail,
): Promise<boolean> {
  const { cfg, tr } = node;
  const fast = cfg.msg === "fast";
  res.warmup = cfg.warmup;
  const data = cfg.size > 0 ? payload(cfg.size) : undefined;
  res.ping = data === undefined ? "MsgHeartbeat" : "MsgApp";
  const total = cfg.warmup + cfg.n;
  const lat: number[] = [];
  const start = performance.now();
  for (let i = 1; i <= total; i++) {
    const t0 = performance.now();
    let got: boolean;
    if (data === undefined) {
      const wait = node.expectHeartbeatResp(i, abort);
      tr.send([reply(cfg, MessageType.MsgHeartbeat, cfg.to, 0n, contextOf(i))]);
      got = await wait;
      if (!got) {
        res.completed = i - 1;
        return fail("gave up waiting for MsgHeartbeatResp");
      }
    } else {
      tr.send([msgApp(cfg.id, cfg.to, i, data, fast)]);
      got = await node.waitAcked(i, abort);
      if (!got) {
        res.completed = i - 1;
        return fail("gave up waiting for MsgAppResp (is the sink running with -k 1?)");
      }
    }
    if (i > cfg.warmup) lat.push((performance.now() - t0) * 1000);
  }
  res.elapsed_s = (performance.now() - start) / 1000;
  addLatencies(res, lat);
  return true;
}

/** The distribution of round trips `lat` (µs): percentiles, extremes and mean. */
function addLatencies(res: Result, lat: number[]): void {
  lat.sort((a, b) => a - b);
  res.p50_us = percentile(lat, 50);
  res.p90_us = percentile(lat, 90);
  res.p99_us = percentile(lat, 99);
  res.p999_us = percentile(lat, 99.9);
  res.max_us = lat[lat.length - 1];
  res.min_us = lat[0];
  res.mean_us = lat.reduce((a, b) => a + b, 0) / lat.length;
}

/**
 * -mode snap: one MsgSnap with a -size payload read in -snapchunk pieces,
 * timed until the transport reports it; with -rss, the memory it took.
 */
async function sendSnapshot(
  node: Node,
  res: Result,
  abort: AbortSignal,
  fail: Fail,
): Promise<boolean> {
  const { cfg, tr } = node;
  const m = create(MessageSchema, {
    type: MessageType.MsgSnap,
    from: cfg.id,
    to: cfg.to,
    term: 1n,
    snapshot: {
      metadata: { index: SNAP_INDEX, term: SNAP_TERM, confState: { voters: [cfg.id, cfg.to] } },
    },
  });
  // Built in slices: one synchronous run of a second or more silenced our
  // streams past the peer's read timeout (it declared the link dead).
  const body = chunked(await payloadYielding(cfg.size), cfg.snapChunk);
  const snap = new SnapshotMessage(m, body, cfg.size);
  const memStart = cfg.rss ? memory() : undefined;
  let rssPeak = memStart?.rss ?? 0;
  const sampler = cfg.rss
    ? setInterval(() => rssPeak = Math.max(rssPeak, memory()?.rss ?? 0), 20)
    : undefined;
  const start = performance.now();
  tr.sendSnapshot(snap);
  const st = await node.snapshotReported(abort);
  const el = (performance.now() - start) / 1000;
  clearInterval(sampler);
  if (st === undefined) return fail("gave up waiting for reportSnapshot");
  const closed = await Promise.race([snap.done.then(String), sleep(2000).then(() => "unknown")]);
  const status = st === SnapshotStatus.Finish ? "finish" : "failure";
  res.status = status;
  res.close_notify_ok = closed;
  res.total_size = snap.totalSize;
  res.elapsed_s = el;
  res.mb_per_s = cfg.size / el / 1e6;
  res.report_snapshot = [...node.snapStatuses];
  if (memStart !== undefined) {
    const end = memory();
    rssPeak = Math.max(rssPeak, end?.rss ?? 0);
    res.rss_at_start_bytes = memStart.rss;
    res.rss_peak_bytes = rssPeak;
    res.vm_hwm_at_end_bytes = end?.hwm;
    res.rss_growth_bytes = Math.max(rssPeak, end?.hwm ?? 0) - memStart.rss;
  }
  if (status !== "finish") return fail("snapshot reported failure");
  return true;
}

/** `data` as a stream of `chunk`-byte views, each made only when the reader pulls. */
function chunked(data: Uint8Array, chunk: number): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream<Uint8Array>({
    pull(ctl) {
      if (off >= data.length) {
        ctl.close();
        return;
      }
      const end = Math.min(data.length, off + chunk);
      ctl.enqueue(data.subarray(off, end));
      off = end;
    },
  }, { highWaterMark: 0 });
}

if (import.meta.main) {
  let cfg: Config | "help";
  try {
    cfg = parseFlags(Deno.args);
  } catch (e) {
    if (!(e instanceof FlagError)) throw e;
    console.error(`peer: ${e.message}\n${USAGE}`);
    Deno.exit(2);
  }
  if (cfg === "help") {
    console.error(USAGE);
    Deno.exit(0);
  }
  if (cfg.mode === "freeport") {
    const n = cfg.n <= 0 || cfg.n > 100 ? 1 : cfg.n;
    console.log(freePorts(n).join(" "));
    Deno.exit(0);
  }
  Deno.exit(await run(cfg));
}
