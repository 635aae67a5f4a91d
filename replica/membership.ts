/**
 * The membership a replica acts on: raft's ConfState (who votes, who
 * learns, and while joint who votes in the outgoing configuration), the URL
 * table, and the transport's peers kept in step with them. Every applied
 * change, of either conf change kind, goes through {@link Membership.applied};
 * a snapshot's through {@link Membership.restored}. A member leaves the
 * table and the peers when it leaves the configuration: one removed by a
 * joint change stays (it still votes in the outgoing configuration) until
 * the leave is applied.
 *
 * @module
 */

import {
  ConfChangeType,
  type ConfState,
  ConfStateSchema,
  create,
  type Logger,
  type Transport,
} from "../mod.ts";
import type { MembershipChange } from "./conf_change.ts";
import { contextUrls } from "./conf_context.ts";
import type { EventHub, MemberStatus } from "./events.ts";
import type { MemberTable } from "./member_table.ts";

/**
 * What the membership needs from its replica.
 *
 * @example
 * ```ts ignore
 * const deps: MembershipDeps = { self: 1n, transport: () => t, events, graceMs: 1000, onSelfRemoved, log };
 * ```
 */
export interface MembershipDeps {
  /** This member. */
  self: bigint;
  /** The replica's transport (set once it exists). */
  transport: () => Transport | undefined;
  /** Where membership events go. */
  events: EventHub;
  /** Time a removed member's messages are still taken, and its peer kept, ms. */
  graceMs: number;
  /**
   * Called when a change removes this member; `byLeave`: by leaving a
   * joint configuration (other members may still need its vote).
   */
  onSelfRemoved: (byLeave: boolean) => void;
  /** Logger. */
  log: Logger;
}

/**
 * The membership of one replica.
 *
 * @example
 * ```ts ignore
 * const m = new Membership(table, snapshotConfState, deps);
 * m.applied(change, raft.applyConfChange(cc), entry.index); // peers added or removed, event sent
 * console.log(m.list()); // [{ id: 1n, urls: [...], role: "voter" }, ...]
 * ```
 */
export class Membership {
  readonly #d: MembershipDeps;
  readonly #table: MemberTable;
  #conf: ConfState;
  readonly #removedAt = new Map<bigint, number>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();

  /** Starts from the URL table and the ConfState of the newest snapshot (if any). */
  constructor(table: MemberTable, conf: ConfState | undefined, deps: MembershipDeps) {
    this.#d = deps;
    this.#table = table;
    this.#conf = conf ?? create(ConfStateSchema);
  }

  /** Raft's membership as last applied. */
  get confState(): ConfState {
    return this.#conf;
  }

  /** The URL table as bytes, for a raft snapshot's data. */
  encode(): Uint8Array {
    return this.#table.encode();
  }

