/**
 * One run of a demo member's raft: a `RawNode` on a `MemoryStorage`, and
 * the small loop that drives it. Everything that touches the core (ticks,
 * received messages, proposals, the transport's reports) is queued and run
 * in order; after them every Ready is handled to its end before `advance`:
 * persist (snapshot, hard state, entries), send (a MsgSnap through the
 * demo's `sendSnapshot`, its data streamed), apply (checking each entry's
 * data), take a snapshot and compact now and then. The storage is memory,
 * so a Ready is handled synchronously and the core is never stepped while
 * one is out.
 *
 * @module
 */

import { fromBinary } from "@bufbuild/protobuf";
import {
  ConfChangeSchema,
  type ConfState,
  type Entry,
  EntryType,
  type Logger,
  type Message,
  MessageType,
  type Raft,
  type Snapshot,
  type SnapshotStatus,
} from "@rafthttp/rafthttp";
import {
  MemoryStorage,
  RawNode,
  type Ready,
  type SoftState,
  type StateType,
} from "@rafthttp/rafthttp/raft";
import type { SnapshotCheck } from "./snapshot_data.ts";

/** Bytes of data in every proposed entry. */
export const ENTRY_DATA_SIZE = 100;

/**
 * The data proposed for the entry at `index`: the index as 8 bytes
 * (big-endian), then a pattern made from it. The leader knows the index a
 * proposal gets (its last index + 1), so every member can check that the
 * entry it applies at an index carries that index's data.
 *
 * @example
 * ```ts
 * const d = entryData(7n);
 * console.log(d.length, d[7], d[8]); // 100 7 15
 * ```
 */
export function entryData(index: bigint): Uint8Array {
  const d = new Uint8Array(ENTRY_DATA_SIZE);
  new DataView(d.buffer).setBigUint64(0, index);
  const n = Number(index);
  for (let i = 8; i < d.length; i++) d[i] = (n + i) & 0xff;
  return d;
}

/**
 * True if `e` carries the data {@link entryData} made for its index.
 *
 * @example
 * ```ts
 * import { create, EntrySchema } from "@rafthttp/rafthttp";
 * console.log(entryDataOk(create(EntrySchema, { index: 7n, data: entryData(7n) }))); // true
 * console.log(entryDataOk(create(EntrySchema, { index: 8n, data: entryData(7n) }))); // false
 * ```
 */
export function entryDataOk(e: Entry): boolean {
  const d = e.data;
  if (d.length !== ENTRY_DATA_SIZE) return false;
  if (new DataView(d.buffer, d.byteOffset, 8).getBigUint64(0) !== e.index) return false;
  const n = Number(e.index);
  for (let i = 8; i < d.length; i++) if (d[i] !== ((n + i) & 0xff)) return false;
  return true;
}

/** What a node needs from the demo around it. */
export interface NodeHooks {
  /** Hands messages to this run's transport. */
  send(msgs: Message[]): void;
  /** Sends a MsgSnap with its data streamed; resolves with the transfer's outcome. */
  sendSnapshot(m: Message): Promise<boolean>;
  /** Something worth telling the user happened. */
  event(text: string): void;
}

/** How one run of a member is set up. */
export interface NodeOptions {
  id: bigint;
  /** A brand-new cluster's members: this member bootstraps with them. */
  bootstrap?: bigint[];
  /**
   * What an earlier run of this member persisted (its disk): a restarted
   * member resumes from it, as raft requires (a member that lost its data
   * would have to be removed and added back).
   */
  storage?: MemoryStorage;
  /** Ms between ticks; an election timeout is 10-20 ticks, a heartbeat 1. */
  tickMs: number;
  /** Applied entries between two snapshots of the state machine. */
  snapshotEvery: number;
  /** Entries kept behind a snapshot, for followers that lag a little (etcd's catch-up entries). */
  retain: number;
  /** Whether a received snapshot's data arrived intact (the sink that read it). */
  snapshots: SnapshotCheck;
  hooks: NodeHooks;
}

/**
 * One run of a member: its raft core, storage, and state machine (which
 * here only checks and counts the entries it applies). It is the
 * transport's `Raft`: what arrives is stepped into the core.
 *
 * @example
 * ```ts ignore
 * const node = new DemoNode({
 *   id: 1n, bootstrap: [1n, 2n, 3n], tickMs: 100, snapshotEvery: 100, retain: 1000,
 *   snapshots: sink, hooks: { send: (m) => transport.send(m), sendSnapshot, event: console.log },
 * });
 * node.start();
 * node.campaign();
 * ```
 */
