/**
 * The deterministic simulation: N members on a hostile in-memory network
 * (drops, duplicates, delays, reordering, partitions), with crashes and
 * restarts from durable storage, client proposals, membership changes,
 * compaction with snapshots, ReadIndex reads and leadership transfers.
 * Every step is checked by the SafetyChecker; at the end the network
 * heals and every acknowledged proposal must be applied everywhere.
 * Everything follows from the seed: a failing seed replays exactly.
 *
 * @module
 */

import { type Message, MessageType, SnapshotStatus } from "../../raftpb/mod.ts";
import { contextKey } from "../read_only.ts";
import { SafetyChecker, SimViolation } from "./sim_checker.ts";
import { SimMember, type SimWorld } from "./sim_member.ts";
import { pickMembershipChange } from "./sim_membership.ts";
import { SimNetwork } from "./sim_network.ts";
import { SimRandom } from "./sim_random.ts";

/** What to simulate. */
export interface SimulationOptions {
  /** Everything is derived from it. */
  seed: number;
  /** Initial members (3 or 5). Default 3. */
  members?: number;
  /** Random steps before the healing phase. Default 600. */
  steps?: number;
  /** Rounds the healed cluster gets to converge. Default 3000. */
  settleRounds?: number;
  /** Receives a trace line per event (verbose runs). */
  log?: (line: string) => void;
}

/** What a run did, to show that the faults and features were exercised. */
export interface SimulationStats {
  seed: number;
  members: number;
  steps: number;
  terms: number;
  committed: bigint;
  acknowledged: number;
  reads: number;
  readsConfirmed: number;
  crashes: number;
  partitions: number;
  confChanges: number;
  /** Of them, ConfChangeV2 (joint, learners, leaving). */
  confChangesV2: number;
  /** Joint configurations entered, as applied by the members. */
  jointEntered: number;
  snapshotsSent: number;
}

/** The command that replays one seed with a trace. */
export function replayCommand(seed: number, members: number): string {
  return `deno task sim --seed ${seed} --members ${members} --verbose`;
}

/** Runs one seed; throws SimViolation (with the replay command) if an invariant breaks. */
export function runSimulation(opts: SimulationOptions): SimulationStats {
  const sim = new Simulation(opts);
  try {
    sim.run();
  } catch (e) {
    const cmd = replayCommand(opts.seed, opts.members ?? 3);
    if (e instanceof Error) e.message += `\n  replay: ${cmd}`;
    throw e;
  }
  return sim.stats;
}

type Action = [weight: number, run: () => void];

class Simulation implements SimWorld {
  readonly checker = new SafetyChecker();
  readonly reads = new Map<string, bigint>();
  readonly verbose: boolean;
  readonly rnd: SimRandom;
  readonly net: SimNetwork;
  readonly members = new Map<bigint, SimMember>();
  readonly stats: SimulationStats;
  readonly #acked = new Set<number>();
  readonly #joint = new Set<bigint>();
  readonly #log: (line: string) => void;
  #now = 0;
  #nextId: bigint;
  #nextProposal = 1;
  #nextRead = 1;
  readonly #preVote: boolean;
  readonly #checkQuorum: boolean;
  readonly #initial: number;
  readonly #electionTick: number;
  readonly #maxSizePerMsg: number;
  readonly #maxInflightMsgs: number;
  readonly #maxCommittedSizePerReady: number;

