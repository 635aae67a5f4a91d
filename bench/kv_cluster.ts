/**
 * Three local members of a key-value service, for kv-bench, kv-compare and
 * kv-trace: started as child processes in a work directory, waited on until
 * a write becomes readable everywhere, and always stopped (SIGTERM, then
 * SIGKILL) however the bench ends. The HTTP API is raftexample's
 * (`PUT /KEY`, body = value) unless the implementation names another
 * ({@link etcdV2Api}).
 *
 * @module
 */

import { freePorts } from "./ports.ts";

/** How to run one implementation's member. */
export interface KvImpl {
  /** Name in the results table. */
  name: string;
  /** The process of member `id` (1-based) of `cluster` (peer URLs), serving the KV API on `port`. */
  command(id: number, cluster: string[], port: number, dataDir: string): {
    cmd: string;
    args: string[];
  };
  /** Appended to GET /KEY for a local read (raftexample treats a query as part of the key). */
  localReadSuffix: string;
  /** Whether a PUT is answered only after it is committed (false for raftexample). */
  acksAfterCommit: boolean;
  /** The HTTP API; default {@link raftexampleApi} with `localReadSuffix`. */
  api?: KvApi;
  /**
   * Makes member 1 the leader of the running cluster `c` (so that a lone
   * client, which writes through member 1, meets the same path on every
   * implementation); absent where the implementation cannot move its leader.
   */
  leadOnFirst?(c: KvCluster): Promise<void>;
}

/** How a load client writes and reads one key of an implementation's HTTP API. */
export interface KvApi {
  /** The request that sets `key` (no leading `/`) to `value` on the member at `base`. */
  put(base: string, key: string, value: string): { url: string; init: RequestInit };
  /** Whether a PUT's answer means the write was done. */
  putDone(status: number): boolean;
  /** The URL of a local (not linearizable) read of `key`. */
  readUrl(base: string, key: string): string;
  /** The value in a read's answer, undefined for a missing key or an error. */
  readValue(status: number, body: string): string | undefined;
}

/** raftexample's API (ours too): `PUT /KEY` with the value as body, 204; `GET /KEY`. */
export function raftexampleApi(localReadSuffix: string): KvApi {
  return {
    put: (base, key, value) => ({ url: `${base}/${key}`, init: { method: "PUT", body: value } }),
    putDone: (status) => status === 204,
    readUrl: (base, key) => `${base}/${key}${localReadSuffix}`,
    readValue: (status, body) => status === 200 ? body : undefined,
  };
}

const FORM = { "content-type": "application/x-www-form-urlencoded" };

/**
 * etcd's v2 keys API: `PUT /v2/keys/KEY` with the form body `value=...`,
 * 201 (created) or 200 (replaced), answered once applied; `GET /v2/keys/KEY`
 * reads the member's own store (JSON, the value in `node.value`).
 */
