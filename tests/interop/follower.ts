// A minimal raft follower for interop tests: enough of raft's follower rules
// for a real etcd leader to win elections with its vote and commit with its
// acks. It keeps the term of every entry (not the data), never campaigns,
// persists nothing, and answers through the transport.
import { create } from "@bufbuild/protobuf";
import { type Message, MessageSchema, MessageType } from "../../raftpb/raft_pb.ts";
import type { Raft } from "../../src/raft_node.ts";
import type { SnapshotStatus } from "../../raftpb/snapshot_status.ts";
import type { Transporter } from "../../src/transport.ts";

/** A vote this follower cast (or refused). */
export interface VoteRecord {
  type: MessageType.MsgVote | MessageType.MsgPreVote;
  candidate: bigint;
  term: bigint;
  granted: boolean;
}

/** A snapshot this follower received. */
export interface SnapshotRecord {
  from: bigint;
  index: bigint;
  term: bigint;
  restored: boolean;
}

export class Follower implements Raft {
  readonly id: bigint;
  /** Set before messages arrive; replies go out through it. */
  transport: Transporter | undefined;

  term = 0n;
  vote = 0n;
  lead = 0n;
  committed = 0n;
  /** Index and term of the last entry covered by a snapshot (0 for an empty log). */
  offset = 0n;
  offsetTerm = 0n;
  /** Terms of the entries after `offset`: `terms[i]` is the term of entry `offset + 1 + i`. */
  terms: bigint[] = [];

  /** How many messages of each type arrived (all peers). */
  readonly counts = new Map<MessageType, number>();
  readonly votes: VoteRecord[] = [];
  readonly snapshots: SnapshotRecord[] = [];
  /** Indexes of the MsgApps that arrived, and whether each was accepted. */
  readonly appends: { index: bigint; entries: number; accepted: boolean }[] = [];
  readonly unreachable: bigint[] = [];
  readonly snapshotReports: [bigint, SnapshotStatus][] = [];
  /** Replies this follower sent, by type. */
  readonly sent = new Map<MessageType, number>();

  constructor(id: bigint) {
    this.id = id;
  }

  lastIndex(): bigint {
    return this.offset + BigInt(this.terms.length);
  }

  lastTerm(): bigint {
    return this.termAt(this.lastIndex()) ?? 0n;
  }

  /** Term of entry `i`, or undefined if it is compacted away or not in the log. */
  termAt(i: bigint): bigint | undefined {
    if (i === this.offset) return this.offsetTerm;
    if (i < this.offset || i > this.lastIndex()) return undefined;
    return this.terms[Number(i - this.offset - 1n)];
  }

  count(type: MessageType): number {
    return this.counts.get(type) ?? 0;
  }

  process(m: Message): void {
    this.counts.set(m.type, this.count(m.type) + 1);
    if (m.term > this.term) {
      // A pre-vote never changes our term; anything else with a higher term
      // makes us a follower of that term (with the sender as leader if it
      // is one).
      if (m.type !== MessageType.MsgPreVote) {
        const fromLeader = m.type === MessageType.MsgApp ||
          m.type === MessageType.MsgHeartbeat || m.type === MessageType.MsgSnap;
        this.term = m.term;
        this.vote = 0n;
        this.lead = fromLeader ? m.from : 0n;
      }
    } else if (m.term !== 0n && m.term < this.term) {
      // A stale leader (etcd runs with check-quorum) learns our term from
      // an empty MsgAppResp; a stale pre-candidate gets a rejection.
      if (m.type === MessageType.MsgApp || m.type === MessageType.MsgHeartbeat) {
        this.#reply(m, { type: MessageType.MsgAppResp });
      } else if (m.type === MessageType.MsgPreVote) {
        this.#reply(m, { type: MessageType.MsgPreVoteResp, reject: true });
      }
      return;
    }
    switch (m.type) {
      case MessageType.MsgVote:
      case MessageType.MsgPreVote:
        this.#handleVote(m);
        break;
      case MessageType.MsgApp:
        this.lead = m.from;
        this.#handleAppend(m);
        break;
      case MessageType.MsgHeartbeat:
        this.lead = m.from;
        this.#commitTo(m.commit);
        this.#reply(m, { type: MessageType.MsgHeartbeatResp, context: m.context });
        break;
      case MessageType.MsgSnap:
        this.lead = m.from;
        this.#handleSnapshot(m);
        break;
      default:
        // Nothing else needs an answer from a follower that never campaigns.
        break;
    }
  }

