// The campaign's adapter for Go raftexample (etcd 3.4.23's contrib example,
// built by bench/raftexample.ts). It answers a PUT before the entry is
// committed and serves a GET from its own store, so the campaign is
// expected to find lost writes and stale reads: they are reported as found.
// It has no status endpoint: the leader is read from its raft log lines.

import {
  type MemberInfo,
  processAndNetworkFaults,
  type PutOutcome,
  send,
  type Target,
} from "./target.ts";

const BECAME_LEADER = /\b([0-9a-f]+) became leader at term (\d+)/;

/**
 * The adapter for raftexample's binary `bin`: process and network faults
 * only (its --join panics, and it has no hooks).
 *
 * @example
 * ```ts
 * import { raftexampleTarget } from "./target_raftexample.ts";
 * console.log(raftexampleTarget("raftexample").supports(true).has("member")); // false
 * ```
 */
export function raftexampleTarget(bin: string): Target {
  let latest = { id: 0, term: -1 };
  return {
    name: "raftexample",
    readKind: "GET (local store, not linearizable)",
    knownUnsafe: "acknowledges a PUT before commit; serves GET from its local store",
    hooks: {},
    supports: processAndNetworkFaults,
    launch(m: MemberInfo, all: MemberInfo[]) {
      const cluster = all.map((x) => x.peerUrl).join(",");
      const port = new URL(m.apiUrl).port;
      const args = [`--id=${m.id}`, `--cluster=${cluster}`, `--port=${port}`];
      return { cmd: bin, args, cwd: m.dataDir, netns: m.netns };
    },
    onLine(_m: MemberInfo, line: string) {
      const hit = BECAME_LEADER.exec(line);
      if (hit === null) return;
      const term = Number(hit[2]);
      if (term >= latest.term) latest = { id: parseInt(hit[1], 16), term };
    },
    async put(m, key, value, timeoutMs): Promise<PutOutcome> {
      const r = await send(`${m.apiUrl}${key}`, { method: "PUT", body: value }, timeoutMs);
      return r?.status === 204 ? "ok" : "unknown";
    },
    async get(m, key, timeoutMs) {
      const r = await send(`${m.apiUrl}${key}`, {}, timeoutMs);
      if (r?.status === 200) return r.body;
      return r?.status === 404 ? null : undefined;
    },
    leader(running) {
      const id = latest.id;
      return Promise.resolve(running.some((m) => m.id === id) ? id : undefined);
    },
  };
}
