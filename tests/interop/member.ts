// The Deno member of a mixed cluster (a Transport driven by the test
// Follower, served on 127.0.0.1; its handler answers GET /version and
// GET /members as an etcd peer does), and the boot of a cluster of real etcd processes plus that member
// with the ids etcd computes.
import { Transport } from "../../src/transport.ts";
import type { TransportOptions } from "../../src/options.ts";
import type { LogFields, Logger, LogLevel } from "../../src/logger.ts";
import { Follower } from "./follower.ts";
import { Etcd, type EtcdOptions, freePort, VERBOSE } from "./etcd.ts";
import { clusterIds, hex } from "./ids.ts";

/** One log call our transport made. */
export interface LogRecord {
  level: LogLevel;
  msg: string;
  fields?: LogFields;
}

/** A logger that keeps every record (and echoes warnings in verbose mode). */
export class RecordingLogger implements Logger {
  readonly records: LogRecord[] = [];
  #add(level: LogLevel, msg: string, fields?: LogFields) {
    this.records.push({ level, msg, fields });
    if (VERBOSE && level !== "debug") {
      const f = JSON.stringify(fields, (_k, v) => typeof v === "bigint" ? v.toString(16) : v);
      console.error(`[deno ${level}] ${msg} ${f ?? ""}`);
    }
  }
  debug(msg: string, fields?: LogFields) {
    this.#add("debug", msg, fields);
  }
  info(msg: string, fields?: LogFields) {
    this.#add("info", msg, fields);
  }
  warn(msg: string, fields?: LogFields) {
    this.#add("warn", msg, fields);
  }
  error(msg: string, fields?: LogFields) {
    this.#add("error", msg, fields);
  }
}

/** How a Deno member runs. */
export interface MemberConfig {
  id: bigint;
  clusterId: bigint;
  /** The other members: id and peer URL. */
  peers: [bigint, string][];
  /** Refuse every stream GET with 503, so peers can only reach us by POST. */
  refuseStreams?: boolean;
  /** More transport options (snapshot, ...). */
  options?: Partial<TransportOptions>;
}

/**
 * The Deno member: an HTTP server on 127.0.0.1 whose handler is bound late,
 * so its port (and from it its id) is known before the transport exists.
 */
export class DenoMember {
  readonly port: number;
  readonly url: string;
  readonly server: Deno.HttpServer<Deno.NetAddr>;
  readonly logger = new RecordingLogger();
  readonly errors: Error[] = [];
  /** Stream GETs refused because of `refuseStreams`. */
  refusedStreams = 0;
  transport: Transport | undefined;
  follower: Follower | undefined;
  #config: MemberConfig | undefined;
  #closed: Promise<void> | undefined;

  private constructor(port: number) {
    this.server = Deno.serve(
      { hostname: "127.0.0.1", port, onListen() {} },
      (req) => this.#handle(req),
    );
    this.port = this.server.addr.port;
    this.url = `http://127.0.0.1:${this.port}`;
  }

  /** Listens on `port` (0: a free one); the raft endpoints answer 503 until {@link start}. */
  static listen(port = 0): DenoMember {
    return new DenoMember(port);
  }

  #handle(req: Request): Promise<Response> | Response {
    const path = new URL(req.url).pathname;
    if (
      path === "/raft" || path.startsWith("/raft/") || path === "/version" || path === "/members"
    ) {
      if (this.transport === undefined) return new Response("not started\n", { status: 503 });
      if (this.#config?.refuseStreams && path.startsWith("/raft/stream/")) {
        this.refusedStreams++;
        return new Response("streams are disabled in this test\n", {
          status: 503,
          headers: { "X-Server-Version": "3.4.23" },
        });
      }
      return this.transport.handler()(req);
    }
    return new Response("404 page not found\n", { status: 404 });
  }

  /** Creates and starts the transport and a fresh follower (empty log, term 0). */
  start(config: MemberConfig): void {
    this.#config = config;
    const follower = new Follower(config.id);
    const transport = new Transport({
      id: config.id,
      clusterId: config.clusterId,
      urls: [this.url],
      raft: follower,
      logger: this.logger,
      onError: (e) => {
        this.errors.push(e);
        this.logger.error(e.message, { error: e.name });
      },
      probeIntervalMs: 0,
      ...config.options,
    });
    follower.transport = transport;
    for (const [id, url] of config.peers) transport.addPeer(id, [url]);
    this.follower = follower;
    this.transport = transport;
    transport.start();
  }

  /** Stops the transport; the server stays up (raft endpoints answer 503). */
  async stopTransport(): Promise<void> {
    const t = this.transport;
    this.transport = undefined;
    await t?.stop();
  }

  /** Stops the transport and the server. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.stopTransport();
      await this.server.shutdown();
    })();
    return this.#closed;
  }
}

/** A running mixed cluster: etcd processes plus one Deno member. */
export class MixedCluster implements AsyncDisposable {
  readonly token: string;
  readonly etcds: Etcd[];
  deno: DenoMember;
  /** Member ids by name; the Deno member is "deno". */
  readonly ids: Record<string, bigint>;
  readonly clusterId: bigint;

