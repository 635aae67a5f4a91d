// A raft member for the cross-runtime tests, the same code on Deno, Bun and
// workerd: a Transport with a Raft that records what it is given, served
// together with a small test API:
//
//   GET  /test/state      what arrived, what was reported, per-peer status (JSON)
//   POST /test/send       {"to":"2","messages":[{"type":"MsgApp","count":100,"entryBytes":64}]}
//   POST /test/snapshot   {"to":"2","index":"7","size":16777216} -> {"ok":true} when done;
//                         with "holdAt":N the data stops after N bytes until...
//   POST /test/release    {"index":"7"}: ...the snapshot goes on
//
// It imports the module as "@rafthttp/rafthttp": mod.ts under Deno, the
// bundle dist/rafthttp.js under Bun (tsconfig.json) and workerd (the config).
// Ids travel as decimal strings in JSON.
import {
  create,
  EntrySchema,
  type LogFields,
  type Logger,
  type LogLevel,
  type Message,
  MessageSchema,
  MessageType,
  type Raft,
  SnapshotMessage,
  type SnapshotSink,
  SnapshotStatus,
  Transport,
  type TransportOptions,
} from "@rafthttp/rafthttp";

/** Who a member is and whom it talks to. */
export interface MemberConfig {
  id: bigint;
  clusterId: bigint;
  /** This member's advertised URL. */
  url: string;
  /** The other members. */
  peers: [bigint, string][];
  /** Transport options beyond the identity (timeouts...). */
  options?: Partial<TransportOptions>;
  /** Lowest level printed to the console; "none" prints nothing. Default "warn". */
  log?: LogLevel | "none";
}

/**
 * Reads a config from variables: RAFT_ID, RAFT_CLUSTER_ID, RAFT_URL,
 * RAFT_PEERS ("2=http://127.0.0.1:2380,3=http://127.0.0.1:2381"),
 * RAFT_HEARTBEAT_MS (optional), RAFT_LOG (optional).
 */
export function configFromEnv(get: (name: string) => string | undefined): MemberConfig {
  const need = (name: string) => {
    const v = get(name);
    if (v === undefined || v === "") throw new Error(`${name} is not set`);
    return v;
  };
  const peers: [bigint, string][] = (get("RAFT_PEERS") ?? "").split(",").filter((s) => s !== "")
    .map((s) => {
      const at = s.indexOf("=");
      return [BigInt(s.slice(0, at)), s.slice(at + 1)];
    });
  const options: Partial<TransportOptions> = {};
  const hb = get("RAFT_HEARTBEAT_MS");
  if (hb) options.stream = { linkHeartbeatIntervalMs: Number(hb) };
  return {
    id: BigInt(need("RAFT_ID")),
    clusterId: BigInt(need("RAFT_CLUSTER_ID")),
    url: need("RAFT_URL"),
    peers,
    options,
    log: (get("RAFT_LOG") || "warn") as LogLevel | "none",
  };
}

/** Byte `offset` of the test snapshot with `index`: cheap to make and to check. */
export function snapshotByte(index: bigint, offset: number): number {
  return (offset * 131 + (offset >>> 11) + Number(index & 0xffn)) & 0xff;
}

/**
 * `size` bytes of the test snapshot `index`, in 64 KiB chunks made on
 * demand; with `hold`, the stream waits for `hold.wait()` once `hold.at`
 * bytes are out.
 */
export function snapshotData(
  index: bigint,
  size: number,
  hold?: { at: number; wait: () => Promise<void> },
): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (hold !== undefined && sent >= hold.at) {
        await hold.wait();
        hold = undefined;
      }
      const n = Math.min(64 * 1024, size - sent);
      if (n === 0) {
        controller.close();
        return;
      }
      const chunk = new Uint8Array(n);
      for (let i = 0; i < n; i++) chunk[i] = snapshotByte(index, sent + i);
      sent += n;
      controller.enqueue(chunk);
    },
  }, { highWaterMark: 0 });
}

/** A snapshot the sink received, every byte checked. */
export interface ReceivedSnapshot {
  from: string;
  index: string;
  bytes: number;
  /** Offset of the first wrong byte, or -1. */
  firstBadByte: number;
}

/** What a member saw; `GET /test/state` returns it as JSON. */
export interface MemberState {
  id: string;
  /** Messages given to `Raft.process`, by sender and type name. */
  received: Record<string, Record<string, number>>;
  /** MsgApps that came out of order or with a wrong entry payload, by sender. */
  badMsgApps: Record<string, number>;
  /** Snapshots received by the sink. */
  snapshots: ReceivedSnapshot[];
  /** Bytes the sink has taken so far, by snapshot index (also while receiving). */
  receiving: Record<string, number>;
  /** `reportUnreachable` calls by peer. */
  unreachable: Record<string, number>;
  /** `reportSnapshot` calls. */
  snapshotReports: { to: string; status: string }[];
  /** Log events by message, and by message, peer and stream where the log names them. */
  events: Record<string, number>;
  /** The latest warnings and errors, for failure messages. */
  warnings: string[];
  /** Per peer: active, streams, queues and counters (`Transport.peerStatus`). */
  peers: Record<string, {
    active: boolean;
    streams: Record<string, { outgoing: boolean; incoming: boolean }>;
    stats: Record<string, unknown>;
  }>;
}

