/**
 * The demo's scripted raft: a minimal replication state machine, not a full
 * raft (no elections, one term, a fixed leader). Member 1 keeps a log,
 * appends entries at a steady rate, and replicates them to the followers
 * with raft's per-follower progress (`match`, `next`; probe, replicate and
 * snapshot states); the followers append contiguous entries, reject gaps
 * with a hint, answer heartbeats, and restore from snapshots. Both sides
 * talk only through a `Transport`, exactly as a real raft node would.
 *
 * @module
 */

import { create } from "@bufbuild/protobuf";
import {
  type Entry,
  EntrySchema,
  type Message,
  MessageSchema,
  MessageType,
  type Raft,
  SnapshotStatus,
} from "@rafthttp/rafthttp";

/** The one term of the demo: member 1 is the leader from the start. */
export const TERM = 1n;
/** The leader's id. */
export const LEADER = 1n;
/** Bytes of data in every entry. */
export const ENTRY_DATA_SIZE = 100;
/** Most entries in one MsgApp. */
const MAX_ENTRIES_PER_MSG = 64;
/** Most entries sent to a follower and not yet acknowledged (raft's inflight window). */
const MAX_UNACKED = 4096;
/** A follower heard from within this many ms is "recently active": only those get snapshots. */
const RECENT_MS = 1000;
/** After a failed snapshot, the next attempt waits this long. */
const SNAPSHOT_RETRY_MS = 1000;

/** The data of entry `index`: the index as 8 bytes (big-endian), then a pattern made from it. */
export function entryData(index: number): Uint8Array {
  const d = new Uint8Array(ENTRY_DATA_SIZE);
  new DataView(d.buffer).setBigUint64(0, BigInt(index));
  for (let i = 8; i < d.length; i++) d[i] = (index + i) & 0xff;
  return d;
}

/** True if `e` carries the data {@link entryData} made for its index. */
export function entryDataOk(e: Entry): boolean {
  const d = e.data;
  if (d.length !== ENTRY_DATA_SIZE) return false;
  const index = Number(e.index);
  if (new DataView(d.buffer, d.byteOffset, 8).getBigUint64(0) !== e.index) return false;
  for (let i = 8; i < d.length; i++) if (d[i] !== ((index + i) & 0xff)) return false;
  return true;
}

/**
 * A raft log in memory: the entries `first..last`, following a snapshot
 * (or the start of time) at `snapIndex`/`snapTerm`. Indices are numbers
 * here and bigints on the wire.
 */
export class MemLog {
  snapIndex = 0;
  snapTerm = 0n;
  entries: Entry[] = [];

  /** Index of the first entry kept. */
  get first(): number {
    return this.snapIndex + 1;
  }

  /** Index of the last entry (the snapshot index when there is none). */
  get last(): number {
    return this.snapIndex + this.entries.length;
  }

  /** The term of entry `i`, or undefined if it is compacted or beyond the end. */
  term(i: number): bigint | undefined {
    if (i === this.snapIndex) return this.snapTerm;
    if (i < this.first || i > this.last) return undefined;
    return this.entries[i - this.first].term;
  }

  /** Entries `from..to` (inclusive); `from` must not be compacted. */
  slice(from: number, to: number): Entry[] {
    return this.entries.slice(from - this.first, to - this.first + 1);
  }

  /** Appends entries that follow `after`, dropping any conflicting suffix (raft's maybeAppend). */
  appendAfter(after: number, entries: Entry[]): void {
    let i = 0;
    // Skip what we already have with the same term.
    while (i < entries.length) {
      const idx = after + 1 + i;
      const t = this.term(idx);
      if (t === undefined) break;
      if (t !== entries[i].term) {
        this.entries.length = idx - this.first; // conflict: drop from here
        break;
      }
      i++;
    }
    for (; i < entries.length; i++) this.entries.push(entries[i]);
  }

  /** Drops the entries up to `index` (they are in a snapshot now). */
  compact(index: number): void {
    if (index <= this.snapIndex || index > this.last) return;
    const term = this.term(index)!;
    this.entries.splice(0, index - this.snapIndex);
    this.snapIndex = index;
    this.snapTerm = term;
  }

  /** Replaces everything with a snapshot at `index`/`term`: the log starts after it. */
  restore(index: number, term: bigint): void {
    this.entries = [];
    this.snapIndex = index;
    this.snapTerm = term;
  }
}

