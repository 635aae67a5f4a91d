/**
 * The membership a replica acts on: raft's ConfState (who votes, who
 * learns), the URL table, and the transport's peers kept in step with them.
 * Every applied change, of either conf change kind, goes through
 * {@link Membership.applied}; a snapshot's through {@link Membership.restored}.
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
import type { EventHub, MemberStatus } from "./events.ts";
import { decodeUrlsContext, type MemberTable } from "./member_table.ts";

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
  /** Called once when a change removes this member. */
  onSelfRemoved: () => void;
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

  /** Voters, then learners, with their URLs. */
  list(): MemberStatus[] {
    const row = (id: bigint, role: MemberStatus["role"]) => ({
      id,
      urls: this.#table.urls(id),
      role,
    });
    return [
      ...this.#conf.voters.map((id) => row(id, "voter")),
      ...this.#conf.learners.map((id) => row(id, "learner")),
    ];
  }

  /** True if `id` is a voter. */
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

  /** A change applied at `index`; `conf` is what the core made of it. */
  applied(change: MembershipChange, conf: ConfState, index: bigint): void {
    this.#conf = conf;
    const urls = decodeUrlsContext(change.context);
    for (const step of change.steps) {
      const id = step.nodeId;
      if (step.type === ConfChangeType.ConfChangeRemoveNode) {
        this.#table.remove(id);
        this.#removedAt.set(id, performance.now());
        if (id === this.#d.self) this.#d.onSelfRemoved();
        else this.#removePeerLater(id);
      } else {
        // V1 carries the one member's URLs; a V2 with several adds will carry a map.
        this.#table.add(id, change.steps.length === 1 ? urls : []);
        this.#addPeer(id);
      }
    }
    this.#d.events.emit({ type: "members", index, members: this.list() });
  }

  /** A snapshot at `index` replaced the log: its table and ConfState. */
  restored(table: MemberTable | undefined, conf: ConfState | undefined, index: bigint): void {
    if (table !== undefined) this.#table.replaceWith(table);
    if (conf !== undefined) this.#conf = conf;
    const t = this.#d.transport();
    for (const id of [...this.#conf.voters, ...this.#conf.learners]) this.#addPeer(id);
    for (const id of t?.peers() ?? []) {
      if (this.#table.isRemoved(id)) t!.removePeer(id).catch(() => {});
    }
    if (this.#table.isRemoved(this.#d.self)) this.#d.onSelfRemoved();
    this.#d.events.emit({ type: "members", index, members: this.list() });
  }

  /** Cancels pending peer removals. */
  stop(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
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
