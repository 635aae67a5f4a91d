/**
 * A cluster of etcd raft members (in an EtcdHub) and one member of ours,
 * stepped in lockstep: each round delivers our messages to the hub and the
 * hub's to us.
 *
 * @module
 */

import { fromBinary } from "npm:@bufbuild/protobuf@2.17.0";
import {
  ConfChangeSchema,
  ConfChangeV2Schema,
  type ConfState,
  EntryType,
  type Message,
} from "../../mod.ts";
import { MemoryStorage, RawNode } from "../../raft/mod.ts";
import type { EtcdHub } from "./etcd_hub.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** Our member, its applied entries, and the hub's members' applied entries and reads. */
export class MixedCluster {
  readonly storage = new MemoryStorage();
  readonly node: RawNode;
  /** What our member applied ("data", or "snap@index:data"). */
  readonly applied: string[] = [];
  /** What each etcd member applied. */
  readonly etcdApplied = new Map<string, string[]>();
  /** Read states: ours as "index:ctx", the hub's as "etcd<id>:index:ctx". */
  readonly reads: string[] = [];
  /** The ConfStates our member's conf changes returned, as "index voters outgoing learners learnersNext autoLeave". */
  readonly confStates: string[] = [];
  /** The same for each etcd member. */
  readonly etcdConfStates = new Map<string, string[]>();
  /** Errors the hub reported. */
  readonly etcdErrors: string[] = [];
  /** While true, nothing passes between our member and the hub. */
  cut = false;
  #outbox: Message[] = [];

  /** Our member `id`, bootstrapped with all `peers`, beside `hub`. */
  constructor(readonly hub: EtcdHub, readonly id: bigint, peers: bigint[]) {
    this.node = new RawNode({ id, storage: this.storage });
    this.node.bootstrap(peers);
  }

  /** Runs our member's Ready loop. */
  drain(): void {
    while (this.node.hasReady()) {
      const rd = this.node.ready();
      if (rd.snapshot) {
        this.storage.applySnapshot(rd.snapshot);
        this.applied.push(`snap@${rd.snapshot.metadata?.index}:${text(rd.snapshot.data)}`);
      }
      if (rd.hardState) this.storage.setHardState(rd.hardState);
      this.storage.append(rd.entries);
      if (!this.cut) this.#outbox.push(...rd.messages);
      for (const e of rd.committedEntries) {
        if (e.type === EntryType.EntryConfChange) {
          const cs = this.node.applyConfChange(fromBinary(ConfChangeSchema, e.data));
          this.confStates.push(`${e.index} ${describe(cs)}`);
        } else if (e.type === EntryType.EntryConfChangeV2) {
          const cs = this.node.applyConfChange(fromBinary(ConfChangeV2Schema, e.data));
          this.confStates.push(`${e.index} ${describe(cs)}`);
        } else if (e.data.length > 0) this.applied.push(text(e.data));
      }
      for (const rs of rd.readStates) this.reads.push(`${rs.index}:${text(rs.requestCtx)}`);
      this.node.advance(rd);
    }
  }

  /** One lockstep round with hub `commands`; returns the hub's status lines. */
  async round(...commands: string[]): Promise<string[]> {
    this.drain();
    const out = this.#outbox;
    this.#outbox = [];
    const reply = await this.hub.round(out, commands);
    if (!this.cut) {
      // Messages to members that run nowhere (added by a conf change) are lost.
      for (const m of reply.messages) if (m.to === this.id) this.node.step(m);
    }
    const status: string[] = [];
    for (const line of reply.lines) {
      const f = line.split(" ");
      if (f[0] === "applied") this.#etcdApply(f[1], f[3]);
      else if (f[0] === "snapshot") this.#etcdApply(f[1], `snap@${f[2]}`);
      else if (f[0] === "readstate") this.reads.push(`etcd${f[1]}:${f[2]}:${f[3]}`);
      else if (f[0] === "confstate") this.#etcdConfState(f[1], f.slice(2).join(" "));
      else if (f[0] === "status") status.push(line);
      else if (f[0] === "error") this.etcdErrors.push(line);
    }
    this.drain();
    return status;
  }

  #etcdConfState(id: string, what: string): void {
    const list = this.etcdConfStates.get(id) ?? [];
    list.push(what);
    this.etcdConfStates.set(id, list);
  }

  #etcdApply(id: string, what: string): void {
    const list = this.etcdApplied.get(id) ?? [];
    list.push(what);
    this.etcdApplied.set(id, list);
  }

  /** Ticks every member `n` times, a round after each tick. */
  async ticks(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      this.node.tick();
      await this.round("tick");
    }
  }
}

/** A ConfState as the hub prints it: "voters outgoing learners learnersNext autoLeave". */
function describe(cs: ConfState): string {
  const list = (ids: bigint[]) => ids.length === 0 ? "-" : ids.join(",");
  return `${list(cs.voters)} ${list(cs.votersOutgoing)} ${list(cs.learners)} ` +
    `${list(cs.learnersNext)} ${cs.autoLeave}`;
}
