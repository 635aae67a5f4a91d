/**
 * One simulated member: durable storage that survives crashes, a
 * volatile RawNode and state machine, and the application loop that
 * persists, sends, applies and compacts — feeding every fact to the
 * SafetyChecker.
 *
 * @module
 */

import { fromBinary } from "npm:@bufbuild/protobuf@2.17.0";
import {
  ConfChangeSchema,
  ConfChangeV2Schema,
  type ConfState,
  type Entry,
  EntryType,
  type Message,
  MessageType,
  SnapshotStatus,
} from "../../raftpb/mod.ts";
import { MemoryStorage } from "../memory_storage.ts";
import { RawNode } from "../raw_node.ts";
import type { Ready } from "../ready.ts";
import { contextKey } from "../read_only.ts";
import { type SafetyChecker, SimViolation } from "./sim_checker.ts";
import type { SimRandom } from "./sim_random.ts";
import {
  applyEntry,
  decodeState,
  emptyState,
  encodeState,
  type SimState,
} from "./sim_state_machine.ts";

/** What a member needs from the simulation around it. */
export interface SimWorld {
  readonly checker: SafetyChecker;
  /** Sends a message; returns false if the network lost it. */
  send(m: Message): boolean;
  /** Read context -> the highest index applied anywhere when the read was asked. */
  readonly reads: Map<string, bigint>;
  /** A member was added by a committed conf change: make sure it runs. */
  memberAdded(id: bigint): void;
  /** The conf change at `index` entered a joint configuration. */
  jointEntered(index: bigint): void;
  /** A ReadIndex came back and was checked. */
  readConfirmed(): void;
  /** Client proposal `id` was applied somewhere: it is acknowledged. */
  acknowledge(id: number): void;
  /** Traces an event (verbose runs). */
  log(line: string): void;
  /** True in verbose runs: worth building detailed trace lines. */
  readonly verbose: boolean;
}

/** Per-member settings drawn from the seed. */
export interface SimMemberOptions {
  preVote: boolean;
  checkQuorum: boolean;
  /** Snapshot once this many entries were applied since the last snapshot. */
  snapshotEvery: number;
  /** Entries kept in the log behind a snapshot. */
  keep: number;
  /** Ticks of the election timeout. */
  electionTick: number;
  /** Bytes of entries per MsgApp (1: one entry per message). */
  maxSizePerMsg: number;
  /** MsgApp in flight per follower. */
  maxInflightMsgs: number;
  /** Bytes of committed entries per Ready (1: one entry per Ready). */
  maxCommittedSizePerReady: number;
  /** The initial members, for a member of the initial cluster (undefined: it joins). */
  bootstrap?: bigint[];
}

const decoder = new TextDecoder();

/** A member of the simulated cluster. */
export class SimMember {
  readonly storage = new MemoryStorage();
  node: RawNode | undefined;
  state: SimState = emptyState();
  confState: ConfState | undefined;
  /** It applied its own removal and stopped for good. */
  removed = false;
  /**
   * It applied its own removal by leaving a joint configuration and keeps
   * running until a member of the configuration refuses it; it refuses
   * nobody itself (it knows only that it left).
   */
  leaving = false;
  /** Members whose removal it applied: their messages are refused, as the transport does. */
  readonly removedPeers = new Set<bigint>();
  /**
   * Members removed by leaving a joint configuration, with the index of
   * the leave: refused only once every voter applied it (see applyConfChange).
   */
  readonly leftPeers = new Map<bigint, bigint>();
  #commitCursor = 0n;
  #reports: (() => void)[] = [];

  constructor(
    readonly id: bigint,
    readonly rnd: SimRandom,
    readonly opts: SimMemberOptions,
    readonly world: SimWorld,
  ) {}

