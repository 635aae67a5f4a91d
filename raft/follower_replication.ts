/**
 * The follower's receiving side of replication: appending the leader's
 * entries (or rejecting them with a hint), heartbeats, and snapshots.
 *
 * @module
 */

import { type ConfState, type Message, MessageType, type Snapshot } from "../raftpb/mod.ts";
import { ConfChangeError } from "./errors.ts";
import type { RaftCore } from "./raft_core.ts";
import { ProgressTracker } from "./tracker/tracker.ts";
import { restoreConfig } from "./confchange/changer.ts";

/** Appends the leader's entries if the log matches, else rejects with a hint. */
export function handleAppendEntries(r: RaftCore, m: Message): void {
  if (m.index < r.log.committed) {
    r.send({ to: m.from, type: MessageType.MsgAppResp, index: r.log.committed });
    return;
  }
  const last = r.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
  if (last !== undefined) {
    r.send({ to: m.from, type: MessageType.MsgAppResp, index: last });
    return;
  }
  const probe = m.index < r.log.lastIndex() ? m.index : r.log.lastIndex();
  const hint = r.log.findConflictByTerm(probe, m.logTerm);
  r.send({
    to: m.from,
    type: MessageType.MsgAppResp,
    index: m.index,
    reject: true,
    rejectHint: hint,
    logTerm: r.log.termOrUndefined(hint) ?? 0n,
  });
}

/** Commits what the leader says (bounded by our match) and answers. */
export function handleHeartbeat(r: RaftCore, m: Message): void {
  r.log.commitTo(m.commit);
  r.send({ to: m.from, type: MessageType.MsgHeartbeatResp, context: m.context });
}

/** Restores a snapshot from the leader if it is newer than our log. */
export function handleSnapshot(r: RaftCore, m: Message): void {
  const snap = m.snapshot;
  if (snap && restore(r, snap)) {
    r.send({ to: m.from, type: MessageType.MsgAppResp, index: r.log.lastIndex() });
  } else {
    r.send({ to: m.from, type: MessageType.MsgAppResp, index: r.log.committed });
  }
}

function restore(r: RaftCore, s: Snapshot): boolean {
  const meta = s.metadata;
  if (!meta || meta.index <= r.log.committed) return false;
  if (r.log.matchTerm(meta.index, meta.term)) {
    // We already have that entry: just fast-forward the commit index.
    r.log.commitTo(meta.index);
    return false;
  }
  let cs: ConfState;
  try {
    cs = restoreConfig(meta.confState);
  } catch (e) {
    if (!(e instanceof ConfChangeError)) throw e;
    r.cfg.logger.warn("ignored a snapshot with an invalid ConfState", {
      id: r.id,
      error: e.message,
    });
    return false;
  }
  r.log.restore(s);
  r.prs = new ProgressTracker(r.cfg.maxInflightMsgs);
  const next = r.log.lastIndex() + 1n;
  r.prs.switchTo(cs, next);
  r.isLearner = r.prs.progress.get(r.id)?.isLearner ?? false;
  r.prs.progress.get(r.id)?.maybeUpdate(next - 1n);
  r.cfg.logger.info("restored snapshot", { id: r.id, index: meta.index, term: meta.term });
  return true;
}