/** raft's view of one follower, kept by the leader. */
export interface Progress {
  /** The follower's id. */
  readonly id: bigint;
  /** probe: one MsgApp at a time; replicate: stream entries; snapshot: a snapshot is on its way. */
  state: "probe" | "replicate" | "snapshot";
  /** Highest index known to be on the follower. */
  match: number;
  /** Next index to send. */
  next: number;
  /** In probe state: a MsgApp was sent and is unanswered. */
  probeSent: boolean;
  /** In snapshot state: the index of the snapshot being sent. */
  pendingSnapshot: number;
  /** When we last heard from the follower (ms since epoch), 0 if never. */
  lastHeard: number;
  /** No snapshot before this time (after a failed one). */
  snapshotRetryAt: number;
  /** Times the transport reported the follower unreachable. */
  unreachable: number;
  /** Snapshots sent (started), and of those finished and failed. */
  snapshots: { sent: number; finished: number; failed: number };
}

/** What the leader needs from the demo around it. */
export interface LeaderHooks {
  /** Hands messages to member 1's transport. */
  send(msgs: Message[]): void;
  /** Starts sending a snapshot at `index`/`term` to `to` (data and transport are the demo's). */
  sendSnapshot(to: bigint, index: number, term: bigint): void;
  /** Something worth telling the user happened. */
  event(text: string): void;
}

/**
 * Member 1: appends entries, replicates them, tracks `match`/`next` per
 * follower, sends heartbeats, compacts its log, and falls back to a
 * snapshot for a follower whose `next` was compacted away.
 */
export class Leader implements Raft {
  readonly log = new MemLog();
  /** Highest index stored on a majority (the leader and one follower). */
  commit = 0;
  readonly progress = new Map<bigint, Progress>();
  /** Snapshots in flight: the log is not compacted meanwhile (as etcd). */
  snapshotsInFlight = 0;
  /** Entries appended by {@link propose}. */
  proposed = 0;
  #hooks: LeaderHooks;
  #retain: number;
  /** Followers we already told the user can no longer catch up from the log. */
  #compactedPast = new Set<bigint>();

  /** `retain`: entries kept behind the commit index when compacting (etcd's catch-up entries). */
  constructor(followers: bigint[], retain: number, hooks: LeaderHooks) {
    this.#hooks = hooks;
    this.#retain = retain;
    for (const id of followers) {
      this.progress.set(id, {
        id,
        state: "probe",
        match: 0,
        next: 1,
        probeSent: false,
        pendingSnapshot: 0,
        lastHeard: 0,
        snapshotRetryAt: 0,
        unreachable: 0,
        snapshots: { sent: 0, finished: 0, failed: 0 },
      });
    }
  }

  /** Appends `n` entries (a client's proposals) and sends them to the followers that take them. */
  propose(n: number): void {
    const entries: Entry[] = [];
    for (let i = 0; i < n; i++) {
      const index = this.log.last + 1 + i;
      entries.push(
        create(EntrySchema, { term: TERM, index: BigInt(index), data: entryData(index) }),
      );
    }
    this.log.appendAfter(this.log.last, entries);
    this.proposed += n;
    this.#advanceCommit();
    for (const pr of this.progress.values()) this.#sendAppend(pr);
  }

  /** Every 100 ms: MsgHeartbeat to every follower, carrying what it may commit. */
  heartbeat(): void {
    const msgs: Message[] = [];
    for (const pr of this.progress.values()) {
      msgs.push(create(MessageSchema, {
        type: MessageType.MsgHeartbeat,
        from: LEADER,
        to: pr.id,
        term: TERM,
        commit: BigInt(Math.min(pr.match, this.commit)),
      }));
    }
    this.#hooks.send(msgs);
  }