  /**
   * Starts (or restarts) the node from durable storage. An initial member
   * whose storage is still empty (it crashed before persisting its first
   * Ready) bootstraps again, as an application does when it finds no log:
   * restarting it empty would make it learn the membership one entry at a
   * time and, once it applied its own AddNode, believe it was alone.
   */
  start(): void {
    const snap = this.storage.snapshot();
    this.state = decodeState(snap.data);
    this.confState = snap.metadata?.confState;
    this.#commitCursor = this.state.index;
    this.node = new RawNode({
      id: this.id,
      storage: this.storage,
      applied: this.state.index,
      random: () => this.rnd.next(),
      preVote: this.opts.preVote,
      checkQuorum: this.opts.checkQuorum,
      electionTick: this.opts.electionTick,
      maxSizePerMsg: this.opts.maxSizePerMsg,
      maxInflightMsgs: this.opts.maxInflightMsgs,
      maxCommittedSizePerReady: this.opts.maxCommittedSizePerReady,
    });
    const empty = this.storage.lastIndex() === 0n &&
      this.storage.initialState().hardState.term === 0n;
    if (this.opts.bootstrap && empty) this.node.bootstrap(this.opts.bootstrap);
  }

  /**
   * Crashes the member. If a Ready is pending, the crash hits inside its
   * processing: before persisting (all of it lost) or after persisting
   * but before sending and applying.
   */
  crash(persistFirst: boolean): void {
    const node = this.node;
    if (!node) return;
    if (node.hasReady() && persistFirst) this.persist(node.ready());
    this.node = undefined;
    this.#reports = [];
  }

  /** Processes every pending Ready. */
  drain(): void {
    for (let i = 0; i < 100 && this.node?.hasReady(); i++) this.handleReady(this.node);
  }

  private handleReady(node: RawNode): void {
    const rd = node.ready();
    this.persist(rd);
    for (const m of rd.messages) this.sendOne(node, m);
    this.apply(node, rd);
    for (const rs of rd.readStates) {
      const asked = this.world.reads.get(contextKey(rs.requestCtx));
      if (asked === undefined) continue;
      this.world.checker.readIndex(this.id, rs.index, asked);
      this.world.readConfirmed();
    }
    node.advance(rd);
    const reports = this.#reports;
    this.#reports = [];
    for (const r of reports) r();
    this.maybeCompact();
    if (this.removed) {
      this.world.log(`member ${this.id} applied its removal and stops`);
      this.node = undefined;
    }
  }