  private constructor(
    token: string,
    etcds: Etcd[],
    deno: DenoMember,
    ids: Record<string, bigint>,
    clusterId: bigint,
  ) {
    this.token = token;
    this.etcds = etcds;
    this.deno = deno;
    this.ids = ids;
    this.clusterId = clusterId;
  }

  get denoId(): bigint {
    return this.ids.deno;
  }

  idOf(e: Etcd): bigint {
    return this.ids[e.name];
  }

  /** The Deno member's config, with its peers and the right ids. */
  memberConfig(extra: Partial<MemberConfig> = {}): MemberConfig {
    return {
      id: this.denoId,
      clusterId: this.clusterId,
      peers: this.etcds.map((e) => [this.idOf(e), e.peerUrl]),
      ...extra,
    };
  }

  /**
   * Starts `etcdCount` etcd members and a Deno member listed in etcd's
   * `--initial-cluster`, with the member and cluster ids etcd computes.
   * The Deno transport is started with `member` (unless `member` is
   * false). Ports etcd fails to bind are retried with new ones.
   */
  static async start(
    etcdCount: number,
    opts: {
      etcd?: Partial<EtcdOptions>;
      member?: Partial<MemberConfig> | false;
    } = {},
  ): Promise<MixedCluster> {
    const deno = DenoMember.listen();
    try {
      for (let attempt = 1;; attempt++) {
        const token = `rafthttp-interop-${crypto.randomUUID().slice(0, 8)}`;
        const ports = Array.from({ length: etcdCount }, () => [freePort(), freePort()]);
        const urls: Record<string, string> = {};
        ports.forEach(([peer], i) => urls[`etcd${i + 1}`] = `http://127.0.0.1:${peer}`);
        urls.deno = deno.url;
        const ids = await clusterIds(
          Object.fromEntries(Object.entries(urls).map(([n, u]) => [n, [u]])),
          token,
        );
        const etcds: Etcd[] = [];
        try {
          for (const [i, [peerPort, clientPort]] of ports.entries()) {
            etcds.push(
              await Etcd.start({
                name: `etcd${i + 1}`,
                peerPort,
                clientPort,
                initialCluster: urls,
                token,
                ...opts.etcd,
              }),
            );
          }
          for (const e of etcds) await e.waitListening();
        } catch (e) {
          const portClash = etcds.some((x) =>
            x.lines.some((l) => l.includes("address already in use"))
          );
          await Promise.all(etcds.map((x) => x.stop()));
          if (portClash && attempt < 3) continue;
          throw e;
        }
        const c = new MixedCluster(token, etcds, deno, ids.members, ids.cluster);
        if (opts.member !== false) deno.start(c.memberConfig(opts.member ?? {}));
        return c;
      }
    } catch (e) {
      await deno.close();
      throw e;
    }
  }

  /** The etcd member that etcd says is the leader (asks each in turn). */
  async leader(): Promise<Etcd | undefined> {
    for (const e of this.etcds) {
      try {
        const s = await e.status();
        const l = this.etcds.find((x) => this.idOf(x) === s.leader);
        if (l !== undefined) return l;
      } catch {
        // no answer from this one yet
      }
    }
    return undefined;
  }

  /** Describes the cluster, for assertion messages. */
  describe(): string {
    return Object.entries(this.ids).map(([n, id]) => `${n}=${hex(id)}`).join(" ") +
      ` cluster=${hex(this.clusterId)}`;
  }

  /** Stops everything: the Deno member, then every etcd (by pid), then their data dirs. */
  async close(): Promise<void> {
    await this.deno.close();
    await Promise.all(this.etcds.map((e) => e.stop()));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