/** What `POST /test/send` takes. */
export interface SendRequest {
  to: string;
  messages: { type: keyof typeof MessageType; count: number; entryBytes?: number }[];
}

/** A Transport, a recording Raft and the test API around them. */
export class Member {
  readonly config: MemberConfig;
  readonly transport: Transport;
  #received = new Map<string, Map<string, number>>();
  #lastApp = new Map<string, bigint>();
  #badApps = new Map<string, number>();
  #snapshots: ReceivedSnapshot[] = [];
  #receiving = new Map<string, number>();
  #holds = new Map<string, () => void>();
  #unreachable = new Map<string, number>();
  #snapshotReports: { to: string; status: string }[] = [];
  #events = new Map<string, number>();
  #warnings: string[] = [];
  #seq = new Map<bigint, bigint>();
  #raftHandler: (req: Request) => Promise<Response>;

  constructor(config: MemberConfig) {
    this.config = config;
    const raft: Raft = {
      process: (m) => this.#process(m),
      isIDRemoved: () => false,
      reportUnreachable: (id) => bump(this.#unreachable, String(id)),
      reportSnapshot: (id, status) =>
        this.#snapshotReports.push({ to: String(id), status: SnapshotStatus[status] }),
    };
    const sink: SnapshotSink = { save: (m, data) => this.#save(m, data) };
    this.transport = new Transport({
      id: config.id,
      clusterId: config.clusterId,
      urls: [config.url],
      raft,
      snapshot: { sink },
      logger: this.#logger(config.log ?? "warn"),
      probeIntervalMs: 0,
      // No rate limit on repeated log events: the tests count them.
      logIntervalMs: 0,
      ...config.options,
    });
    for (const [id, url] of config.peers) this.transport.addPeer(id, [url]);
    this.#raftHandler = this.transport.handler();
  }

  /** Starts dialling the peers. */
  start(): void {
    this.transport.start();
  }

  /** Stops the transport. */
  stop(): Promise<void> {
    return this.transport.stop();
  }

  /** Serves `/raft...` with the transport's handler and `/test/...` with the test API. */
  fetch = async (req: Request): Promise<Response> => {
    const path = new URL(req.url).pathname;
    if (path === "/raft" || path.startsWith("/raft/")) return this.#raftHandler(req);
    try {
      if (path === "/test/state" && req.method === "GET") return json(this.state());
      if (path === "/test/send" && req.method === "POST") {
        return json({ sent: this.send(await req.json() as SendRequest) });
      }
      if (path === "/test/snapshot" && req.method === "POST") {
        const { to, index, size, holdAt } = await req.json() as {
          to: string;
          index: string;
          size: number;
          holdAt?: number;
        };
        const started = Date.now();
        const ok = await this.sendSnapshot(BigInt(to), BigInt(index), size, holdAt);
        return json({ ok, ms: Date.now() - started });
      }
      if (path === "/test/release" && req.method === "POST") {
        const { index } = await req.json() as { index: string };
        return json({ released: this.release(BigInt(index)) });
      }
    } catch (e) {
      return new Response(`${e instanceof Error ? e.stack : e}\n`, { status: 500 });
    }
    return new Response("not found\n", { status: 404 });
  };

  /** Sends the messages described; returns how many were handed to the transport. */
  send(req: SendRequest): number {
    const to = BigInt(req.to);
    const out: Message[] = [];
    for (const { type, count, entryBytes = 64 } of req.messages) {
      const t = MessageType[type];
      if (t === undefined) throw new Error(`unknown message type ${type}`);
      for (let i = 0; i < count; i++) out.push(this.#message(t, to, entryBytes));
    }
    this.transport.send(out);
    return out.length;
  }

  /**
   * Sends test snapshot `index` of `size` bytes; resolves with its outcome.
   * With `holdAt`, the data stops after that many bytes until {@link release}.
   */
  sendSnapshot(to: bigint, index: bigint, size: number, holdAt?: number): Promise<boolean> {
    const m = create(MessageSchema, {
      type: MessageType.MsgSnap,
      from: this.config.id,
      to,
      term: 1n,
      snapshot: { metadata: { index, term: 1n, confState: { voters: [this.config.id, to] } } },
    });
    const hold = holdAt === undefined ? undefined : {
      at: holdAt,
      wait: () => new Promise<void>((resolve) => this.#holds.set(String(index), resolve)),
    };
    const snap = new SnapshotMessage(m, snapshotData(index, size, hold), size);
    this.transport.sendSnapshot(snap);
    return snap.done;
  }

  /** Lets held snapshot `index` go on; false if it is not (yet) held. */
  release(index: bigint): boolean {
    const resolve = this.#holds.get(String(index));
    this.#holds.delete(String(index));
    resolve?.();
    return resolve !== undefined;
  }

  /** What this member saw, as `GET /test/state` returns it. */
  state(): MemberState {
    const peers: MemberState["peers"] = {};
    for (const id of this.transport.peers()) {
      const s = this.transport.peerStatus(id)!;
      peers[String(id)] = {
        active: s.activeSince !== undefined,
        streams: s.streams,
        stats: s.stats as unknown as Record<string, unknown>,
      };
    }
    return {
      id: String(this.config.id),
      received: Object.fromEntries(
        [...this.#received].map(([from, byType]) => [from, Object.fromEntries(byType)]),
      ),
      badMsgApps: Object.fromEntries(this.#badApps),
      snapshots: [...this.#snapshots],
      receiving: Object.fromEntries(this.#receiving),
      unreachable: Object.fromEntries(this.#unreachable),
      snapshotReports: [...this.#snapshotReports],
      events: Object.fromEntries(this.#events),
      warnings: [...this.#warnings],
      peers,
    };
  }

  #message(type: MessageType, to: bigint, entryBytes: number): Message {
    // Numbered from the clock, so that a restarted member goes on above
    // what it sent before (the receiver checks that MsgApps never go back).
    const seq = (this.#seq.get(to) ?? BigInt(Date.now()) << 10n) + 1n;
    this.#seq.set(to, seq);
    const base = { type, from: this.config.id, to, term: 1n };
    switch (type) {
      case MessageType.MsgApp:
        return create(MessageSchema, {
          ...base,
          logTerm: 1n,
          index: seq - 1n,
          commit: seq - 1n,
          entries: [
            create(EntrySchema, {
              term: 1n,
              index: seq,
              data: new Uint8Array(entryBytes).fill(Number(seq & 0xffn)),
            }),
          ],
        });
      case MessageType.MsgHeartbeat:
        return create(MessageSchema, { ...base, commit: seq });
      case MessageType.MsgVote:
      case MessageType.MsgPreVote:
        return create(MessageSchema, { ...base, term: seq, logTerm: 1n, index: seq });
      default:
        return create(MessageSchema, { ...base, index: seq });
    }
  }

  #process(m: Message): void {
    const from = String(m.from);
    let byType = this.#received.get(from);
    if (byType === undefined) this.#received.set(from, byType = new Map());
    bump(byType, MessageType[m.type] ?? String(m.type));
    if (m.type === MessageType.MsgApp) {
      // Sent with index = seq - 1 and one entry of seq's low byte: check both.
      const e = m.entries[0];
      const expected = (this.#lastApp.get(from) ?? -1n) + 1n;
      const ok = m.index >= expected && e !== undefined && e.index === m.index + 1n &&
        e.data.every((b) => b === Number(e.index & 0xffn));
      if (!ok) bump(this.#badApps, from);
      this.#lastApp.set(from, m.index);
    }
  }

  async #save(m: Message, data: ReadableStream<Uint8Array>): Promise<void> {
    const index = m.snapshot?.metadata?.index ?? 0n;
    let bytes = 0;
    let firstBadByte = -1;
    for await (const chunk of data) {
      if (firstBadByte < 0) {
        for (let i = 0; i < chunk.length; i++) {
          if (chunk[i] !== snapshotByte(index, bytes + i)) {
            firstBadByte = bytes + i;
            break;
          }
        }
      }
      bytes += chunk.length;
      this.#receiving.set(String(index), bytes);
    }
    this.#snapshots.push({ from: String(m.from), index: String(index), bytes, firstBadByte });
  }

  #logger(level: LogLevel | "none"): Logger {
    const levels: LogLevel[] = ["debug", "info", "warn", "error"];
    const min = level === "none" ? 4 : levels.indexOf(level);
    const line = (l: LogLevel, msg: string, f?: LogFields) =>
      `[${this.config.id}] ${l}: ${msg}${
        f === undefined
          ? ""
          : " " + JSON.stringify(f, (_k, v) => typeof v === "bigint" ? `${v}` : v)
      }`;
    const log = (l: LogLevel) => (msg: string, f?: LogFields) => {
      bump(this.#events, msg);
      const peer = f?.["remote-peer-id"];
      if (peer !== undefined) {
        const stream = f?.["stream-type"];
        bump(this.#events, `${msg} peer=${peer}${stream ? ` stream=${stream}` : ""}`);
      }
      if (l === "warn" || l === "error") {
        this.#warnings.push(line(l, msg, f));
        if (this.#warnings.length > 50) this.#warnings.shift();
      }
      if (levels.indexOf(l) >= min) console.log(line(l, msg, f));
    };
    return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
  }
}

function bump(m: Map<string, number>, key: string): void {
  m.set(key, (m.get(key) ?? 0) + 1);
}

function json(v: unknown): Response {
  return new Response(JSON.stringify(v, (_k, x) => typeof x === "bigint" ? `${x}` : x), {
    headers: { "Content-Type": "application/json" },
  });
}