  /** Writes the Ready's durable parts and checks them. */
  private persist(rd: Ready): void {
    const checker = this.world.checker;
    if (rd.snapshot) this.storage.applySnapshot(rd.snapshot);
    if (rd.hardState) {
      checker.vote(this.id, rd.hardState.term, rd.hardState.vote);
      this.storage.setHardState(rd.hardState);
    }
    let prev = rd.entries.length > 0 ? this.termOr0(rd.entries[0].index - 1n) : 0n;
    for (const e of rd.entries) {
      checker.persisted(this.id, e, prev);
      prev = e.term;
    }
    if (this.world.verbose && rd.entries.length > 0) {
      const terms = rd.entries.map((e) => `${e.index}:${e.term}`).join(" ");
      this.world.log(`member ${this.id} persists ${terms}`);
    }
    this.storage.append(rd.entries);
    const hs = this.storage.initialState().hardState;
    for (let i = this.#commitCursor + 1n; i <= hs.commit; i++) {
      const t = this.termOrUndefined(i);
      if (t !== undefined) checker.committedEntry(this.id, i, t, hs.term);
    }
    if (hs.commit > this.#commitCursor) this.#commitCursor = hs.commit;
    if (this.world.verbose && rd.softState) {
      this.world.log(`member ${this.id} is ${rd.softState.raftState} in term ${hs.term}`);
    }
    if (rd.softState?.raftState === "leader") {
      checker.leader(this.id, hs.term);
      checker.newLeader(this.id, hs.term, (i) => this.termOrUndefined(i));
    }
  }

  private termOrUndefined(i: bigint): bigint | undefined {
    if (i < this.storage.firstIndex() || i > this.storage.lastIndex()) return undefined;
    return this.storage.term(i);
  }

  private termOr0(i: bigint): bigint {
    try {
      return this.storage.term(i);
    } catch {
      return 0n;
    }
  }

  private sendOne(node: RawNode, m: Message): void {
    if (this.world.send(m)) return;
    if (m.type === MessageType.MsgSnap) {
      this.#reports.push(() => node.reportSnapshot(m.to, SnapshotStatus.Failure));
    } else if (this.rnd.chance(0.5)) {
      this.#reports.push(() => node.reportUnreachable(m.to));
    }
  }

  private apply(node: RawNode, rd: Ready): void {
    const checker = this.world.checker;
    if (rd.snapshot) {
      this.state = decodeState(rd.snapshot.data);
      this.confState = rd.snapshot.metadata?.confState;
      checker.applied(this.id, this.state.index, this.state.hash);
    }
    for (const e of rd.committedEntries) {
      if (e.index !== this.state.index + 1n) {
        throw new SimViolation(
          `member ${this.id} applies index ${e.index} right after ${this.state.index}`,
        );
      }
      if (e.type !== EntryType.EntryNormal) this.applyConfChange(node, e);
      const pid = proposalId(e);
      applyEntry(this.state, e, pid);
      checker.applied(this.id, e.index, this.state.hash);
      if (pid !== undefined) this.world.acknowledge(pid);
    }
  }

  /**
   * Applies a ConfChange or ConfChangeV2. Members that left the
   * configuration are removed (their messages are refused from now on, as
   * the transport does); new ones are started. This member, if removed,
   * stops as etcd's server does, unless it was removed by leaving a joint
   * configuration: then several voters leave at once, and if they all
   * stopped (or stopped each other) before the remaining ones learned that
   * the leave committed, those, still joint, could never win an election
   * again (a majority of the outgoing voters is needed). So it stays up,
   * voting, and the others refuse it only once every voter of the new
   * configuration applied the leave, as an application that waits for its
   * members to report the new configuration would.
   */
  private applyConfChange(node: RawNode, e: Entry): void {
    const before = members(this.confState);
    const leavesJoint = (this.confState?.votersOutgoing.length ?? 0) > 0;
    this.confState = e.type === EntryType.EntryConfChange
      ? node.applyConfChange(fromBinary(ConfChangeSchema, e.data))
      : node.applyConfChange(fromBinary(ConfChangeV2Schema, e.data));
    const after = members(this.confState);
    for (const id of before) {
      if (after.has(id)) continue;
      if (id !== this.id) {
        if (leavesJoint) this.leftPeers.set(id, e.index);
        else this.removedPeers.add(id);
      } else if (!leavesJoint) this.removed = true;
      else {
        this.leaving = true;
        this.world.log(`member ${id} applied its removal by leaving the joint config`);
      }
    }
    for (const id of after) if (!before.has(id)) this.world.memberAdded(id);
    // Joint after applying it: it entered the joint configuration (only leaving is allowed in one).
    if (this.confState.votersOutgoing.length > 0) this.world.jointEntered(e.index);
  }

  private maybeCompact(): void {
    const snapIndex = this.storage.snapshot().metadata?.index ?? 0n;
    if (this.state.index - snapIndex < BigInt(this.opts.snapshotEvery)) return;
    this.storage.createSnapshot(this.state.index, this.confState, encodeState(this.state));
    const to = this.state.index - BigInt(this.opts.keep);
    if (to >= this.storage.firstIndex()) this.storage.compact(to);
  }
}

/** The client proposal id in a normal entry ("p<id>"), if it is one. */
export function proposalId(e: Entry): number | undefined {
  if (e.type !== EntryType.EntryNormal || e.data.length < 2 || e.data[0] !== 0x70) return undefined;
  return Number(decoder.decode(e.data.subarray(1)));
}

/** Every member of a configuration: voters of both sides and learners. */
function members(cs: ConfState | undefined): Set<bigint> {
  return new Set([
    ...cs?.voters ?? [],
    ...cs?.votersOutgoing ?? [],
    ...cs?.learners ?? [],
    ...cs?.learnersNext ?? [],
  ]);
}