export class DemoNode implements Raft {
  readonly id: bigint;
  readonly storage: MemoryStorage;
  readonly raft: RawNode;
  /** The role and the known leader, as of the last Ready. */
  role: StateType = "follower";
  lead = 0n;
  /** When this run became the leader. */
  leaderSince: number | undefined;
  /** The state machine: the last index applied, and the entries checked. */
  applied = 0n;
  goodEntries = 0;
  badEntries = 0;
  /** Entries this run proposed as the leader. */
  proposed = 0;
  /** The snapshot this run restored from, if any. */
  restoredFrom: bigint | undefined;
  /** How often the transport called `reportUnreachable`, per peer. */
  readonly unreachable = new Map<bigint, number>();
  readonly #o: NodeOptions;
  #confState: ConfState | undefined;
  #snapshotsOut = 0;
  #queue: ((raft: RawNode) => void)[] = [];
  #scheduled = false;
  #ticker: ReturnType<typeof setInterval> | undefined;
  #stopped = false;
  /** Peers already said to need a snapshot (until they are back in the log). */
  #pastLog = new Set<bigint>();
  #warned = new Set<string>();

  constructor(o: NodeOptions) {
    this.id = o.id;
    this.#o = o;
    this.storage = o.storage ?? new MemoryStorage();
    // The state machine only checks entries: it resumes at the kept snapshot.
    const kept = this.storage.snapshot().metadata;
    this.applied = kept?.index ?? 0n;
    this.#confState = kept?.confState;
    this.raft = new RawNode({
      id: o.id,
      storage: this.storage,
      applied: this.applied,
      electionTick: 10,
      heartbeatTick: 1,
      preVote: true,
      checkQuorum: true,
      logger: this.#raftLogger(),
    });
    if (o.bootstrap !== undefined) this.raft.bootstrap(o.bootstrap);
  }

  /** Starts the tick timer, and handles what bootstrap left (its conf changes). */
  start(): void {
    if (this.#stopped || this.#ticker !== undefined) return;
    this.#ticker = setInterval(() => this.#run((r) => r.tick()), this.#o.tickMs);
    this.#run(() => {});
  }

  /** Stops ticking and taking messages: this run is over. */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#ticker);
    this.#queue = [];
  }

  /** Campaigns now, instead of waiting for an election timeout. */
  campaign(): void {
    this.#run((r) => r.campaign());
  }

