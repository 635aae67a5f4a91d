// What the KV's in-process tests share: members of one cluster in this
// process on free 127.0.0.1 ports (ticks of 20 ms), and the leader among them.
import { freePorts } from "../../../bench/ports.ts";
import { silentLogger } from "../../../mod.ts";
import { KvNode, type KvNodeOptions } from "../node.ts";

/** Starts `n` members in `root`; `start(id)` starts one again from its data directory. */
export async function startCluster(
  root: string,
  n: number,
  snapshotCount = 10000,
  extra: Partial<KvNodeOptions> = {},
  raftexampleCompat = false,
) {
  const ports = freePorts(n);
  const cluster = ports.map((p) => `http://127.0.0.1:${p}`);
  const args = (id: number) => ({
    id: BigInt(id),
    cluster,
    join: false,
    dataDir: `${root}/m${id}`,
    snapshotCount,
    catchUpEntries: 5,
    requestTimeoutMs: 5000,
    tickMs: 20,
    raftexampleCompat,
  });
  const start = (id: number) => KvNode.start({ args: args(id), logger: silentLogger, ...extra });
  const nodes = await Promise.all(Array.from({ length: n }, (_, i) => start(i + 1)));
  return { nodes, start };
}

/** The member that is leader, within 5 s. */
export async function leaderOf(nodes: KvNode[]): Promise<KvNode> {
  for (let i = 0; i < 200; i++) {
    const l = nodes.find((n) => n.status().state === "leader");
    if (l !== undefined) return l;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("no leader within 5 s");
}

/**
 * Starts member `id` (1-based) of a cluster whose initial members are the
 * first three of `urls`; one that joins (`join`) is given all of them.
 */
export function memberStarter(root: string, urls: string[], tickMs: number) {
  return (id: number, join = false) =>
    KvNode.start({
      args: {
        id: BigInt(id),
        cluster: join ? urls : urls.slice(0, 3),
        join,
        dataDir: `${root}/m${id}`,
        snapshotCount: 10000,
        catchUpEntries: 5,
        requestTimeoutMs: 5000,
        tickMs,
      },
      logger: silentLogger,
    });
}