export const etcdV2Api: KvApi = {
  put: (base, key, value) => ({
    url: `${base}/v2/keys/${key}`,
    init: { method: "PUT", headers: FORM, body: `value=${encodeURIComponent(value)}` },
  }),
  putDone: (status) => status === 200 || status === 201,
  readUrl: (base, key) => `${base}/v2/keys/${key}`,
  readValue: (status, body) => {
    if (status !== 200) return undefined;
    try {
      const v = JSON.parse(body)?.node?.value;
      return typeof v === "string" ? v : undefined;
    } catch {
      return undefined;
    }
  },
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Whether `p` settles within `ms`; the timer is cleared either way.
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<boolean>((r) => timer = setTimeout(() => r(false), ms));
  try {
    return await Promise.race([p.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Sends one request; resolves with status and body, or undefined on failure.
 * `timeout` is a time limit in ms, or a signal shared by many requests (one
 * timer for a whole load phase instead of one per request).
 */
export async function request(
  url: string,
  init: RequestInit = {},
  timeout: number | AbortSignal = 2000,
): Promise<{ status: number; body: string } | undefined> {
  try {
    const signal = typeof timeout === "number" ? AbortSignal.timeout(timeout) : timeout;
    const res = await fetch(url, { ...init, signal });
    return { status: res.status, body: await res.text() };
  } catch {
    return undefined;
  }
}

/**
 * User + system CPU time of process `pid` (`"self"` for this one), ms, from
 * /proc (clock ticks of 10 ms); undefined where /proc is not readable.
 */
export function processCpuMs(pid: number | "self"): number | undefined {
  try {
    const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** A running three-member cluster. */
export class KvCluster {
  #children: Deno.ChildProcess[] = [];
  #logs: Deno.FsFile[] = [];
  /** Base URLs of the members' KV APIs, member 1 first. */
  readonly apis: string[] = [];
  /** The implementation's HTTP API. */
  readonly api: KvApi;

  private constructor(readonly impl: KvImpl, readonly workDir: string) {
    this.api = impl.api ?? raftexampleApi(impl.localReadSuffix);
  }

  /** PUTs `key` = `value` on the member at `base`; true once the member says it is done. */
  async put(
    base: string,
    key: string,
    value: string,
    timeout: number | AbortSignal = 2000,
  ): Promise<boolean> {
    const { url, init } = this.api.put(base, key, value);
    const r = await request(url, init, timeout);
    return r !== undefined && this.api.putDone(r.status);
  }

  /** A local read of `key` on the member at `base` (undefined: missing, or the request failed). */
  async readLocal(base: string, key: string, timeout = 2000): Promise<string | undefined> {
    const r = await request(this.api.readUrl(base, key), {}, timeout);
    return r === undefined ? undefined : this.api.readValue(r.status, r.body);
  }

  /** Starts the members, in `workDir` (raftexample writes its data directories in its cwd). */
  static async start(impl: KvImpl, workDir: string, size = 3): Promise<KvCluster> {
    const c = new KvCluster(impl, workDir);
    const ports = freePorts(2 * size);
    const peers = ports.slice(0, size).map((p) => `http://127.0.0.1:${p}`);
    try {
      for (let id = 1; id <= size; id++) {
        const kvPort = ports[size + id - 1];
        const { cmd, args } = impl.command(id, peers, kvPort, `${workDir}/data-${id}`);
        const log = await Deno.open(`${workDir}/member-${id}.log`, { write: true, create: true });
        c.#logs.push(log);
        const child = new Deno.Command(cmd, {
          args,
          cwd: workDir,
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        c.#children.push(child);
        // Both streams into one log file; the file is closed when both end.
        child.stdout.pipeTo(log.writable, { preventClose: true }).catch(() => {});
        child.stderr.pipeTo(log.writable, { preventClose: true }).catch(() => {});
        c.apis.push(`http://127.0.0.1:${kvPort}`);
      }
    } catch (e) {
      await c.stop();
      throw e;
    }
    return c;
  }

  /**
   * Waits until a write through member 1 is readable on every member (a
   * leader exists and replicates). raftexample drops proposals made before
   * a leader is known while still answering 204, hence the retries.
   */
  async waitReady(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      const exited = await this.exitedMember();
      if (exited !== undefined) throw new Error(`member ${exited} exited during startup`);
      const key = `bench-ready-${attempt}`;
      if (
        await this.put(this.apis[0], key, "ok") && await this.readableEverywhere(key, "ok", 1000)
      ) {
        return;
      }
      await sleep(200);
    }
    throw new Error(
      `${this.impl.name}: no write became readable on all members in ${timeoutMs} ms`,
    );
  }

  /** Whether `key` reads `value` on every member (local reads) within `timeoutMs`. */
  async readableEverywhere(key: string, value: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const pending = new Set(this.apis);
    while (pending.size > 0 && Date.now() < deadline) {
      for (const api of [...pending]) {
        if (await this.readLocal(api, key, 1000) === value) pending.delete(api);
      }
      if (pending.size > 0) await sleep(10);
    }
    return pending.size === 0;
  }

  /** The id of a member that already exited, if any. */
  async exitedMember(): Promise<number | undefined> {
    for (const [i, child] of this.#children.entries()) {
      if (await settlesWithin(child.status, 0)) return i + 1;
    }
    return undefined;
  }

  /**
   * CPU time (user + system) the member processes have used so far, ms, from
   * /proc; undefined where /proc is not readable.
   */
  membersCpuMs(): number | undefined {
    let sum = 0;
    for (const child of this.#children) {
      const ms = processCpuMs(child.pid);
      if (ms === undefined) return undefined;
      sum += ms;
    }
    return sum;
  }

  /** The last lines of a member's log, for error messages. */
  async logTail(id: number, lines = 15): Promise<string> {
    const text = await Deno.readTextFile(`${this.workDir}/member-${id}.log`).catch(() => "");
    return text.trimEnd().split("\n").slice(-lines).join("\n");
  }

  /** Stops every member: SIGTERM, and SIGKILL for any still running after 3 s. */
  async stop(): Promise<void> {
    await Promise.all(this.#children.map(async (child) => {
      try {
        child.kill("SIGTERM");
      } catch { /* already exited */ }
      if (!await settlesWithin(child.status, 3000)) {
        try {
          child.kill("SIGKILL");
        } catch { /* exited meanwhile */ }
        await child.status;
      }
    }));
    await sleep(50); // let the log pipes drain
    for (const log of this.#logs) log.close();
    this.#children = [];
    this.#logs = [];
  }
}
