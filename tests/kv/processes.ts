// KV members as OS processes on 127.0.0.1 (`examples/kv/main.ts`), for the
// multi-process tests: start, SIGKILL, restart, wait for their exit, and
// read their test-hook status. Every child is killed and every temp dir
// removed by `close()`.

import { freePorts } from "../../bench/ports.ts";

const MAIN = new URL("../../apps/kv/main.ts", import.meta.url);

/** A member's raft status, from `GET /_test/status`. */
export interface MemberStatus {
  id: string;
  term: string;
  lead: string;
  state: string;
  commit: string;
  applied: string;
  snapshotIndex: string;
  snapshotsReceived: number;
  firstIndex: string;
  lastIndex: string;
  keys: number;
  voters: string[];
}

interface Member {
  id: number;
  peerPort: number;
  apiPort: number;
  dataDir: string;
  child?: Deno.ChildProcess;
  exited?: Promise<Deno.CommandStatus>;
  log: string[];
}

/** Flags every member of a test cluster gets. */
export interface ClusterFlags {
  snapshotCount?: number;
  catchUpEntries?: number;
  requestTimeoutMs?: number;
  /** Our members run with --raftexample-compat. */
  raftexampleCompat?: boolean;
  /**
   * Members run by Go raftexample's binary `bin` instead of ours (mixed
   * clusters): each in its own directory (it keeps raftexample-ID and
   * raftexample-ID-snap in its working directory). They have no test hooks.
   */
  raftexample?: { bin: string; ids: number[] };
}

/** Up to `max` members (ids 1..max), the first `initial` of them in the initial --cluster. */
export class ProcessCluster {
  readonly members = new Map<number, Member>();
  readonly #root: string;
  readonly #flags: ClusterFlags;
  readonly #initial: number;

  private constructor(root: string, max: number, initial: number, flags: ClusterFlags) {
    this.#root = root;
    this.#flags = flags;
    this.#initial = initial;
    const ports = freePorts(2 * max);
    for (let id = 1; id <= max; id++) {
      this.members.set(id, {
        id,
        peerPort: ports[2 * id - 2],
        apiPort: ports[2 * id - 1],
        dataDir: `${root}/m${id}`,
        log: [],
      });
    }
  }

  /** Reserves ports and a temp dir; starts nothing. */
  static async create(max: number, initial: number, flags: ClusterFlags = {}) {
    return new ProcessCluster(
      await Deno.makeTempDir({ prefix: "kv-cluster-" }),
      max,
      initial,
      flags,
    );
  }