  /** As the leader, proposes `n` entries, each carrying {@link entryData} of the index it gets. */
  propose(n: number): void {
    this.#run((r) => {
      // The leader's own match is its last index: proposal i lands at last + i.
      const last = r.status().progress?.get(this.id)?.match;
      if (last === undefined) return; // no longer the leader
      for (let i = 1n; i <= BigInt(n); i++) {
        r.propose(entryData(last + i));
        this.proposed++;
      }
    });
  }

  /** True once {@link stop} was called. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** The last index in storage (everything raft appended: a Ready is never left half done). */
  get lastIndex(): bigint {
    return this.storage.lastIndex();
  }

  /** The first index still in the log (after the last compaction). */
  get firstIndex(): bigint {
    return this.storage.firstIndex();
  }

  // ---- the transport's Raft interface ----

  /** Steps a received message; a MsgSnap only if its data arrived intact (else: a 500). */
  process(m: Message): void {
    if (m.type === MessageType.MsgSnap) {
      const index = m.snapshot?.metadata?.index ?? 0n;
      if (this.#o.snapshots.verified(index) === undefined) {
        throw new Error(`snapshot ${index} did not arrive intact`);
      }
    }
    this.#run((r) => r.step(m));
  }

  /** Nobody is removed in the demo. */
  isIDRemoved(): boolean {
    return false;
  }

  /** A message to `id` was not delivered: raft stops streaming to it and probes. */
  reportUnreachable(id: bigint): void {
    if (this.#stopped) return;
    this.unreachable.set(id, (this.unreachable.get(id) ?? 0) + 1);
    this.#run((r) => {
      if (r.status().progress?.get(id)?.state === "replicate") {
        this.#o.hooks.event(
          `member ${this.id}: transport reports member ${id} unreachable; ` +
            "raft stops streaming entries to it and probes",
        );
      }
      r.reportUnreachable(id);
    });
  }

  /** How a snapshot sent with `sendSnapshot` ended, as the transport reports it. */
  reportSnapshot(id: bigint, status: SnapshotStatus): void {
    this.#run((r) => r.reportSnapshot(id, status));
  }

  // ---- the loop ----

  /** Queues an action on the core; the queue is run, and its Readies handled, in a microtask. */
  #run(action: (raft: RawNode) => void): void {
    if (this.#stopped) return;
    this.#queue.push(action);
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => this.#drain());
  }

  #drain(): void {
    try {
      while (!this.#stopped && (this.#queue.length > 0 || this.raft.hasReady())) {
        const actions = this.#queue;
        this.#queue = [];
        for (const act of actions) {
          try {
            act(this.raft);
          } catch {
            // A refused step or proposal (a response from an unknown peer,
            // no leader to take a proposal): raft recovers by itself.
          }
        }
        while (!this.#stopped && this.raft.hasReady()) {
          const rd = this.raft.ready();
          this.#handle(rd);
          this.raft.advance(rd);
        }
      }
    } catch (e) {
      this.#o.hooks.event(`member ${this.id} failed and stops: ${(e as Error).stack ?? e}`);
      this.stop();
    } finally {
      this.#scheduled = false;
    }
  }

  /** Persist, then send, then apply (raftexample's order); `advance` follows. */
  #handle(rd: Ready): void {
    if (rd.softState !== undefined) this.#roleChanged(rd.softState);
    if (rd.snapshot !== undefined) this.#restore(rd.snapshot);
    if (rd.hardState !== undefined) this.storage.setHardState(rd.hardState);
    this.storage.append(rd.entries);
    this.#send(rd.messages);
    for (const e of rd.committedEntries) this.#apply(e);
    this.#maybeCompact();
  }

  #send(messages: Message[]): void {
    const rest: Message[] = [];
    for (const m of messages) {
      if (m.type !== MessageType.MsgSnap) {
        rest.push(m);
        continue;
      }
      // No compaction while it is on its way: a newer snapshot would make
      // the follower's log, once restored, start before the leader's.
      this.#snapshotsOut++;
      this.#o.hooks.sendSnapshot(m).finally(() => this.#snapshotsOut--);
    }
    if (rest.length > 0) this.#o.hooks.send(rest);
  }

  #apply(e: Entry): void {
    if (e.index <= this.applied) return;
    if (e.type === EntryType.EntryConfChange) {
      this.#confState = this.raft.applyConfChange(fromBinary(ConfChangeSchema, e.data));
    } else if (e.data.length > 0) {
      // Empty entries are the ones a new leader appends: not proposals.
      if (entryDataOk(e)) this.goodEntries++;
      else this.badEntries++;
    }
    this.applied = e.index;
  }

  /** The leader's snapshot replaces the log and the state machine. */
  #restore(snap: Snapshot): void {
    const index = snap.metadata?.index ?? 0n;
    this.storage.applySnapshot(snap);
    this.#confState = snap.metadata?.confState;
    this.applied = index;
    this.restoredFrom = index;
    this.#o.hooks.event(
      `member ${this.id} restored the snapshot at index ${index} (members ${
        this.#confState?.voters.join(", ")
      }): its log starts after it`,
    );
  }

  /** Every `snapshotEvery` applied entries: a snapshot there, and the log compacted behind it. */
  #maybeCompact(): void {
    const snapIndex = this.storage.snapshot().metadata?.index ?? 0n;
    if (this.#snapshotsOut > 0 || this.applied - snapIndex < BigInt(this.#o.snapshotEvery)) return;
    // The demo's state machine has nothing to save: the snapshot's data,
    // when one is sent, is generated as the transport pulls it.
    this.storage.createSnapshot(this.applied, this.#confState, new Uint8Array());
    const to = this.applied - BigInt(this.#o.retain);
    if (to < this.storage.firstIndex()) return;
    this.storage.compact(to);
    if (this.role === "leader") this.#tellCompactedPast(to);
  }

  #tellCompactedPast(to: bigint): void {
    for (const [id, pr] of this.raft.status().progress ?? []) {
      if (id === this.id) continue;
      if (pr.match >= to) {
        this.#pastLog.delete(id);
      } else if (!this.#pastLog.has(id)) {
        this.#pastLog.add(id);
        this.#o.hooks.event(
          `member ${this.id} compacted its log to ${to}, past member ${id}'s match ${pr.match} ` +
            `(MemoryStorage.createSnapshot at ${this.applied}, then compact): ` +
            `member ${id} now needs a snapshot`,
        );
      }
    }
  }

  #roleChanged(s: SoftState): void {
    const term = this.raft.status().term;
    this.role = s.raftState;
    this.lead = s.lead;
    if (s.raftState === "leader") {
      this.leaderSince = Date.now();
      this.#o.hooks.event(`member ${this.id} is the leader (term ${term})`);
    } else if (s.raftState === "follower") {
      if (s.lead !== 0n) {
        this.#o.hooks.event(`member ${this.id} follows member ${s.lead} (term ${term})`);
      }
    } else {
      this.#o.hooks.event(`member ${this.id} is a ${s.raftState} (term ${term})`);
    }
  }

  /** raft's warnings, each once per run (one without a configuration warns every timeout). */
  #raftLogger(): Logger {
    const warn = (msg: string) => {
      if (this.#warned.has(msg)) return;
      this.#warned.add(msg);
      this.#o.hooks.event(`member ${this.id} raft: ${msg}`);
    };
    return { debug() {}, info() {}, warn, error: warn };
  }
}
