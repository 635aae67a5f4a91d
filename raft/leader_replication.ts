/**
 * The leader's sending side of replication: MsgApp within the follower's
 * flow-control window, or MsgSnap when the entries were compacted.
 *
 * @module
 */

import { type Entry, MessageType, type Snapshot } from "../raftpb/mod.ts";
import { RaftError, SnapshotTemporarilyUnavailableError } from "./errors.ts";
import type { RaftCore } from "./raft_core.ts";

/**
 * Sends entries after the follower's next index, or a snapshot if they
 * were compacted; returns true if a message was sent.
 */
export function maybeSendAppend(r: RaftCore, to: bigint, sendIfEmpty: boolean): boolean {
  const pr = r.prs.progress.get(to);
  if (!pr || pr.isPaused()) return false;
  const prevTerm = r.log.termOrUndefined(pr.next - 1n);
  let ents: Entry[] | undefined;
  try {
    ents = r.log.entries(pr.next, r.cfg.maxSizePerMsg);
  } catch {
    ents = undefined;
  }
  if (ents !== undefined && ents.length === 0 && !sendIfEmpty) return false;
  if (prevTerm === undefined || ents === undefined) return sendSnapshot(r, to);
  r.send({
    to,
    type: MessageType.MsgApp,
    index: pr.next - 1n,
    logTerm: prevTerm,
    entries: ents,
    commit: r.log.committed,
  });
  if (ents.length > 0) {
    const last = ents[ents.length - 1].index;
    if (pr.state === "replicate") {
      pr.optimisticUpdate(last);
      pr.inflights.add(last);
    } else if (pr.state === "probe") {
      pr.probeSent = true;
    }
  }
  return true;
}

function sendSnapshot(r: RaftCore, to: bigint): boolean {
  const pr = r.prs.progress.get(to)!;
  if (!pr.recentActive) return false; // do not push a snapshot at a member that seems down
  let snap: Snapshot;
  try {
    snap = r.log.snapshot();
  } catch (e) {
    if (e instanceof SnapshotTemporarilyUnavailableError) return false;
    throw e;
  }
  const index = snap.metadata?.index ?? 0n;
  if (index === 0n) throw new RaftError("need a snapshot for a follower, but storage has none");
  pr.becomeSnapshot(index);
  r.send({ to, type: MessageType.MsgSnap, snapshot: snap });
  return true;
}
