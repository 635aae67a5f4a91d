/**
 * One adapter for the three systems a campaign can run against: how to
 * start a member, the key-value calls the clients make, who leads, and
 * which faults the target supports. Operations only some targets have
 * (test hooks: partitions through the transport, transfers, membership,
 * snapshots, disk faults) are optional members of {@link Target.hooks}.
 *
 * @module
 */

import type { Launch } from "./process.ts";
import type { FaultKind } from "./schedule.ts";

/** The targets a campaign knows. */
export const TARGET_NAMES = ["ours", "raftexample", "etcd"] as const;
/** One target. */
export type TargetName = typeof TARGET_NAMES[number];

/** Where a member lives: its id, its slot (namespace or port pair), its URLs and data. */
export interface MemberInfo {
  id: number;
  slot: number;
  host: string;
  peerUrl: string;
  apiUrl: string;
  dataDir: string;
  /** Network namespace of its slot, if the campaign runs on a LAN of namespaces. */
  netns?: string;
}

/** A write's outcome as a client sees it: acknowledged, or unknown (it may still apply). */
export type PutOutcome = "ok" | "unknown";

/** Operations of a target's test hooks; each resolves true when the member accepted it. */
export interface TargetHooks {
  cut?(m: MemberInfo, peer: number): Promise<boolean>;
  mend?(m: MemberInfo, peer: number): Promise<boolean>;
  transfer?(via: MemberInfo, to: number): Promise<boolean>;
  snapshot?(m: MemberInfo): Promise<boolean>;
  /** The next fsync fails ("fail-fsync") or the next log sync is torn ("tear"). */
  disk?(m: MemberInfo, fault: "fail-fsync" | "tear"): Promise<boolean>;
  /** Every fsync of `m` waits `ms` first (0: no more); true when it took it. */
  slowDisk?(m: MemberInfo, ms: number): Promise<boolean>;
  remove?(via: MemberInfo, id: number): Promise<boolean>;
  add?(via: MemberInfo, id: number, peerUrl: string): Promise<boolean>;
  joint?(via: MemberInfo, add: MemberInfo[], remove: number[]): Promise<boolean>;
  /** The voters `m` knows, or undefined when it does not answer. */
  voters?(m: MemberInfo): Promise<number[] | undefined>;
}

/** What a campaign needs from a target. */
export interface Target {
  readonly name: TargetName;
  /** The faults it supports when `netns` tells whether members run in namespaces. */
  supports(netns: boolean): ReadonlySet<FaultKind>;
  /** How to start `m`; `all` lists every member ever made (by id), `join` for a new member. */
  launch(m: MemberInfo, all: MemberInfo[], join: boolean): Launch;
  put(m: MemberInfo, key: string, value: string, timeoutMs: number): Promise<PutOutcome>;
  /** The value, null for not found, undefined when the read failed. */
  get(m: MemberInfo, key: string, timeoutMs: number): Promise<string | null | undefined>;
  /** The id of the leader most running members agree on, if any. */
  leader(running: MemberInfo[]): Promise<number | undefined>;
  /** Sees every line a member prints (raftexample's leader is known from its log). */
  onLine?(m: MemberInfo, line: string): void;
  readonly hooks: TargetHooks;
  /** Names the read the clients make (for the report). */
  readonly readKind: string;
  /** Why this target is known to break linearizability, if it is (for the report). */
  readonly knownUnsafe?: string;
}

/** Sends one request; the status and body, or undefined when it failed or timed out. */
export async function send(
  url: string,
  init: RequestInit,
  timeoutMs: number,
): Promise<{ status: number; body: string } | undefined> {
  try {
    const r = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    return { status: r.status, body: await r.text() };
  } catch {
    return undefined;
  }
}

/** What a target without hooks supports: process faults, and network faults in namespaces. */
export function processAndNetworkFaults(netns: boolean): ReadonlySet<FaultKind> {
  const k: FaultKind[] = ["kill", "crash", "pause"];
  if (netns) k.push("partition", "amnesia", "slow");
  return new Set(k);
}

/** The member most of `views` name as leader (a strict majority of those that answered). */
export function votedLeader(views: (number | undefined)[]): number | undefined {
  const counts = new Map<number, number>();
  let answered = 0;
  for (const v of views) {
    if (v === undefined) continue;
    answered++;
    if (v !== 0) counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  for (const [id, n] of counts) if (2 * n > answered) return id;
  return undefined;
}