  /**
   * Compacts the log to `retain` entries behind the commit index (a real
   * node would snapshot its state machine there), unless a snapshot is on
   * its way. Tells the user when a follower falls off the log.
   */
  compact(): void {
    if (this.snapshotsInFlight > 0) return;
    const to = this.commit - this.#retain;
    if (to <= this.log.snapIndex) return;
    this.log.compact(to);
    for (const pr of this.progress.values()) {
      if (pr.match + 1 < this.log.first && !this.#compactedPast.has(pr.id)) {
        this.#compactedPast.add(pr.id);
        this.#hooks.event(
          `member 1 compacted its log to ${to}, past member ${pr.id}'s match ${pr.match}: ` +
            `member ${pr.id} now needs a snapshot`,
        );
      }
    }
  }

  /** Messages from the followers: MsgAppResp and MsgHeartbeatResp. */
  process(m: Message): void {
    const pr = this.progress.get(m.from);
    if (pr === undefined) return;
    pr.lastHeard = Date.now();
    switch (m.type) {
      case MessageType.MsgAppResp:
        this.#onAppendResponse(pr, m);
        break;
      case MessageType.MsgHeartbeatResp:
        // raft: a heartbeat response unpauses a probe and resends if behind.
        pr.probeSent = false;
        if (pr.match < this.log.last) this.#sendAppend(pr);
        break;
    }
  }

  /** Nobody is ever removed in the demo. */
  isIDRemoved(): boolean {
    return false;
  }

  /** The transport could not deliver to `id`: stop streaming to it and probe (raft does the same). */
  reportUnreachable(id: bigint): void {
    const pr = this.progress.get(id);
    if (pr === undefined) return;
    pr.unreachable++;
    if (pr.state === "replicate") {
      this.#hooks.event(
        `member 1: transport reports member ${id} unreachable; replication to it falls back to probing`,
      );
      this.#becomeProbe(pr, pr.match + 1);
    }
  }

  /** The outcome of a snapshot sent with {@link LeaderHooks.sendSnapshot}. */
  reportSnapshot(id: bigint, status: SnapshotStatus): void {
    const pr = this.progress.get(id);
    if (pr === undefined || pr.state !== "snapshot") return;
    this.snapshotsInFlight--;
    if (status === SnapshotStatus.Finish) {
      pr.snapshots.finished++;
      this.#becomeProbe(pr, pr.pendingSnapshot + 1);
      this.#sendAppend(pr);
    } else {
      pr.snapshots.failed++;
      pr.snapshotRetryAt = Date.now() + SNAPSHOT_RETRY_MS;
      this.#becomeProbe(pr, pr.match + 1);
    }
  }

  #becomeProbe(pr: Progress, next: number): void {
    pr.state = "probe";
    pr.next = Math.max(next, pr.match + 1);
    pr.probeSent = false;
  }

  #onAppendResponse(pr: Progress, m: Message): void {
    const index = Number(m.index);
    if (m.reject) {
      // raft's maybeDecrTo: ignore stale rejections, else jump back to the hint.
      if (pr.state === "replicate") {
        if (index <= pr.match) return;
        this.#becomeProbe(pr, pr.match + 1);
      } else if (pr.state === "probe") {
        if (pr.next - 1 !== index) return;
        pr.next = Math.max(1, Math.min(index, Number(m.rejectHint) + 1));
        pr.probeSent = false;
      } else {
        return;
      }
      this.#sendAppend(pr);
      return;
    }
    if (index > pr.match) {
      pr.match = index;
      pr.next = Math.max(pr.next, index + 1);
    }
    if (pr.state === "probe") {
      pr.state = "replicate";
      pr.next = pr.match + 1;
    } else if (pr.state === "snapshot" && pr.match >= pr.pendingSnapshot) {
      // The follower applied the snapshot (its answer can beat the transport's Finish).
      this.snapshotsInFlight--;
      pr.snapshots.finished++;
      pr.state = "replicate";
      pr.next = pr.match + 1;
    }
    this.#advanceCommit();
    this.#sendAppend(pr);
  }

  /** The commit index: the highest index on a majority (2 of 3) counting the leader. */
  #advanceCommit(): void {
    const matches = [this.log.last, ...[...this.progress.values()].map((p) => p.match)];
    matches.sort((a, b) => b - a);
    const quorum = Math.floor(matches.length / 2);
    this.commit = Math.max(this.commit, matches[quorum]);
  }

  /** raft's maybeSendAppend: entries from `next`, or a snapshot if they are compacted. */
  #sendAppend(pr: Progress): void {
    if (pr.state === "snapshot" || (pr.state === "probe" && pr.probeSent)) return;
    if (pr.next < this.log.first) {
      this.#maybeSendSnapshot(pr);
      return;
    }
    const msgs: Message[] = [];
    for (;;) {
      if (
        pr.state === "replicate" &&
        (pr.next > this.log.last || pr.next - 1 - pr.match >= MAX_UNACKED)
      ) break; // nothing new, or the window is full until acks come back
      const last = Math.min(this.log.last, pr.next + MAX_ENTRIES_PER_MSG - 1);
      const prev = pr.next - 1;
      msgs.push(create(MessageSchema, {
        type: MessageType.MsgApp,
        from: LEADER,
        to: pr.id,
        term: TERM,
        index: BigInt(prev),
        logTerm: this.log.term(prev) ?? 0n,
        entries: last >= pr.next ? this.log.slice(pr.next, last) : [],
        commit: BigInt(this.commit),
      }));
      if (pr.state === "probe") {
        pr.probeSent = true; // one at a time until it answers
        break;
      }
      pr.next = last + 1; // replicate: optimistic
    }
    if (msgs.length > 0) this.#hooks.send(msgs);
  }

  /** Only to a follower heard from recently (raft's RecentActive), and not too soon after a failure. */
  #maybeSendSnapshot(pr: Progress): void {
    const now = Date.now();
    if (now - pr.lastHeard > RECENT_MS || now < pr.snapshotRetryAt) return;
    pr.state = "snapshot";
    pr.pendingSnapshot = this.log.snapIndex;
    pr.snapshots.sent++;
    this.snapshotsInFlight++;
    this.#hooks.sendSnapshot(pr.id, this.log.snapIndex, this.log.snapTerm);
  }
}

