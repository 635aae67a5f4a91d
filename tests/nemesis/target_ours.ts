// The campaign's adapter for our KV (apps/kv/main.ts with --test-hooks).
// Which optional hooks it has is read from its usage text, so hooks the KV
// grows (snapshot, joint, disk faults) are used as soon as it advertises them.

import { USAGE } from "../../apps/kv/args.ts";
import type { FaultKind } from "./schedule.ts";
import {
  type MemberInfo,
  type PutOutcome,
  send,
  type Target,
  type TargetHooks,
  votedLeader,
} from "./target.ts";

const MAIN = new URL("../../apps/kv/main.ts", import.meta.url).pathname;

/** A hook the member answered 404 to: this build of the KV does not have it. */
export class UnsupportedHookError extends Error {
  /** `path`: the hook's path. */
  constructor(path: string) {
    super(`the member has no test hook ${path} (404); the campaign skips this fault`);
    this.name = "UnsupportedHookError";
  }
}

/** Options of {@link oursTarget}. */
export interface OursOptions {
  /** Extra flags for every member (e.g. --lazy-disk, --plant-bug stale-read). */
  memberFlags?: string[];
  /** Members' --request-timeout-ms (default 3000). */
  requestTimeoutMs?: number;
  /** Read with `GET ?stale` (local, not linearizable): to show the campaign catches it. */
  staleReads?: boolean;
  /** Members' --snapshot-count (default 500: snapshots happen during a short run). */
  snapshotCount?: number;
}

async function hook(m: MemberInfo, path: string, body?: string): Promise<boolean> {
  const r = await send(`${m.apiUrl}${path}`, { method: "POST", body }, 8000);
  if (r?.status === 404 && r.body.includes("unknown test hook")) {
    throw new UnsupportedHookError(path);
  }
  return r !== undefined && r.status >= 200 && r.status < 300;
}

async function status(m: MemberInfo): Promise<Record<string, unknown> | undefined> {
  const r = await send(`${m.apiUrl}/_test/status`, {}, 1000);
  if (r?.status !== 200) return undefined;
  try {
    return JSON.parse(r.body);
  } catch {
    return undefined;
  }
}

const advertised = (what: string) => USAGE.includes(what);

function hooks(): TargetHooks {
  const h: TargetHooks = {
    cut: (m, peer) => hook(m, `/_test/cut/${peer}`),
    mend: (m, peer) => hook(m, `/_test/mend/${peer}`),
    transfer: (via, to) => hook(via, `/_test/transfer/${to}`),
    remove: async (via, id) =>
      (await send(`${via.apiUrl}/${id}`, { method: "DELETE" }, 8000))?.status === 204,
    add: async (via, id, url) =>
      (await send(`${via.apiUrl}/${id}`, { method: "POST", body: url }, 8000))?.status === 204,
    voters: async (m) => ((await status(m))?.voters as string[] | undefined)?.map(Number),
    snapshot: (m) => hook(m, "/_test/snapshot"),
    disk: (m, fault) => hook(m, `/_test/disk/${fault}`),
    slowDisk: (m, ms) => hook(m, `/_test/disk/slow/${ms}`),
    joint: (via, add, remove) =>
      hook(
        via,
        "/_test/joint",
        JSON.stringify({
          add: add.map((m) => ({ id: `${m.id}`, url: m.peerUrl })),
          remove: remove.map(String),
        }),
      ),
  };
  return h;
}

/**
 * The adapter for apps/kv: linearizable GETs (ReadIndex), PUTs answered
 * after commit, partitions through the transport's cut/mend hooks when the
 * members are not in namespaces.
 *
 * @example
 * ```ts
 * import { oursTarget } from "./target_ours.ts";
 * console.log(oursTarget().supports(false).has("transfer")); // true
 * ```
 */
export function oursTarget(o: OursOptions = {}): Target {
  return {
    name: "ours",
    readKind: o.staleReads
      ? "GET ?stale (local state, not linearizable)"
      : "GET (ReadIndex, linearizable)",
    knownUnsafe: o.staleReads ? "reads with ?stale, on purpose" : undefined,
    hooks: hooks(),
    supports(netns: boolean): ReadonlySet<FaultKind> {
      const k: FaultKind[] = [
        "kill",
        "crash",
        "amnesia",
        "pause",
        "partition",
        "transfer",
        "member",
      ];
      if (netns) k.push("slow");
      if (advertised("/_test/snapshot")) k.push("snapshot");
      if (advertised("/_test/joint")) k.push("joint");
      if (advertised("fail-fsync")) k.push("fsync");
      if (advertised("/_test/disk/tear")) k.push("tear");
      if (advertised("/_test/disk/slow/")) k.push("slowdisk");
      return new Set(k);
    },
    launch(m, all, join) {
      const cluster = all.map((x) => x.peerUrl).join(",");
      const args = [
        "run",
        "-A",
        MAIN,
        `--id=${m.id}`,
        `--cluster=${cluster}`,
        `--host=${m.host}`,
        `--port=${new URL(m.apiUrl).port}`,
        `--data-dir=${m.dataDir}`,
        `--snapshot-count=${o.snapshotCount ?? 500}`,
        "--catch-up-entries=100",
        `--request-timeout-ms=${o.requestTimeoutMs ?? 3000}`,
        "--test-hooks",
        ...(advertised("--disk-faults") ? ["--disk-faults"] : []),
        ...(o.memberFlags ?? []),
      ];
      if (join) args.push("--join");
      return { cmd: Deno.execPath(), args, netns: m.netns };
    },
    async put(m, key, value, timeoutMs): Promise<PutOutcome> {
      const r = await send(`${m.apiUrl}${key}`, { method: "PUT", body: value }, timeoutMs);
      return r?.status === 204 ? "ok" : "unknown";
    },
    async get(m, key, timeoutMs) {
      const r = await send(`${m.apiUrl}${key}${o.staleReads ? "?stale" : ""}`, {}, timeoutMs);
      if (r?.status === 200) return r.body;
      return r?.status === 404 ? null : undefined;
    },
    async leader(running) {
      const views = await Promise.all(running.map(async (m) => {
        const s = await status(m);
        return s === undefined ? undefined : Number(s.lead);
      }));
      return votedLeader(views);
    },
  };
}
