// The campaign's adapter for a real etcd 3.4 cluster (Debian's `etcd`),
// through its v2 keys API (--enable-v2): PUT /v2/keys/K with value=...,
// GET /v2/keys/K?quorum=true (a read through raft: linearizable).

import {
  type MemberInfo,
  processAndNetworkFaults,
  type PutOutcome,
  send,
  type Target,
  votedLeader,
} from "./target.ts";

const PREFIX = "/v2/keys/nemesis";

/**
 * The adapter for the etcd binary `bin`: process and network faults.
 *
 * @example
 * ```ts
 * import { etcdTarget } from "./target_etcd.ts";
 * console.log(etcdTarget("etcd").supports(false).has("kill")); // true
 * ```
 */
export function etcdTarget(bin: string): Target {
  return {
    name: "etcd",
    readKind: "GET ?quorum=true (linearizable)",
    hooks: {},
    supports: processAndNetworkFaults,
    launch(m: MemberInfo, all: MemberInfo[]) {
      const initial = all.map((x) => `m${x.id}=${x.peerUrl}`).join(",");
      const args = [
        `--name=m${m.id}`,
        `--data-dir=${m.dataDir}`,
        `--listen-peer-urls=${m.peerUrl}`,
        `--initial-advertise-peer-urls=${m.peerUrl}`,
        `--listen-client-urls=${m.apiUrl}`,
        `--advertise-client-urls=${m.apiUrl}`,
        `--initial-cluster=${initial}`,
        "--initial-cluster-state=new",
        "--initial-cluster-token=nemesis",
        "--enable-v2=true",
        "--snapshot-count=500",
        "--logger=zap",
        "--log-level=error",
      ];
      return { cmd: bin, args, netns: m.netns };
    },
    async put(m, key, value, timeoutMs): Promise<PutOutcome> {
      const r = await send(`${m.apiUrl}${PREFIX}${key}`, {
        method: "PUT",
        body: new URLSearchParams({ value }),
      }, timeoutMs);
      return r?.status === 200 || r?.status === 201 ? "ok" : "unknown";
    },
    async get(m, key, timeoutMs) {
      const r = await send(`${m.apiUrl}${PREFIX}${key}?quorum=true`, {}, timeoutMs);
      if (r?.status === 404) return null;
      if (r?.status !== 200) return undefined;
      try {
        return String(JSON.parse(r.body).node.value);
      } catch {
        return undefined;
      }
    },
    async leader(running) {
      const self = await Promise.all(running.map(async (m) => {
        const r = await send(`${m.apiUrl}/v2/stats/self`, {}, 1000);
        try {
          return r?.status === 200 ? JSON.parse(r.body) : undefined;
        } catch {
          return undefined;
        }
      }));
      const byHex = new Map<string, number>();
      self.forEach((s, i) => s?.id && byHex.set(s.id, running[i].id));
      const views = self.map((s) =>
        s === undefined ? undefined : byHex.get(s.leaderInfo?.leader ?? "") ?? 0
      );
      return votedLeader(views);
    },
  };
}