/** Where a follower looks up whether the snapshot data of an index arrived complete and intact. */
export interface SnapshotCheck {
  /** The verified byte count of the snapshot at `index`, or undefined if none arrived intact. */
  verified(index: bigint): number | undefined;
}

/**
 * Members 2 and 3: append what the leader sends when it follows on from
 * their log, reject it with a hint when it does not, apply committed
 * entries (checking their data), answer heartbeats, and restore from a
 * snapshot.
 */
export class Follower implements Raft {
  readonly id: bigint;
  readonly log = new MemLog();
  commit = 0;
  applied = 0;
  /** Entries applied whose data checked out, and those that did not. */
  goodEntries = 0;
  badEntries = 0;
  /** The snapshot index this follower restored from, if any. */
  restoredFrom: number | undefined;
  #send: (msgs: Message[]) => void;
  #snapshots: SnapshotCheck;
  #retain: number;

  /** `send` hands messages to this member's transport; `retain` as the leader's. */
  constructor(
    id: bigint,
    send: (msgs: Message[]) => void,
    snapshots: SnapshotCheck,
    retain: number,
  ) {
    this.id = id;
    this.#send = send;
    this.#snapshots = snapshots;
    this.#retain = retain;
  }

  /** MsgApp, MsgHeartbeat and MsgSnap from the leader. */
  process(m: Message): void {
    switch (m.type) {
      case MessageType.MsgApp:
        this.#onAppend(m);
        break;
      case MessageType.MsgHeartbeat:
        this.#commitTo(Math.min(Number(m.commit), this.log.last));
        this.#reply(MessageType.MsgHeartbeatResp, {});
        break;
      case MessageType.MsgSnap:
        this.#onSnapshot(m);
        break;
    }
  }

  /** Nobody is ever removed in the demo. */
  isIDRemoved(): boolean {
    return false;
  }

  /** Followers send only answers; a lost one is covered by the leader's next heartbeat. */
  reportUnreachable(): void {}

  /** Followers send no snapshots. */
  reportSnapshot(): void {}

  #onAppend(m: Message): void {
    const prev = Number(m.index);
    if (prev < this.commit) {
      // Already committed here: tell the leader how far we are.
      this.#reply(MessageType.MsgAppResp, { index: BigInt(this.commit) });
      return;
    }
    if (this.log.term(prev) !== m.logTerm) {
      // A gap (or a conflict): reject, hinting at our last index.
      this.#reply(MessageType.MsgAppResp, {
        index: m.index,
        reject: true,
        rejectHint: BigInt(this.log.last),
      });
      return;
    }
    this.log.appendAfter(prev, m.entries);
    const lastNew = prev + m.entries.length;
    this.#commitTo(Math.min(Number(m.commit), lastNew));
    this.#reply(MessageType.MsgAppResp, { index: BigInt(lastNew) });
  }

  /** The transport stored the data through the sink before calling us: check it, then restore. */
  #onSnapshot(m: Message): void {
    const meta = m.snapshot?.metadata;
    const index = meta?.index ?? 0n;
    if (this.#snapshots.verified(index) === undefined) {
      // Thrown errors become a 500 to the sender, which reports Failure to its raft.
      throw new Error(`snapshot ${index} did not arrive intact`);
    }
    const i = Number(index);
    if (i > this.commit) {
      this.log.restore(i, meta?.term ?? 0n);
      this.commit = this.applied = i;
      this.restoredFrom = i;
    }
    this.#reply(MessageType.MsgAppResp, { index: BigInt(this.log.last) });
  }

  #commitTo(index: number): void {
    if (index <= this.commit) return;
    this.commit = index;
    for (let i = this.applied + 1; i <= this.commit; i++) {
      const e = this.log.entries[i - this.log.first];
      if (e !== undefined && entryDataOk(e)) this.goodEntries++;
      else this.badEntries++;
    }
    this.applied = this.commit;
    if (this.applied - this.#retain > this.log.snapIndex + 256) {
      this.log.compact(this.applied - this.#retain);
    }
  }

  #reply(type: MessageType, fields: { index?: bigint; reject?: boolean; rejectHint?: bigint }) {
    this.#send([create(MessageSchema, { type, from: this.id, to: LEADER, term: TERM, ...fields })]);
  }
}
