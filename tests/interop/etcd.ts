// Running real etcd processes for interop tests: free loopback ports, a
// temporary data dir each, stderr (zap JSON logs) captured and searchable,
// teardown by pid that also runs when a test fails, and a small client over
// etcd's JSON gateway (`/v3/...` on the client URL).

import { freePort, sleep } from "../harness.ts";

export { freePort, sleep };

/** Set to 1 (as CI does) to fail instead of skipping when etcd is missing. */
export const REQUIRE_ETCD = Deno.env.get("RAFTHTTP_REQUIRE_ETCD") === "1";
/** The etcd binary: `RAFTHTTP_ETCD` or `etcd` on PATH. */
export const ETCD_BIN = Deno.env.get("RAFTHTTP_ETCD") ?? "etcd";
/** Set to 1 to echo etcd's log lines and our transport's warnings while tests run. */
export const VERBOSE = Deno.env.get("RAFTHTTP_INTEROP_VERBOSE") === "1";

async function probeEtcd(): Promise<string | undefined> {
  try {
    const out = await new Deno.Command(ETCD_BIN, {
      args: ["--version"],
      stdout: "piped",
      stderr: "null",
    }).output();
    if (!out.success) return undefined;
    return /etcd Version: (\S+)/.exec(new TextDecoder().decode(out.stdout))?.[1] ?? "unknown";
  } catch {
    return undefined;
  }
}

/** The version of the etcd found, or undefined when there is none. */
export const ETCD_VERSION = await probeEtcd();

let skipNoted = false;

/**
 * Registers an interop test. Without etcd it is skipped with a note, unless
 * RAFTHTTP_REQUIRE_ETCD=1, in which case it fails saying why.
 */
export function interopTest(name: string, fn: () => Promise<void>): void {
  const missing = ETCD_VERSION === undefined;
  if (missing && !REQUIRE_ETCD && !skipNoted) {
    skipNoted = true;
    console.warn(
      `interop: '${ETCD_BIN}' not found; the etcd interop tests are skipped ` +
        `(install etcd 3.4, e.g. apt-get install etcd-server etcd-client; ` +
        `set RAFTHTTP_REQUIRE_ETCD=1 to make this a failure)`,
    );
  }
  Deno.test({
    name: `interop: ${name}`,
    ignore: missing && !REQUIRE_ETCD,
    async fn() {
      if (missing) {
        throw new Error(
          `RAFTHTTP_REQUIRE_ETCD=1 but '${ETCD_BIN}' cannot be run; install etcd 3.4 ` +
            `(apt-get install etcd-server etcd-client)`,
        );
      }
      await fn();
    },
  });
}

/** One zap log line of etcd, parsed. */
export type EtcdLog = Record<string, unknown> & { level?: string; msg?: string };

/** How to start one etcd member. */
export interface EtcdOptions {
  name: string;
  peerPort: number;
  clientPort: number;
  /** `name -> peer URL` of every bootstrap member, this one included. */
  initialCluster: Record<string, string>;
  token: string;
  /** `--snapshot-count` (etcd's default is 100000). */
  snapshotCount?: number;
  /** `--pre-vote` (etcd 3.4's default is false). */
  preVote?: boolean;
  extraArgs?: string[];
  /** Working directory (where a `unix://host:port` listener puts its socket file). */
  cwd?: string;
  /**
   * Peer TLS: https peer URLs, and etcd's `--peer-client-cert-auth` with
   * this CA and certificate (file paths).
   */
  peerTls?: { caFile: string; certFile: string; keyFile: string };
}

/** One etcd process. */
export class Etcd {
  readonly name: string;
  readonly peerUrl: string;
  readonly clientUrl: string;
  readonly dataDir: string;
  /** Every stderr line, as it came. */
  readonly lines: string[] = [];
  /** The lines that are zap JSON, parsed. */
  readonly logs: EtcdLog[] = [];
  readonly #child: Deno.ChildProcess;
  readonly #pump: Promise<void>;
  #exit: Deno.CommandStatus | undefined;
  readonly #status: Promise<Deno.CommandStatus>;
  #stopping: Promise<void> | undefined;