  constructor(readonly opts: SimulationOptions) {
    this.rnd = new SimRandom(opts.seed);
    this.#log = opts.log ?? (() => {});
    this.verbose = opts.log !== undefined;
    this.#initial = opts.members ?? 3;
    this.#preVote = this.rnd.chance(0.5);
    this.#checkQuorum = this.rnd.chance(0.5);
    this.#electionTick = 3 + this.rnd.int(8);
    this.#maxSizePerMsg = this.rnd.pick([1, 256, 1 << 20]);
    this.#maxInflightMsgs = this.rnd.pick([1, 4, 256]);
    this.#maxCommittedSizePerReady = this.rnd.pick([1, Number.MAX_SAFE_INTEGER]);
    const faults = {
      drop: this.rnd.next() * 0.2,
      duplicate: this.rnd.next() * 0.1,
      maxDelay: this.rnd.int(6),
    };
    this.net = new SimNetwork(this.rnd.fork(), faults);
    this.stats = {
      seed: opts.seed,
      members: this.#initial,
      steps: opts.steps ?? 600,
      terms: 0,
      committed: 0n,
      acknowledged: 0,
      reads: 0,
      readsConfirmed: 0,
      crashes: 0,
      partitions: 0,
      confChanges: 0,
      confChangesV2: 0,
      jointEntered: 0,
      snapshotsSent: 0,
    };
    const ids = Array.from({ length: this.#initial }, (_, i) => BigInt(i + 1));
    this.#nextId = BigInt(this.#initial + 1);
    for (const id of ids) this.createMember(id, ids);
    this.log(
      `seed ${opts.seed}: ${this.#initial} members, preVote ${this.#preVote}, ` +
        `checkQuorum ${this.#checkQuorum}, electionTick ${this.#electionTick}, ` +
        `maxSizePerMsg ${this.#maxSizePerMsg}, maxInflightMsgs ${this.#maxInflightMsgs}, ` +
        `maxCommittedSizePerReady ${this.#maxCommittedSizePerReady}, faults ${
          JSON.stringify(faults)
        }`,
    );
  }

  log(line: string): void {
    this.#log(`[${this.#now}] ${line}`);
  }

  private createMember(id: bigint, bootstrap?: bigint[]): SimMember {
    const m = new SimMember(id, this.rnd.fork(), {
      preVote: this.#preVote,
      checkQuorum: this.#checkQuorum,
      snapshotEvery: 5 + this.rnd.int(25),
      keep: this.rnd.int(4),
      electionTick: this.#electionTick,
      maxSizePerMsg: this.#maxSizePerMsg,
      maxInflightMsgs: this.#maxInflightMsgs,
      maxCommittedSizePerReady: this.#maxCommittedSizePerReady,
      bootstrap,
    }, this);
    m.start();
    this.members.set(id, m);
    return m;
  }

  // --- SimWorld ---

  send(m: Message): boolean {
    return this.net.send(m, this.#now);
  }

  memberAdded(id: bigint): void {
    if (this.members.has(id)) return;
    this.log(`member ${id} joins`);
    this.createMember(id);
  }

  jointEntered(index: bigint): void {
    this.#joint.add(index);
  }

  readConfirmed(): void {
    this.stats.readsConfirmed++;
  }

  acknowledge(id: number): void {
    this.#acked.add(id);
  }

  // --- the run ---

  run(): void {
    const actions: Action[] = [
      [50, () => this.deliver()],
      [20, () => this.tickAll()],
      [10, () => this.propose()],
      [4, () => this.read()],
      [0.8, () => this.crash()],
      [4, () => this.restart()],
      [0.6, () => this.partition()],
      [2, () => this.heal()],
      [1, () => this.changeMembership()],
      [0.7, () => this.transfer()],
    ];
    const total = actions.reduce((s, [w]) => s + w, 0);
    for (let step = 0; step < this.stats.steps; step++) {
      this.#now++;
      let x = this.rnd.next() * total;
      for (const [w, run] of actions) {
        x -= w;
        if (x < 0) {
          run();
          break;
        }
      }
      this.afterStep();
    }
    this.heal();
    this.settle();
  }

  private live(): SimMember[] {
    return [...this.members.values()].filter((m) => m.node !== undefined);
  }

  private afterStep(): void {
    for (const m of this.live()) m.drain();
    for (const m of this.live()) {
      const st = m.node!.status();
      if (st.state === "leader") this.checker.leader(m.id, st.term);
    }
  }

  private deliver(): void {
    const n = 1 + this.rnd.int(3);
    for (let i = 0; i < n; i++) {
      const t = this.net.take(this.#now);
      if (!t) return;
      this.deliverOne(t.msg, t.lost);
    }
  }

  /**
   * True if `to`'s transport refuses `from` as removed: a member removed
   * one at a time as soon as `to` applied it; one removed by leaving a
   * joint configuration once every voter of the new one applied the leave.
   * A member that is leaving itself refuses nobody.
   */
  private refuses(to: SimMember, from: bigint): boolean {
    if (to.leaving) return false;
    if (to.removedPeers.has(from)) return true;
    const leave = to.leftPeers.get(from);
    if (leave === undefined) return false;
    return (to.confState?.voters ?? []).every((id) =>
      (this.members.get(id)?.state.index ?? 0n) >= leave
    );
  }

  /** Delivers `m`, or reports it lost to the sender as the transport would. */
  private deliverOne(m: Message, lost: boolean): void {
    const to = this.members.get(m.to);
    const sender = this.members.get(m.from)?.node;
    const isSnap = m.type === MessageType.MsgSnap;
    if (to?.node && this.refuses(to, m.from)) {
      // The transport refuses a removed member and tells it so (HTTP 410): it stops.
      const removed = this.members.get(m.from);
      if (removed?.node) {
        this.log(`member ${m.from} learns from ${m.to} that it was removed, and stops`);
        removed.node = undefined;
        removed.removed = true;
      }
      return;
    }
    if (lost || !to?.node) {
      if (isSnap) sender?.reportSnapshot(m.to, SnapshotStatus.Failure);
      else if (this.rnd.chance(0.3)) sender?.reportUnreachable(m.to);
      return;
    }
    try {
      to.node.step(m);
    } catch (e) {
      if (!(e instanceof Error) || !isExpected(e)) throw e;
    }
    if (isSnap) {
      this.stats.snapshotsSent++;
      sender?.reportSnapshot(m.to, SnapshotStatus.Finish);
    }
  }

  private tickAll(): void {
    for (const m of this.live()) m.node!.tick();
  }

  private leaderMember(): SimMember | undefined {
    let best: SimMember | undefined;
    let bestTerm = -1n;
    for (const m of this.live()) {
      const st = m.node!.status();
      if (st.state === "leader" && st.term > bestTerm) {
        best = m;
        bestTerm = st.term;
      }
    }
    return best;
  }

  private propose(): void {
    const live = this.live();
    if (live.length === 0) return;
    const target = this.rnd.chance(0.5)
      ? this.leaderMember() ?? this.rnd.pick(live)
      : this.rnd.pick(live);
    const id = this.#nextProposal++;
    try {
      target.node!.propose(new TextEncoder().encode(`p${id}`));
      this.log(`propose p${id} at ${target.id}`);
    } catch (e) {
      if (!(e instanceof Error) || !isExpected(e)) throw e;
    }
  }

  private read(): void {
    const live = this.live();
    if (live.length === 0) return;
    const m = this.rnd.pick(live);
    const ctx = new TextEncoder().encode(`r${this.#nextRead++}`);
    this.reads.set(contextKey(ctx), this.checker.maxApplied);
    m.node!.readIndex(ctx);
    this.stats.reads++;
  }

  private crash(): void {
    const live = this.live();
    if (live.length === 0) return;
    // Leaders are crashed more often: their failover is where bugs hide.
    const m = this.rnd.chance(0.4)
      ? this.leaderMember() ?? this.rnd.pick(live)
      : this.rnd.pick(live);
    const persistFirst = this.rnd.chance(0.5);
    m.crash(persistFirst);
    this.stats.crashes++;
    this.log(`crash ${m.id}${persistFirst ? " after persisting" : ""}`);
  }

  private restart(): void {
    const down = [...this.members.values()].filter((m) => !m.node && !m.removed);
    if (down.length === 0) return;
    const m = this.rnd.pick(down);
    m.start();
    this.log(`restart ${m.id}`);
  }

  private partition(): void {
    const p = new Map<bigint, number>();
    for (const id of this.members.keys()) p.set(id, this.rnd.int(2));
    this.net.partition = p;
    this.stats.partitions++;
    this.log(`partition ${JSON.stringify([...p].map(([id, side]) => `${id}:${side}`))}`);
  }

  private heal(): void {
    if (this.net.partition) this.log("heal");
    this.net.partition = undefined;
  }

  /**
   * Proposes one membership change (sim_membership.ts picks it), mostly
   * at the leader, now and then at another member (forwarded, or dropped
   * without a leader; built from that member's view, it may be refused).
   */
  private changeMembership(): void {
    const leader = this.leaderMember();
    const at = leader && this.rnd.chance(0.8) ? leader : this.rnd.pick(this.live());
    const cs = at?.confState;
    if (!at || !cs) return;
    const pick = pickMembershipChange(this.rnd, cs, this.#nextId, this.#initial);
    if (!pick) return;
    try {
      at.node!.proposeConfChange(pick.cc);
      this.#nextId += BigInt(pick.added);
      this.stats.confChanges++;
      if (pick.cc.$typeName === "raftpb.ConfChangeV2") this.stats.confChangesV2++;
      this.log(`propose ${pick.text} at ${at.id}`);
    } catch (e) {
      if (!(e instanceof Error) || !isExpected(e)) throw e;
    }
  }

  private transfer(): void {
    const leader = this.leaderMember();
    if (!leader) return;
    const others = [...(leader.node!.status().progress?.keys() ?? [])].filter((id) =>
      id !== leader.id
    );
    if (others.length === 0) return;
    const to = this.rnd.pick(others);
    leader.node!.transferLeader(to);
    this.log(`transfer leadership ${leader.id} -> ${to}`);
  }

  /** Heals everything and runs until the cluster agrees; then checks acknowledged writes. */
  private settle(): void {
    this.net.faults = { drop: 0, duplicate: 0, maxDelay: 0 };
    for (const m of this.members.values()) if (!m.node && !m.removed) m.start();
    for (let round = 0; round < (this.opts.settleRounds ?? 3000); round++) {
      this.#now++;
      if (round % 3 === 0) this.tickAll();
      for (let t = this.net.take(this.#now); t; t = this.net.take(this.#now)) {
        this.deliverOne(t.msg, t.lost);
      }
      this.afterStep();
      if (this.converged()) return this.finish();
    }
    throw new SimViolation(`liveness: the healed cluster did not converge:\n${this.describe()}`);
  }

  /** One line per member, for failure messages. */
  private describe(): string {
    const lines: string[] = [];
    for (const m of this.members.values()) {
      const st = m.node?.status();
      const pr = st?.progress
        ? [...st.progress].map(([id, p]) => `${id}:${p.state}/${p.match}/${p.next}`).join(" ")
        : "";
      lines.push(
        `  ${m.id}: ${m.removed ? "removed" : st ? st.state : "down"} term ${st?.term} ` +
          `lead ${st?.lead} commit ${st?.commit} applied ${m.state.index} ` +
          `log [${m.storage.firstIndex()}, ${m.storage.lastIndex()}] ${pr}`,
      );
    }
    return lines.join("\n");
  }

  private converged(): boolean {
    const leader = this.leaderMember();
    if (!leader || this.net.size() > 0) return false;
    const st = leader.node!.status();
    if (st.applied !== st.commit) return false;
    for (const id of st.progress!.keys()) {
      const m = this.members.get(id);
      if (!m || m.removed) continue;
      if (!m.node || m.state.index !== st.commit) return false;
    }
    return true;
  }

  private finish(): void {
    const leader = this.leaderMember()!;
    for (const id of leader.node!.status().progress!.keys()) {
      const m = this.members.get(id);
      if (!m || m.removed) continue;
      for (const pid of this.#acked) {
        if (!m.state.ids.has(pid)) {
          throw new SimViolation(`acknowledged proposal p${pid} is missing on member ${id}`);
        }
      }
    }
    this.stats.terms = this.checker.leaders.size;
    this.stats.committed = this.checker.maxCommitted;
    this.stats.acknowledged = this.#acked.size;
    this.stats.jointEntered = this.#joint.size;
  }
}

function isExpected(e: Error): boolean {
  return e.name === "ProposalDroppedError" || e.name === "UnknownPeerError";
}
