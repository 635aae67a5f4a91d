/**
 * The members of a campaign, by slot: a slot is a place a member runs (its
 * own network namespace on the LAN, or a pair of ports on 127.0.0.1) and
 * keeps across restarts; a member replaced through a membership change
 * gets a new id (a removed id is never reused) and may move to another
 * slot. Spare slots wait for joint-consensus replacements.
 *
 * @module
 */

import { freePorts } from "../../bench/ports.ts";
import type { LanView } from "./lan.ts";
import { type Launch, MemberProcess } from "./process.ts";
import type { MemberInfo, Target } from "./target.ts";

/** A member and its process (absent while stopped). */
export interface Member extends MemberInfo {
  proc?: MemberProcess;
  /** Its command line, made at its first start and kept for every restart. */
  launch?: Launch;
}

/** Called when a member exits without the campaign having asked for it. */
export type ExitListener = (m: Member, code: number) => void;

/** The members of one campaign run. */
export class Cluster {
  readonly byId = new Map<number, Member>();
  /** Member id per slot (index slot - 1); undefined: a spare slot. */
  readonly slotIds: (number | undefined)[];
  onUnexpectedExit: ExitListener = () => {};
  #nextId = 1;

  constructor(
    readonly target: Target,
    readonly root: string,
    readonly lan: LanView | undefined,
    slots: number,
  ) {
    this.slotIds = new Array(slots).fill(undefined);
  }

  /** A new member (a fresh id and an empty data directory) for `slot`; not started. */
  create(slot: number): Member {
    const id = this.#nextId++;
    const [peerPort, apiPort] = this.lan ? [12000 + id, 22000 + id] : freePorts(2);
    const host = this.lan ? this.lan.addr[slot - 1] : "127.0.0.1";
    const m: Member = {
      id,
      slot,
      host,
      peerUrl: `http://${host}:${peerPort}`,
      apiUrl: `http://${host}:${apiPort}`,
      dataDir: `${this.root}/m${id}`,
      netns: this.lan?.ns[slot - 1],
    };
    Deno.mkdirSync(m.dataDir, { recursive: true });
    this.byId.set(id, m);
    return m;
  }

  /** Makes `m` the member of its slot (the slot's previous member must be gone). */
  place(m: Member): void {
    this.slotIds[m.slot - 1] = m.id;
  }

  /** Frees `slot` (its member was removed). */
  vacate(slot: number): void {
    this.slotIds[slot - 1] = undefined;
  }

  /** The member in `slot`, if any. */
  at(slot: number): Member | undefined {
    const id = this.slotIds[slot - 1];
    return id === undefined ? undefined : this.byId.get(id);
  }

  /** Slots with a member. */
  activeSlots(): number[] {
    return this.slotIds.flatMap((id, i) => id === undefined ? [] : [i + 1]);
  }

  /** Slots without one. */
  spareSlots(): number[] {
    return this.slotIds.flatMap((id, i) => id === undefined ? [i + 1] : []);
  }

  /** Members of active slots whose process runs and is not paused. */
  live(): Member[] {
    return this.activeSlots().map((s) => this.at(s)!).filter((m) =>
      m.proc?.running === true && !m.proc.paused
    );
  }

  /** Starts `m` (from its data directory; `join`: as a new member of a running cluster). */
  start(m: Member, join = false): void {
    if (m.proc?.running) throw new Error(`member ${m.id} is already running`);
    const all = [...this.byId.values()].sort((a, b) => a.id - b.id);
    m.launch ??= this.target.launch(m, all, join);
    const proc = new MemberProcess(
      m.launch,
      `${this.target.name} ${m.id}@${m.slot}`,
      (line) => this.target.onLine?.(m, line),
    );
    m.proc = proc;
    proc.exited.then((s) => {
      if (!proc.expectExit) this.onUnexpectedExit(m, s.code);
    });
  }

  /** SIGKILLs `m` (SIGCONT first if paused) and waits for its exit. */
  async kill(m: Member): Promise<void> {
    await m.proc?.kill();
  }

  /** The last lines of every member's output, for error messages. */
  logs(lines = 10): string {
    return [...this.byId.values()].flatMap((m) => m.proc?.tail(lines) ?? []).join("\n");
  }

  /** Kills every member and removes the data. */
  async close(): Promise<void> {
    await Promise.all([...this.byId.values()].map((m) => this.kill(m)));
    await Deno.remove(this.root, { recursive: true }).catch(() => {});
  }
}
