// The test's side of the netns members: each is a subprocess
// (`ip netns exec NS deno run -A tests/netns/member.ts`), driven by one JSON
// command per line on its stdin and answering on its stdout.
import type { TransportOptions } from "../../src/options.ts";
import type { PeerStats } from "../../src/peer/stats.ts";
import type { Lan } from "./netns.ts";

/** One peer as a member reports it. */
export interface PeerReport {
  sent: number;
  received: number;
  unreachable: number[];
  active: boolean;
  streams: Record<"message" | "msgappv2", { outgoing: boolean; incoming: boolean }>;
  queued: Record<string, number>;
  stats: PeerStats;
}

/** A member's answer to "status". */
export interface Status {
  now: number;
  peers: Record<string, PeerReport>;
  snapshots: { from: string; bytes: number }[];
  snapshotReports: [string, string][];
}

const MEMBER = new URL("./member.ts", import.meta.url).pathname;
const PORT = 2380;

/** A member process in its namespace. */
export class Member {
  readonly id: number;
  readonly url: string;
  readonly #proc: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #pending = new Map<number, (v: Record<string, unknown>) => void>();
  readonly #reading: Promise<void>;
  readonly stderr: string[] = [];
  #rid = 0;
  #ready: Promise<Record<string, unknown>>;

  constructor(lan: Lan, id: number, n: number, options: Partial<TransportOptions>) {
    this.id = id;
    this.url = `http://${lan.addr(id)}:${PORT}`;
    const peers: Record<string, string> = {};
    for (let j = 1; j <= n; j++) if (j !== id) peers[j] = `http://${lan.addr(j)}:${PORT}`;
    const cfg = { id: String(id), addr: lan.addr(id), port: PORT, peers, options };
    this.#proc = new Deno.Command("ip", {
      args: [
        "netns",
        "exec",
        lan.ns(id),
        Deno.execPath(),
        "run",
        "-A",
        MEMBER,
        JSON.stringify(cfg),
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#stdin = this.#proc.stdin.getWriter();
    this.#ready = new Promise((r) => this.#pending.set(0, r));
    this.#reading = Promise.all([this.#readOut(), this.#readErr()]).then(() => {});
  }

  async #readOut(): Promise<void> {
    let buf = "";
    for await (const t of this.#proc.stdout.pipeThrough(new TextDecoderStream())) {
      buf += t;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let v: Record<string, unknown>;
        try {
          v = JSON.parse(line);
        } catch {
          this.stderr.push(`stdout: ${line}`);
          continue;
        }
        const rid = v.rid as number;
        this.#pending.get(rid)?.(v);
        this.#pending.delete(rid);
      }
    }
  }

  async #readErr(): Promise<void> {
    for await (const t of this.#proc.stderr.pipeThrough(new TextDecoderStream())) {
      if (this.stderr.length < 200) this.stderr.push(t);
    }
  }

  /** Resolves once the member serves (its first line). */
  async ready(ms = 15000): Promise<void> {
    await this.#timed(this.#ready, ms, "ready");
  }

  async #timed<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
    let t: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      t = setTimeout(
        () =>
          reject(
            new Error(
              `member ${this.id}: no answer to ${what} in ${ms} ms; stderr: ${
                this.stderr.join("").slice(-2000)
              }`,
            ),
          ),
        ms,
      );
    });
    try {
      return await Promise.race([p, timeout]);
    } finally {
      clearTimeout(t);
    }
  }

  /** Sends one command and waits for its answer. */
  async request<T = Record<string, unknown>>(cmd: Record<string, unknown>, ms = 10000): Promise<T> {
    const rid = ++this.#rid;
    const answer = new Promise<Record<string, unknown>>((r) => this.#pending.set(rid, r));
    await this.#stdin.write(new TextEncoder().encode(JSON.stringify({ ...cmd, rid }) + "\n"));
    const v = await this.#timed(answer, ms, String(cmd.cmd));
    if (v.error !== undefined) throw new Error(`member ${this.id}: ${v.error}`);
    return v as T;
  }

  status(): Promise<Status> {
    return this.request<Status>({ cmd: "status" });
  }

  /** Stops the member (gracefully; killed after a few seconds) and waits for its exit. */
  async stop(): Promise<void> {
    try {
      await this.request({ cmd: "stop" }, 5000);
    } catch {
      try {
        this.#proc.kill("SIGKILL");
      } catch { /* gone */ }
    }
    await this.#stdin.close().catch(() => {});
    await this.#proc.status;
    await this.#reading;
  }
}

/** Members 1..n of `lan`, all peers of each other; `await using` stops them. */
export async function startMembers(
  lan: Lan,
  n: number,
  options: Partial<TransportOptions>,
): Promise<Member[] & AsyncDisposable> {
  const members = Array.from({ length: n }, (_, i) => new Member(lan, i + 1, n, options));
  const all = Object.assign(members, {
    [Symbol.asyncDispose]: () => Promise.all(members.map((m) => m.stop())).then(() => {}),
  });
  try {
    await Promise.all(members.map((m) => m.ready()));
  } catch (e) {
    await all[Symbol.asyncDispose]();
    throw e;
  }
  return all;
}
