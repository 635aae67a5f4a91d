/**
 * The implementations the KV benchmarks run as three local members: ours
 * (apps/kv), etcd 3.4's raftexample (Go) and etcd 3.4 itself (its v2 keys
 * API), each as a {@link KvImpl} for {@link KvCluster}.
 *
 * @module
 */

import { etcdV2Api, type KvImpl } from "./kv_cluster.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
/** Our KV member's main file. */
export const OURS_MAIN = `${ROOT}/apps/kv/main.ts`;

/** Options of {@link oursImpl}. */
export interface OursOptions {
  /** Name in the results (default "ours"). */
  name?: string;
  /** The member's main file (default this checkout's; another checkout's for a baseline). */
  main?: string;
  /** Flags of each member after its usual ones (e.g. `--trace FILE`). */
  extraArgs?: (id: number, dataDir: string) => string[];
}

/** Our KV (apps/kv). */
export function oursImpl(o: OursOptions = {}): KvImpl {
  const extraArgs = o.extraArgs ?? (() => []);
  return {
    name: o.name ?? "ours",
    command: (id, cluster, port, dataDir) => ({
      cmd: Deno.execPath(),
      args: [
        "run",
        "-A",
        o.main ?? OURS_MAIN,
        ...["--id", `${id}`, "--cluster", cluster.join(","), "--port", `${port}`],
        ...["--data-dir", dataDir, "--test-hooks"],
        ...extraArgs(id, dataDir),
      ],
    }),
    localReadSuffix: "?stale",
    acksAfterCommit: true,
    leadOnFirst: (c) => transferToFirst(c.apis[0]),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function leaderOf(api: string): Promise<string | undefined> {
  const res = await fetch(`${api}/_test/status`, { signal: AbortSignal.timeout(2000) });
  const status = await res.json() as { lead?: string };
  return status.lead;
}

/** Our KV (run with --test-hooks): a leadership transfer to member 1, waited on (10 s). */
async function transferToFirst(api: string): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (performance.now() < deadline) {
    if (await leaderOf(api) === "1") return;
    const res = await fetch(`${api}/_test/transfer/1`, { method: "POST" });
    await res.body?.cancel();
    await sleep(300);
  }
  throw new Error("member 1 did not become the leader within 10 s");
}

/** etcd: `etcdctl move-leader` to member 1, found by its client URL (10 s). */
async function etcdMoveToFirst(etcdctl: string, apis: string[]): Promise<void> {
  const run = async (...args: string[]) => {
    const out = await new Deno.Command(etcdctl, {
      args: [`--endpoints=${apis.join(",")}`, ...args],
      env: { ETCDCTL_API: "3" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr).trim());
    return new TextDecoder().decode(out.stdout);
  };
  const deadline = performance.now() + 10_000;
  while (performance.now() < deadline) {
    // simple format: endpoint, ID (hex), version, db size, is leader, is learner, ...
    const rows = (await run("endpoint", "status")).trim().split("\n").map((l) => l.split(", "));
    const first = rows.find((r) => r[0] === apis[0]);
    if (first === undefined) throw new Error(`etcdctl endpoint status has no line for ${apis[0]}`);
    if (first[4] === "true") return;
    await run("move-leader", first[1]).catch(() => {});
    await sleep(300);
  }
  throw new Error("member 1 did not become the leader within 10 s");
}

/** etcd 3.4's contrib/raftexample, built at `bin`. */
export function raftexampleImpl(bin: string): KvImpl {
  return {
    name: "raftexample",
    command: (id, cluster, port) => ({
      cmd: bin,
      args: ["--id", `${id}`, "--cluster", cluster.join(","), "--port", `${port}`],
    }),
    localReadSuffix: "",
    acksAfterCommit: false,
  };
}

/**
 * etcd (`bin`) with its v2 API (`--enable-v2`): member `id` is named `m<id>`,
 * listens for peers on its URL of `cluster` and for clients on
 * 127.0.0.1:`port`; the default snapshot count and timeouts (heartbeat 100
 * ms, election 1000 ms), logs at warning level.
 */
export function etcdImpl(bin: string): KvImpl {
  return {
    name: "etcd",
    command: (id, cluster, port, dataDir) => {
      const client = `http://127.0.0.1:${port}`;
      const initial = cluster.map((url, i) => `m${i + 1}=${url}`).join(",");
      return {
        cmd: bin,
        args: [
          ...["--name", `m${id}`, "--data-dir", dataDir, "--enable-v2"],
          ...["--listen-peer-urls", cluster[id - 1]],
          ...["--initial-advertise-peer-urls", cluster[id - 1]],
          ...["--listen-client-urls", client, "--advertise-client-urls", client],
          ...["--initial-cluster", initial, "--initial-cluster-state", "new"],
          ...["--initial-cluster-token", "kv-compare", "--logger", "zap", "--log-level", "warn"],
        ],
      };
    },
    localReadSuffix: "",
    acksAfterCommit: true,
    api: etcdV2Api,
    leadOnFirst: (c) => etcdMoveToFirst("etcdctl", c.apis),
  };
}

/** etcd cannot be run; the message says what to install. */
export class EtcdUnavailableError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "EtcdUnavailableError";
  }
}

/** The version `bin --version` reports; throws {@link EtcdUnavailableError} when it cannot run. */
export async function etcdVersion(bin: string): Promise<string> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(bin, { args: ["--version"], stdout: "piped", stderr: "piped" })
      .output();
  } catch (e) {
    throw new EtcdUnavailableError(
      `cannot run '${bin}' (${(e as Error).message}): install etcd 3.4, on Debian ` +
        "`apt-get install etcd-server`, or pass --etcd PATH",
    );
  }
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new EtcdUnavailableError(
      `'${bin} --version' failed: install etcd 3.4 (apt-get install etcd-server)`,
    );
  }
  return /etcd Version: (\S+)/.exec(text)?.[1] ?? "unknown";
}