  #m(id: number): Member {
    const m = this.members.get(id);
    if (m === undefined) throw new Error(`no member ${id} in this test cluster`);
    return m;
  }

  /** Peer URL of member `id`. */
  peerUrl(id: number): string {
    return `http://127.0.0.1:${this.#m(id).peerPort}`;
  }

  /** Data directory of member `id` (for raftexample: its working directory). */
  memberDir(id: number): string {
    return this.#m(id).dataDir;
  }

  /** Key-value API base URL of member `id`. */
  apiUrl(id: number): string {
    return `http://127.0.0.1:${this.#m(id).apiPort}`;
  }

  /** Starts member `id`; a member beyond the initial ones joins (--join, --cluster up to it). */
  start(id: number): void {
    const m = this.#m(id);
    if (m.child !== undefined) throw new Error(`member ${id} is already running`);
    const n = Math.max(this.#initial, id);
    const cluster = Array.from({ length: n }, (_, i) => this.peerUrl(i + 1)).join(",");
    const f = this.#flags;
    if (this.isRaftexample(id)) {
      Deno.mkdirSync(m.dataDir, { recursive: true });
      const args = [`--id=${id}`, `--cluster=${cluster}`, `--port=${m.apiPort}`];
      if (id > this.#initial) args.push("--join");
      this.#spawn(m, f.raftexample!.bin, args, m.dataDir);
      return;
    }
    const args = [
      "run",
      "-A",
      MAIN.href,
      `--id=${id}`,
      `--cluster=${cluster}`,
      `--port=${m.apiPort}`,
      `--data-dir=${m.dataDir}`,
      `--snapshot-count=${f.snapshotCount ?? 10000}`,
      `--catch-up-entries=${f.catchUpEntries ?? 10000}`,
      `--request-timeout-ms=${f.requestTimeoutMs ?? 5000}`,
      "--test-hooks",
    ];
    if (f.raftexampleCompat) args.push("--raftexample-compat");
    if (id > this.#initial) args.push("--join");
    this.#spawn(m, Deno.execPath(), args);
  }

  /** True if member `id` is run by Go raftexample. */
  isRaftexample(id: number): boolean {
    return this.#flags.raftexample?.ids.includes(id) ?? false;
  }

  #spawn(m: Member, cmd: string, args: string[], cwd?: string): void {
    const id = m.id;
    const child = new Deno.Command(cmd, {
      args,
      cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    m.child = child;
    const collect = async (s: ReadableStream<Uint8Array>, tag: string) => {
      for await (const line of s.pipeThrough(new TextDecoderStream()).values()) {
        m.log.push(...line.split("\n").filter((l) => l !== "").map((l) => `[${id} ${tag}] ${l}`));
      }
    };
    const drained = Promise.all([collect(child.stdout, "out"), collect(child.stderr, "err")]);
    m.exited = Promise.all([child.status, drained]).then(([s]) => {
      m.child = undefined;
      return s;
    });
  }

  /** True while member `id`'s process runs. */
  running(id: number): boolean {
    return this.#m(id).child !== undefined;
  }

  /** Kills member `id` (SIGKILL by default) and waits until it is gone. */
  async kill(id: number, signal: Deno.Signal = "SIGKILL"): Promise<void> {
    const m = this.#m(id);
    if (m.child === undefined) return;
    try {
      m.child.kill(signal);
    } catch { /* already exited */ }
    await m.exited;
  }

  /** Waits for member `id` to exit by itself; its exit status. */
  async exited(id: number, timeoutMs: number): Promise<Deno.CommandStatus> {
    const m = this.#m(id);
    if (m.exited === undefined) throw new Error(`member ${id} was never started`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`member ${id} did not exit within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([m.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Member `id`'s status, or undefined if it does not answer. */
  async status(id: number): Promise<MemberStatus | undefined> {
    try {
      const r = await fetch(`${this.apiUrl(id)}/_test/status`, {
        signal: AbortSignal.timeout(1000),
      });
      if (r.status !== 200) {
        await r.body?.cancel();
        return undefined;
      }
      return await r.json() as MemberStatus;
    } catch {
      return undefined;
    }
  }

  /** Polls `check` every 100 ms until it returns a value; throws after `timeoutMs`. */
  async until<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const v = await check();
      if (v !== undefined) return v;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${this.logs()}`);
  }

  /** The id of the leader that the running members in `ids` agree on. */
  leader(ids: number[], timeoutMs = 10_000): Promise<number> {
    return this.until(`a leader among ${ids}`, timeoutMs, async () => {
      const all = await Promise.all(ids.map((id) => this.status(id)));
      const leaders = all.filter((s) => s?.state === "leader");
      if (leaders.length !== 1) return undefined;
      const lead = leaders[0]!.id;
      return all.every((s) => s?.lead === lead) ? Number(lead) : undefined;
    });
  }

  /** The last lines each member printed, for failure messages. */
  logs(lines = 15): string {
    return [...this.members.values()].map((m) => m.log.slice(-lines).join("\n")).join("\n");
  }

  /** Kills every member and removes the data directories. */
  async close(): Promise<void> {
    await Promise.all([...this.members.keys()].map((id) => this.kill(id)));
    await Deno.remove(this.#root, { recursive: true }).catch(() => {});
  }
}