  private constructor(o: EtcdOptions, dataDir: string) {
    this.name = o.name;
    this.peerUrl = `${o.peerTls === undefined ? "http" : "https"}://127.0.0.1:${o.peerPort}`;
    this.clientUrl = `http://127.0.0.1:${o.clientPort}`;
    this.dataDir = dataDir;
    const args = [
      "--name",
      o.name,
      "--data-dir",
      dataDir,
      "--listen-peer-urls",
      this.peerUrl,
      "--initial-advertise-peer-urls",
      this.peerUrl,
      "--listen-client-urls",
      this.clientUrl,
      "--advertise-client-urls",
      this.clientUrl,
      "--initial-cluster",
      Object.entries(o.initialCluster).map(([n, u]) => `${n}=${u}`).join(","),
      "--initial-cluster-token",
      o.token,
      "--initial-cluster-state",
      "new",
      "--heartbeat-interval",
      "100",
      "--election-timeout",
      "1000",
      "--snapshot-count",
      String(o.snapshotCount ?? 100000),
      `--pre-vote=${o.preVote ?? false}`,
      "--logger",
      "zap",
      "--log-outputs",
      "stderr",
      ...(o.peerTls === undefined ? [] : [
        "--peer-client-cert-auth",
        "--peer-trusted-ca-file",
        o.peerTls.caFile,
        "--peer-cert-file",
        o.peerTls.certFile,
        "--peer-key-file",
        o.peerTls.keyFile,
      ]),
      ...(o.extraArgs ?? []),
    ];
    this.#child = new Deno.Command(ETCD_BIN, {
      args,
      cwd: o.cwd,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.#status = this.#child.status.then((s) => this.#exit = s);
    this.#pump = this.#readStderr(this.#child.stderr);
  }

  /** Starts etcd in a fresh temp dir; see {@link Etcd.stop} for teardown. */
  static async start(o: EtcdOptions): Promise<Etcd> {
    const dir = await Deno.makeTempDir({ prefix: `rafthttp-etcd-${o.name}-` });
    return new Etcd(o, dir);
  }

  get pid(): number {
    return this.#child.pid;
  }

  /** The exit status once the process ended. */
  get exited(): Deno.CommandStatus | undefined {
    return this.#exit;
  }

