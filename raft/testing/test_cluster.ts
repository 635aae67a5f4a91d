/**
 * A tiny in-memory cluster for the unit tests: members with
 * MemoryStorage, an application loop, and a network the test controls.
 *
 * @module
 */

import { fromBinary } from "npm:@bufbuild/protobuf@2.17.0";
import {
  ConfChangeSchema,
  ConfChangeTransition,
  ConfChangeType,
  type ConfChangeV2,
  ConfChangeV2Schema,
  type ConfState,
  create,
  type Entry,
  EntryType,
  type Message,
  MessageType,
  SnapshotStatus,
} from "../../raftpb/mod.ts";
import type { RaftConfig } from "../config.ts";
import { MemoryStorage } from "../memory_storage.ts";
import { RawNode } from "../raw_node.ts";
import { bootstrapPeers } from "../bootstrap.ts";

/** One member of the test cluster and what its state machine applied. */
export interface TestMember {
  id: bigint;
  node: RawNode;
  storage: MemoryStorage;
  applied: Entry[];
  readStates: { index: bigint; requestCtx: Uint8Array }[];
  confState?: ConfState;
  /** Every ConfState its conf changes returned, in order. */
  confHistory: ConfState[];
  snapshotData?: string;
}

/** Decides whether a message is delivered. */
export type Filter = (m: Message) => boolean;

/** Members, a message queue, and helpers to run the cluster until it is quiet. */
export class TestCluster {
  readonly members = new Map<bigint, TestMember>();
  queue: Message[] = [];
  filter: Filter = () => true;
  /** Report a delivered MsgSnap as finished to its sender, as the transport does. */
  reportSnapshots = true;
  /** Every message delivered, for assertions. */
  delivered: Message[] = [];

  constructor(ids: bigint[], extra: Partial<RaftConfig> = {}) {
    for (const id of ids) this.add(id, extra, ids);
  }

  /** Adds a member; `peers` bootstraps it (omit for a member that joins later). */
  add(id: bigint, extra: Partial<RaftConfig> = {}, peers?: bigint[]): TestMember {
    const storage = new MemoryStorage();
    if (peers) bootstrapPeers(storage, peers);
    let seed = Number(id) * 7919;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const node = new RawNode({ id, storage, random, ...extra });
    const m: TestMember = { id, node, storage, applied: [], readStates: [], confHistory: [] };
    this.members.set(id, m);
    return m;
  }

  /** Snapshots `id`'s state at its applied index and drops the log before it. */
  compact(id: bigint): void {
    const m = this.get(id);
    const index = m.node.status().applied;
    m.storage.createSnapshot(
      index,
      m.confState,
      new TextEncoder().encode(this.appliedData(id).join()),
    );
    m.storage.compact(index);
  }

  get(id: bigint): TestMember {
    return this.members.get(id)!;
  }

  /** Runs every member's Ready loop once; returns true if any had work. */
  processReady(): boolean {
    let any = false;
    for (const m of this.members.values()) {
      while (m.node.hasReady()) {
        any = true;
        const rd = m.node.ready();
        if (rd.snapshot) {
          m.storage.applySnapshot(rd.snapshot);
          m.confState = rd.snapshot.metadata?.confState;
          m.snapshotData = new TextDecoder().decode(rd.snapshot.data);
        }
        if (rd.hardState) m.storage.setHardState(rd.hardState);
        m.storage.append(rd.entries);
        this.queue.push(...rd.messages);
        m.readStates.push(...rd.readStates);
        for (const e of rd.committedEntries) {
          if (e.type === EntryType.EntryConfChange) {
            m.confState = m.node.applyConfChange(fromBinary(ConfChangeSchema, e.data));
            m.confHistory.push(m.confState);
          } else if (e.type === EntryType.EntryConfChangeV2) {
            m.confState = m.node.applyConfChange(fromBinary(ConfChangeV2Schema, e.data));
            m.confHistory.push(m.confState);
          }
          m.applied.push(e);
        }
        m.node.advance(rd);
      }
    }
    return any;
  }

  /** Delivers queued messages (and the ones they cause) until nothing moves. */
  stabilize(maxRounds = 1000): void {
    for (let i = 0; i < maxRounds; i++) {
      const worked = this.processReady();
      if (this.queue.length === 0 && !worked) return;
      const q = this.queue;
      this.queue = [];
      for (const msg of q) this.deliver(msg);
    }
    throw new Error("cluster did not stabilize");
  }

  /** Delivers one message if the filter lets it through and the target exists. */
  deliver(msg: Message): void {
    const to = this.members.get(msg.to);
    if (!to || !this.filter(msg)) return;
    this.delivered.push(msg);
    try {
      to.node.step(msg);
    } catch {
      // dropped proposals and unknown peers are normal here
    }
    if (msg.type === MessageType.MsgSnap && this.reportSnapshots) {
      this.members.get(msg.from)?.node.reportSnapshot(msg.to, SnapshotStatus.Finish);
    }
  }

  /** Ticks every member `n` times, stabilizing after each tick. */
  tickAll(n: number): void {
    for (let i = 0; i < n; i++) {
      for (const m of this.members.values()) m.node.tick();
      this.stabilize();
    }
  }

  /** The member that believes it is leader with the highest term, if any. */
  leader(): TestMember | undefined {
    let best: TestMember | undefined;
    for (const m of this.members.values()) {
      const st = m.node.status();
      if (st.state === "leader" && (!best || st.term > best.node.status().term)) best = m;
    }
    return best;
  }

  /** Elects `id` by campaigning it. */
  elect(id: bigint): void {
    this.stabilize();
    this.get(id).node.campaign();
    this.stabilize();
  }

  /** Data of the normal, non-empty entries `id` applied, as strings. */
  appliedData(id: bigint): string[] {
    return this.get(id).applied
      .filter((e) => e.type === EntryType.EntryNormal && e.data.length > 0)
      .map((e) => new TextDecoder().decode(e.data));
  }
}

/** True for messages of type `t`. */
export function ofType(t: MessageType): Filter {
  return (m) => m.type === t;
}

/** Encodes a string as bytes. */
export function bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

const CHANGE_TYPES: Record<string, ConfChangeType> = {
  v: ConfChangeType.ConfChangeAddNode,
  l: ConfChangeType.ConfChangeAddLearnerNode,
  r: ConfChangeType.ConfChangeRemoveNode,
  u: ConfChangeType.ConfChangeUpdateNode,
};

/**
 * A ConfChangeV2 from etcd's shorthand: "v4 v5 r2 r3" makes 4 and 5
 * voters and removes 2 and 3 ("l" makes a learner, "u" updates).
 */
export function ccV2(
  spec: string,
  transition = ConfChangeTransition.ConfChangeTransitionAuto,
): ConfChangeV2 {
  const changes = spec.split(" ").filter((w) => w !== "").map((w) => {
    const type = CHANGE_TYPES[w[0]];
    if (type === undefined) throw new Error(`unknown change ${w}`);
    return { type, nodeId: BigInt(w.slice(1)) };
  });
  return create(ConfChangeV2Schema, { transition, changes });
}