  #handleVote(m: Message): void {
    const pre = m.type === MessageType.MsgPreVote;
    const canVote = this.vote === m.from || (this.vote === 0n && this.lead === 0n) ||
      (pre && m.term > this.term);
    const upToDate = m.logTerm > this.lastTerm() ||
      (m.logTerm === this.lastTerm() && m.index >= this.lastIndex());
    const granted = canVote && upToDate;
    const type = pre ? MessageType.MsgPreVoteResp : MessageType.MsgVoteResp;
    this.votes.push({ type: m.type, candidate: m.from, term: m.term, granted } as VoteRecord);
    if (granted) {
      // A granted (pre-)vote carries the term of the request, not ours.
      this.#reply(m, { type, term: m.term });
      if (!pre) this.vote = m.from;
    } else {
      this.#reply(m, { type, reject: true });
    }
  }

  #handleAppend(m: Message): void {
    if (m.index < this.committed) {
      this.appends.push({ index: m.index, entries: m.entries.length, accepted: true });
      this.#reply(m, { type: MessageType.MsgAppResp, index: this.committed });
      return;
    }
    if (this.termAt(m.index) !== m.logTerm) {
      this.appends.push({ index: m.index, entries: m.entries.length, accepted: false });
      this.#reply(m, {
        type: MessageType.MsgAppResp,
        index: m.index,
        reject: true,
        rejectHint: this.lastIndex(),
      });
      return;
    }
    for (const e of m.entries) {
      const have = this.termAt(e.index);
      if (have === e.term) continue;
      // A conflict (or the end of our log): drop from here on, then append.
      // (Entries start after m.index >= committed, so nothing committed goes.)
      this.terms.length = Number(e.index - this.offset - 1n);
      this.terms.push(e.term);
    }
    const lastNew = m.index + BigInt(m.entries.length);
    this.#commitTo(m.commit < lastNew ? m.commit : lastNew);
    this.appends.push({ index: m.index, entries: m.entries.length, accepted: true });
    this.#reply(m, { type: MessageType.MsgAppResp, index: lastNew });
  }

  #handleSnapshot(m: Message): void {
    const index = m.snapshot?.metadata?.index ?? 0n;
    const term = m.snapshot?.metadata?.term ?? 0n;
    if (index <= this.committed) {
      this.snapshots.push({ from: m.from, index, term, restored: false });
      this.#reply(m, { type: MessageType.MsgAppResp, index: this.committed });
      return;
    }
    if (this.termAt(index) === term) {
      // We already have the entry the snapshot ends at: just commit to it.
      this.#commitTo(index);
    } else {
      this.offset = index;
      this.offsetTerm = term;
      this.terms = [];
      this.committed = index;
    }
    this.snapshots.push({ from: m.from, index, term, restored: true });
    this.#reply(m, { type: MessageType.MsgAppResp, index: this.lastIndex() });
  }

  #commitTo(commit: bigint): void {
    const c = commit < this.lastIndex() ? commit : this.lastIndex();
    if (c > this.committed) this.committed = c;
  }

  #reply(
    to: Message,
    fields: {
      type: MessageType;
      term?: bigint;
      index?: bigint;
      reject?: boolean;
      rejectHint?: bigint;
      context?: Uint8Array;
    },
  ): void {
    const m = create(MessageSchema, { term: this.term, ...fields, to: to.from, from: this.id });
    this.sent.set(m.type, (this.sent.get(m.type) ?? 0) + 1);
    this.transport?.send([m]);
  }

  isIDRemoved(): boolean {
    return false;
  }

  reportUnreachable(id: bigint): void {
    this.unreachable.push(id);
  }

  reportSnapshot(id: bigint, status: SnapshotStatus): void {
    this.snapshotReports.push([id, status]);
  }
}