  async #readStderr(stream: ReadableStream<Uint8Array>): Promise<void> {
    let rest = "";
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      rest += text;
      let nl: number;
      while ((nl = rest.indexOf("\n")) >= 0) {
        const line = rest.slice(0, nl);
        rest = rest.slice(nl + 1);
        this.#line(line);
      }
    }
    if (rest !== "") this.#line(rest);
  }

  #line(line: string): void {
    this.lines.push(line);
    if (VERBOSE) console.error(`[${this.name}] ${line}`);
    if (!line.startsWith("{")) return;
    try {
      this.logs.push(JSON.parse(line));
    } catch {
      // not a JSON line (a Go panic, say): kept in `lines` only
    }
  }

  /** The log lines whose `msg` is `msg` and whose fields include `fields`. */
  find(msg: string, fields: Record<string, unknown> = {}): EtcdLog[] {
    return this.logs.filter((l) =>
      l.msg === msg && Object.entries(fields).every(([k, v]) => l[k] === v)
    );
  }

  /** The last `n` stderr lines, for error messages. */
  tail(n = 20): string {
    return this.lines.slice(-n).join("\n");
  }

  /** Waits until etcd accepts TCP connections on its peer and client ports. */
  async waitListening(ms = 20000): Promise<void> {
    const end = Date.now() + ms;
    for (const url of [this.peerUrl, this.clientUrl]) {
      const port = Number(new URL(url).port);
      for (;;) {
        if (this.#exit !== undefined) {
          throw new Error(`etcd ${this.name} exited (${this.#exit.code}):\n${this.tail()}`);
        }
        try {
          const c = await Deno.connect({ hostname: "127.0.0.1", port });
          c.close();
          break;
        } catch {
          if (Date.now() > end) throw new Error(`etcd ${this.name} is not listening on ${url}`);
          await sleep(50);
        }
      }
    }
  }

  /** Stops etcd (SIGTERM, then SIGKILL after 5 s), waits for it and removes its data dir. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      if (this.#exit === undefined) {
        try {
          this.#child.kill("SIGTERM");
        } catch {
          // already gone
        }
        let timer: ReturnType<typeof setTimeout> | undefined;
        const killed = new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            try {
              this.#child.kill("SIGKILL");
            } catch {
              // already gone
            }
            resolve();
          }, 5000);
        });
        await Promise.race([this.#status, killed]);
        clearTimeout(timer);
      }
      await this.#status;
      await this.#pump;
      await Deno.remove(this.dataDir, { recursive: true }).catch(() => {});
    })();
    return this.#stopping;
  }

  // ---- client API through the JSON gateway ----

  /** POSTs `body` to `/v3/<path>`; returns the JSON reply, throws on a non-200. */
  async call(path: string, body: unknown, timeoutMs = 10000): Promise<Record<string, unknown>> {
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${this.clientUrl}/v3/${path}`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await res.text();
    } catch (e) {
      throw new Error(`etcd ${this.name} /v3/${path}: ${(e as Error).message}`, { cause: e });
    }
    if (res.status !== 200) {
      throw new Error(`etcd ${this.name} /v3/${path}: ${res.status} ${text}`);
    }
    return JSON.parse(text);
  }

  /** Writes one key (strings as UTF-8). */
  async put(key: string, value: string): Promise<void> {
    await this.call("kv/put", { key: b64(key), value: b64(value) });
  }

  /** Reads every key starting with `prefix`, as a map. */
  async rangePrefix(prefix: string): Promise<Map<string, string>> {
    const r = await this.call("kv/range", { key: b64(prefix), range_end: b64(prefixEnd(prefix)) });
    const kvs = (r.kvs ?? []) as { key: string; value?: string }[];
    return new Map(kvs.map((kv) => [unb64(kv.key), unb64(kv.value ?? "")]));
  }

  /** The member's status: `leader`, `raftIndex`, `raftTerm` (as bigint) and `dbSize`. */
  async status(): Promise<{ leader: bigint; raftIndex: bigint; raftTerm: bigint; dbSize: number }> {
    const r = await this.call("maintenance/status", {});
    return {
      leader: BigInt((r.leader as string | undefined) ?? "0"),
      raftIndex: BigInt((r.raftIndex as string | undefined) ?? "0"),
      raftTerm: BigInt((r.raftTerm as string | undefined) ?? "0"),
      dbSize: Number(r.dbSize ?? 0),
    };
  }
}

function b64(s: string): string {
  const bytes = new TextEncoder().encode(s);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

function unb64(s: string): string {
  const bin = atob(s);
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

/** The end of the range of keys with `prefix` (the prefix with its last byte + 1). */
function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/**
 * Runs `count` puts with `concurrency` of them in flight; `make(i)` gives
 * key and value of put i. Transient errors (no leader yet) are retried.
 */
export async function putMany(
  etcd: Etcd,
  count: number,
  make: (i: number) => [string, string],
  concurrency = 16,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const [k, v] = make(i);
      await retry(() => etcd.put(k, v), `put ${k}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** Retries `fn` on errors for up to `ms` (etcd answers "no leader" or "not capable" while starting). */
export async function retry<T>(fn: () => Promise<T>, what: string, ms = 30000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > end) {
        throw new Error(`${what} kept failing for ${ms} ms: ${(e as Error).message}`, {
          cause: e,
        });
      }
      await sleep(200);
    }
  }
}
