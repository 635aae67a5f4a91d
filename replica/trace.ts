/**
 * A tracing seam for the write path: a replica given a {@link Tracer}
 * reports each step a write passes (Ready, MsgApp sent and received, WAL
 * write and fdatasync, acknowledgement, commit, apply), so that the time of
 * one write can be taken apart across members (bench/kv_trace.ts). Without
 * a tracer, each place costs one comparison with undefined.
 *
 * Steps that concern entries carry an index with a cumulative meaning: an
 * entry at index i passes a step at its first report with index >= i (an
 * fdatasync covers everything written before it, an acknowledgement every
 * entry up to it).
 *
 * @module
 */

import { type Message, MessageType } from "../mod.ts";
import type { Ready } from "../raft/mod.ts";
import type { SyncObserver } from "../storage/mod.ts";
import type { KeyOf } from "./proposals.ts";

/**
 * The steps a replica reports, with what `index`, `key` and `peer` hold:
 *
 * - `forwardOut`, `forwardIn`: a proposal (MsgProp) sent by a follower to the
 *   leader, and received there; `key`: the proposal's, where the replica can
 *   name it (raw entries; an envelope of another member: none).
 * - `ready`: a Ready holds new entries to persist; `index`: the last.
 * - `sendApp`: a MsgApp with entries handed to the transport; `index`: its
 *   last entry; `peer`: to whom.
 * - `appIn`: a MsgApp with entries received; `index`: its last; `peer`: from.
 * - `walWrite`: the Ready's entries go to the WAL (the save is called).
 * - `fsyncStart`, `fsyncEnd`: around the WAL's fdatasync; `index`: the last
 *   entry written then.
 * - `ackOut`, `ackIn`: a MsgAppResp (not a rejection) handed to the
 *   transport, and received; `index`: the entry it acknowledges up to.
 * - `commit`: the commit index advanced (as a Ready reports it); `index`: it.
 * - `apply`: a command entry applied; `key`: its proposal's key, on the
 *   replica that proposed it.
 *
 * @example
 * ```ts
 * import type { TraceStep } from "@rafthttp/rafthttp/replica";
 * const leaderLane: TraceStep[] = ["walWrite", "fsyncStart", "fsyncEnd"];
 * console.log(leaderLane.length); // 3
 * ```
 */
export type TraceStep =
  | "forwardOut"
  | "forwardIn"
  | "ready"
  | "sendApp"
  | "appIn"
  | "walWrite"
  | "fsyncStart"
  | "fsyncEnd"
  | "ackOut"
  | "ackIn"
  | "commit"
  | "apply";

/**
 * Receives the write path's steps as they happen (see {@link TraceStep}).
 * Called synchronously on the hot path: take the time and keep the values,
 * nothing more. `index` is 0n where a step names no entry.
 *
 * @example
 * ```ts
 * import type { Tracer } from "@rafthttp/rafthttp/replica";
 * const seen: string[] = [];
 * const tracer: Tracer = (step, index) => void seen.push(`${step} ${index}`);
 * tracer("commit", 7n);
 * console.log(seen); // [ "commit 7" ]
 * ```
 */
export type Tracer = (step: TraceStep, index: bigint, key?: string, peer?: bigint) => void;

type MessageSteps = readonly [app: TraceStep, ack: TraceStep, proposal: TraceStep];
const RECEIVED: MessageSteps = ["appIn", "ackIn", "forwardIn"];
const SENT: MessageSteps = ["sendApp", "ackOut", "forwardOut"];

// A MsgApp with entries, an accepting MsgAppResp or a MsgProp, to or from `peer`.
function traceMessage(
  trace: Tracer,
  m: Message,
  [app, ack, proposal]: MessageSteps,
  peer: bigint,
  keyOf: KeyOf,
): void {
  if (m.type === MessageType.MsgApp) {
    const last = m.entries.at(-1);
    if (last !== undefined) trace(app, last.index, undefined, peer);
  } else if (m.type === MessageType.MsgAppResp) {
    if (!m.reject) trace(ack, m.index, undefined, peer);
  } else if (m.type === MessageType.MsgProp) {
    for (const e of m.entries) trace(proposal, 0n, keyOf(e.data), peer);
  }
}

/** A message stepped in from a peer. */
export function traceReceived(trace: Tracer, m: Message, keyOf: KeyOf): void {
  traceMessage(trace, m, RECEIVED, m.from, keyOf);
}

/** Messages handed to the transport. */
export function traceSent(trace: Tracer, messages: readonly Message[], keyOf: KeyOf): void {
  for (const m of messages) traceMessage(trace, m, SENT, m.to, keyOf);
}

/**
 * A Ready about to be handled: its new entries, and the commit index if it
 * advanced beyond `committed` (the last one reported); returns the commit
 * index reported now.
 */
export function traceReady(trace: Tracer, rd: Ready, committed: bigint): bigint {
  const last = rd.entries.at(-1);
  if (last !== undefined) trace("ready", last.index);
  const commit = rd.hardState?.commit ?? 0n;
  if (commit <= committed) return committed;
  trace("commit", commit);
  return commit;
}

/** The WAL's fdatasyncs as `fsyncStart` and `fsyncEnd`. */
export function syncSteps(trace: Tracer): SyncObserver {
  return (phase, lastIndex) => trace(phase === "start" ? "fsyncStart" : "fsyncEnd", lastIndex);
}