  /** True while the configuration is joint (between a joint change and its leave). */
  get joint(): boolean {
    return isJoint(this.#conf);
  }

  /**
   * Voters (of the incoming configuration, then those of the outgoing one
   * only), then learners, with their URLs; while joint, a voter of one side
   * only says which (see `MemberStatus.joint`).
   */
  list(): MemberStatus[] {
    const cs = this.#conf;
    const incoming = new Set(cs.voters);
    const outgoing = new Set(cs.votersOutgoing);
    const side = (id: bigint): Pick<MemberStatus, "joint"> => {
      if (outgoing.size === 0 || (incoming.has(id) && outgoing.has(id))) return {};
      return { joint: incoming.has(id) ? "incoming" : "outgoing" };
    };
    const row = (id: bigint, role: MemberStatus["role"]): MemberStatus => ({
      id,
      urls: this.#table.urls(id),
      role,
      ...side(id),
    });
    return [
      ...cs.voters.map((id) => row(id, "voter")),
      ...cs.votersOutgoing.filter((id) => !incoming.has(id)).map((id) => row(id, "voter")),
      ...cs.learners.map((id) => row(id, "learner")),
    ];
  }

  /** True if `id` is a voter (of the incoming configuration, while joint). */
  isVoter(id: bigint): boolean {
    return this.#conf.voters.includes(id);
  }

  /** True if `id` is a learner. */
  isLearner(id: bigint): boolean {
    return this.#conf.learners.includes(id);
  }

  /** Peer URLs of `id` as known here. */
  urls(id: bigint): string[] {
    return this.#table.urls(id);
  }

  /**
   * True if `id` was removed: its requests are refused (410). Not within the
   * grace time after this process applied the removal: a leader that removed
   * itself hands over with a MsgTimeoutNow sent just after.
   */
  isRemoved(id: bigint): boolean {
    if (!this.#table.isRemoved(id)) return false;
    const at = this.#removedAt.get(id);
    return at === undefined || performance.now() - at > this.#d.graceMs;
  }

  /** Adds every known member as a peer of the transport (at start). */
  addKnownPeers(): void {
    for (const id of this.#table.known()) this.#addPeer(id);
  }

  /**
   * A change applied at `index`; `conf` is what the core made of it. Added
   * members get their URLs (from the context) and a peer; members no
   * longer in the configuration are removed: at once for a simple change,
   * at the leave for those a joint change removes.
   */
  applied(change: MembershipChange, conf: ConfState, index: bigint): void {
    const before = memberIds(this.#conf);
    const leaving = isJoint(this.#conf) && !isJoint(conf);
    this.#conf = conf;
    const after = memberIds(conf);
    const urls = contextUrls(change.context, change.steps);
    const gone = [...before].filter((id) => !after.has(id));
    for (const step of change.steps) {
      const id = step.nodeId;
      if (step.type !== ConfChangeType.ConfChangeRemoveNode) {
        this.#table.add(id, urls.get(id) ?? []);
        this.#addPeer(id);
      } else if (!after.has(id) && !gone.includes(id)) {
        gone.push(id); // removed again (a repeat that landed): still refused
      }
    }
    for (const id of gone) {
      this.#table.remove(id);
      this.#removedAt.set(id, performance.now());
      if (id === this.#d.self) this.#d.onSelfRemoved(leaving);
      else this.#removePeerLater(id);
    }
    this.#emit(index);
  }

  /** A snapshot at `index` replaced the log: its table and ConfState. */
  restored(table: MemberTable | undefined, conf: ConfState | undefined, index: bigint): void {
    if (table !== undefined) this.#table.replaceWith(table);
    if (conf !== undefined) this.#conf = conf;
    const t = this.#d.transport();
    for (const id of memberIds(this.#conf)) this.#addPeer(id);
    for (const id of t?.peers() ?? []) {
      if (this.#table.isRemoved(id)) t!.removePeer(id).catch(() => {});
    }
    if (this.#table.isRemoved(this.#d.self)) this.#d.onSelfRemoved(false);
    this.#emit(index);
  }

  /** Cancels pending peer removals. */
  stop(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  #emit(index: bigint): void {
    this.#d.events.emit({ type: "members", index, members: this.list(), joint: this.joint });
  }

  #addPeer(id: bigint): void {
    const t = this.#d.transport();
    const urls = this.#table.urls(id);
    if (t === undefined || id === this.#d.self || urls.length === 0) return;
    try {
      if (t.peers().includes(id)) t.updatePeer(id, urls);
      else t.addPeer(id, urls);
    } catch (e) {
      this.#d.log.warn("cannot add a member's peer URLs", { id, error: (e as Error).message });
    }
  }

  /** Drops a removed member's peer after the grace time (see {@link isRemoved}). */
  #removePeerLater(id: bigint): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (this.#table.isRemoved(id)) this.#d.transport()?.removePeer(id).catch(() => {});
    }, this.#d.graceMs);
    this.#timers.add(timer);
  }
}

function isJoint(cs: ConfState): boolean {
  return cs.votersOutgoing.length > 0;
}

/** Every member of a configuration: voters of both sides and learners. */
function memberIds(cs: ConfState): Set<bigint> {
  return new Set([...cs.voters, ...cs.votersOutgoing, ...cs.learners, ...cs.learnersNext]);
}
