/**
 * What the KV benchmarks (kv-bench, kv-compare, kv-trace) share around
 * their clusters: starting them in temporary directories, stopping every
 * one and removing its directory however the run ends (a signal included),
 * and the facts printed with figures (commit, load average).
 *
 * @module
 */

import { KvCluster, type KvImpl } from "./kv_cluster.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** The machine's 1-minute load average (this machine is shared: figures move with it). */
export function loadAverage(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ")[0];
  } catch {
    return "?";
  }
}

/** HEAD, marked when the worktree has changes (the members run what is on disk). */
export async function gitCommit(): Promise<string> {
  const git = async (...args: string[]) => {
    const cmd = new Deno.Command("git", {
      args: ["-C", ROOT, ...args],
      stdout: "piped",
      stderr: "null",
    });
    return new TextDecoder().decode((await cmd.output()).stdout).trim();
  };
  try {
    const head = await git("rev-parse", "--short", "HEAD");
    const changed = await git("status", "--porcelain", "--untracked-files=no");
    return head === "" ? "?" : changed === "" ? head : `${head}+uncommitted changes`;
  } catch {
    return "?";
  }
}

/** Options of {@link Clusters.start}. */
export interface StartOptions {
  /** Where the cluster's temporary directory goes (default: the system's). */
  parentDir?: string;
  /** Log line prefix and directory name (default the implementation's name). */
  label?: string;
  /** Time for a write to become readable everywhere, ms (default 30000). */
  readyTimeoutMs?: number;
}

/** The clusters of one benchmark run: each in its own temporary directory, all stopped at the end. */
export class Clusters {
  readonly #running = new Set<{ cluster: KvCluster; workDir: string }>();

  /** Starts `impl`'s three members and waits until a write replicates. */
  async start(impl: KvImpl, o: StartOptions = {}): Promise<KvCluster> {
    const label = o.label ?? impl.name;
    const workDir = await Deno.makeTempDir({ dir: o.parentDir, prefix: `kv_${label}_` });
    let cluster: KvCluster;
    try {
      cluster = await KvCluster.start(impl, workDir);
    } catch (e) {
      await Deno.remove(workDir, { recursive: true }).catch(() => {});
      throw e;
    }
    this.#running.add({ cluster, workDir });
    const t0 = performance.now();
    try {
      await cluster.waitReady(o.readyTimeoutMs);
    } catch (e) {
      throw new Error(`${(e as Error).message}\nmember 1 log:\n${await cluster.logTail(1)}`);
    }
    if (impl.leadOnFirst !== undefined) {
      try {
        await impl.leadOnFirst(cluster);
      } catch (e) {
        console.error(`${label}: member 1 could not be made the leader: ${(e as Error).message}`);
      }
    }
    console.error(
      `${label}: leader elected, writes replicate (${Math.round(performance.now() - t0)} ms)${
        impl.leadOnFirst === undefined ? "" : "; member 1 leads"
      }`,
    );
    return cluster;
  }

  /** Stops every cluster and removes its directory. */
  async stopAll(): Promise<void> {
    for (const r of [...this.#running]) {
      this.#running.delete(r);
      await r.cluster.stop();
      await Deno.remove(r.workDir, { recursive: true }).catch(() => {});
    }
  }
}

/**
 * Runs a benchmark's `main` as the process's main: SIGINT and SIGTERM stop
 * `clusters` (exit 130); an error is printed (without a stack) and exits
 * with `errorCode` (1 unless the error names another).
 */
export async function runMain(
  clusters: Clusters,
  main: () => Promise<number>,
  errorCode: (e: Error) => number = () => 1,
): Promise<never> {
  const onSignal = async () => {
    await clusters.stopAll();
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  let code = 1;
  try {
    code = await main();
  } catch (e) {
    console.error((e as Error).message);
    code = errorCode(e as Error);
  } finally {
    await clusters.stopAll();
  }
  Deno.exit(code);
}
