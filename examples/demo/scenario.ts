/**
 * The demo's timeline: three members come up, each a `RawNode`; member 1
 * campaigns first and leads; it proposes entries, which raft replicates to
 * 2 and 3; member 3 is stopped and falls behind while the leader compacts
 * its log; member 3 comes back on its kept storage and gets a snapshot; it catches up;
 * the leader stops proposing and everybody converges. Then the summary and
 * the checks that decide the exit code.
 *
 * @module
 */

import {
  type LogFields,
  type Logger,
  type Message,
  SnapshotMessage,
  type Transport,
} from "@rafthttp/rafthttp";
import { HOST, Member } from "./cluster.ts";
import { DemoNode } from "./node.ts";
import { snapshotBody, VerifyingSink } from "./snapshot_data.ts";
import { type DemoState, formatBytes, type SnapshotTransfer } from "./view.ts";

const MiB = 1024 * 1024;

/** How long each part of the timeline lasts, and how much it moves. */
export interface Plan {
  /** Steady state before member 3 is stopped, ms. */
  steadyMs: number;
  /** Member 3's downtime, ms. */
  downMs: number;
  /** From the end of the snapshot to the drain, ms. */
  afterMs: number;
  /** Most time the final drain may take, ms. */
  drainMs: number;
  /** Most time for the streams to come up at the start, ms. */
  connectMs: number;
  /** Most time from member 3's restart to a finished snapshot, ms. */
  snapshotMs: number;
  /** Size of the snapshot data, bytes. */
  snapshotBytes: number;
  /** Fastest the snapshot data is read, bytes/s (as from a disk); 0: as fast as it goes. */
  snapshotRate: number;
  /** Entries the leader proposes per second. */
  rate: number;
  /** Applied entries between two snapshots (and compactions) of a member. */
  snapshotEvery: number;
  /** Entries kept behind a snapshot when compacting. */
  retain: number;
}

/** The default: about 15 s. */
export const NORMAL: Plan = {
  steadyMs: 5000,
  downMs: 4000,
  afterMs: 3500,
  drainMs: 3000,
  connectMs: 5000,
  snapshotMs: 20000,
  snapshotBytes: 64 * MiB,
  snapshotRate: 32 * MiB,
  rate: 500,
  snapshotEvery: 100,
  retain: 1000,
};

/** `--fast`: the same story in about 4 s, for tests. */
export const FAST: Plan = {
  steadyMs: 1200,
  downMs: 1200,
  afterMs: 1200,
  drainMs: 3000,
  connectMs: 5000,
  snapshotMs: 15000,
  snapshotBytes: 4 * MiB,
  snapshotRate: 0,
  rate: 500,
  snapshotEvery: 50,
  retain: 150,
};

/**
 * The interrupt signal fired (Ctrl-C).
 *
 * @example
 * ```ts ignore
 * try {
 *   await demo.run(signal);
 * } catch (e) {
 *   if (e instanceof Interrupted) console.error("interrupted: stopping the members");
 * }
 * ```
 */
export class Interrupted extends Error {
  constructor() {
    super("interrupted");
    this.name = "Interrupted";
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Interrupted());
    const onAbort = () => {
      clearTimeout(t);
      reject(new Interrupted());
    };
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Waits until `pred` holds (true) or `ms` pass (false). */
async function waitFor(pred: () => boolean, ms: number, signal: AbortSignal): Promise<boolean> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() >= end) return false;
    await sleep(20, signal);
  }
  return true;
}

/** One line of the verdict. */
export interface Check {
  ok: boolean;
  text: string;
}

/** The members' ids: the new cluster bootstraps with them. */
const IDS = [1n, 2n, 3n];
/** Ms per raft tick: a heartbeat every tick, an election timeout after 10-20 ticks. */
const TICK_MS = 100;
/** Member 1 campaigns by then, streams up or not: 2 and 3 time out after 1 s at the earliest. */
const CAMPAIGN_BY_MS = 700;

/**
 * The demo: its members, their raft nodes, and the timeline.
 *
 * @example
 * ```ts ignore
 * const demo = new Demo(23791, FAST);
 * demo.onEvent = (text) => console.log(text);
 * try {
 *   await demo.run(new AbortController().signal);
 * } finally {
 *   await demo.close();
 * }
 * console.log(demo.checks().every((c) => c.ok)); // true
 * ```
 */
export class Demo implements DemoState {
  readonly startedAt = Date.now();
  readonly members: Member[];
  /** The raft of each member's current run. */
  readonly nodes = new Map<bigint, DemoNode>();
  /** The raft of a member's previous run (member 3 before its restart). */
  readonly earlierRuns = new Map<bigint, DemoNode>();
  readonly rate: number;
  proposing = false;
  phase = "starting";
  snapshot: SnapshotTransfer | undefined;
  /** Every snapshot transfer, in order. */
  readonly transfers: SnapshotTransfer[] = [];
  /** At the end of the run: every member had the leader's last entry, committed and applied. */
  converged = false;
  /** When member 3 had everything again after its snapshot. */
  caughtUpAt: number | undefined;
  /** Where events go (the live view). */
  onEvent: (text: string) => void = () => {};
  #plan: Plan;
  #sinks = new Map<bigint, VerifyingSink>();
  #timers: ReturnType<typeof setInterval>[] = [];
  #closing: Promise<void> | undefined;

  constructor(basePort: number, plan: Plan) {
    this.#plan = plan;
    this.rate = plan.rate;
    this.members = IDS.map((id) => new Member(id, basePort + Number(id) - 1));
    for (const m of this.members) m.peers = this.members.filter((p) => p !== m);
  }

  /** The member that leads (the newer term's, should two think so); after `close`, the last. */
  leader(): DemoNode | undefined {
    let best: DemoNode | undefined;
    for (const n of this.nodes.values()) {
      if (n.role !== "leader" || (n.stopped && this.#closing === undefined)) continue;
      if (best === undefined || n.raft.status().term > best.raft.status().term) best = n;
    }
    return best;
  }

  #member(id: bigint): Member {
    return this.members[Number(id) - 1];
  }

  #event(text: string): void {
    this.onEvent(text);
  }

  #setPhase(text: string): void {
    this.phase = text;
    this.#event(`phase: ${text}`);
  }

  /** Transport log lines worth showing: warnings, errors, and a few milestones. */
  #logger(id: bigint): Logger {
    const show = (level: string, msg: string, fields?: LogFields) => {
      const f = fields === undefined ? "" : " " + Object.entries(fields)
        .filter(([k]) => k !== "url") // the peer's id says it
        .map(([k, v]) => `${k}=${typeof v === "string" ? v : String(v)}`)
        .join(" ");
      this.#event(`member ${id} ${level}: ${msg}${f}`);
    };
    const milestones = ["peer became active", "sent a snapshot", "received a snapshot"];
    return {
      debug() {},
      info: (msg, fields) => {
        if (milestones.includes(msg)) show("info", msg, fields);
      },
      warn: (msg, fields) => show("warn", msg, fields),
      error: (msg, fields) => show("error", msg, fields),
    };
  }

  /**
   * Starts a run of member `id`: a fresh raft node and sink, and a new
   * transport on its port. `bootstrap`: as a member of a new cluster;
   * otherwise resuming from what its previous run persisted.
   */
  async #start(id: bigint, bootstrap: boolean): Promise<void> {
    const m = this.#member(id);
    const sink = new VerifyingSink();
    // Bound to this run's transport: a stopped run's raft never sends through the next one.
    const run: { transport?: Transport } = {};
    const node = new DemoNode({
      id,
      bootstrap: bootstrap ? IDS : undefined,
      storage: bootstrap ? undefined : this.nodes.get(id)?.storage,
      tickMs: TICK_MS,
      snapshotEvery: this.#plan.snapshotEvery,
      retain: this.#plan.retain,
      snapshots: sink,
      hooks: {
        send: (msgs) => run.transport?.send(msgs),
        sendSnapshot: (msg) => this.#sendSnapshot(run.transport, msg),
        event: (text) => this.#event(text),
      },
    });
    await m.start(node, sink, this.#logger(id));
    run.transport = m.transport;
    this.#sinks.set(id, sink);
    const before = this.nodes.get(id);
    if (before !== undefined) this.earlierRuns.set(id, before);
    this.nodes.set(id, node);
    node.start();
  }

  /** Sends raft's MsgSnap with `sendSnapshot`, its data generated as the transport pulls it. */
  #sendSnapshot(transport: Transport | undefined, message: Message): Promise<boolean> {
    const index = message.snapshot?.metadata?.index ?? 0n;
    const to = message.to;
    const t: SnapshotTransfer = {
      to,
      index: Number(index),
      size: this.#plan.snapshotBytes,
      handedOut: 0,
      startedAt: Date.now(),
    };
    this.snapshot = t;
    this.transfers.push(t);
    const rate = this.#plan.snapshotRate;
    const seed = t.index & 0xff;
    const count = (n: number) => t.handedOut += n;
    // The first attempt breaks at 40 % (a read error of the leader's data,
    // simulated); the transport's retry resumes where member 3 stands.
    const failAt = this.transfers.length === 1 ? Math.floor(t.size * 0.4) : -1;
    const body = snapshotBody(seed, t.size, count, rate, { failAt });
    const snap = new SnapshotMessage(message, body, t.size, {
      reopen: (from) => {
        t.handedOut = from;
        return snapshotBody(seed, t.size, count, rate, { from });
      },
      onProgress: (p) => {
        if (p.attempt > 1 && p.sent === p.resumedFrom && t.resumedAt === undefined) {
          t.resumedAt = p.resumedFrom;
          this.#event(
            `the snapshot send broke at ${formatBytes(failAt)} (simulated read error); ` +
              `the retry resumed at ${formatBytes(p.resumedFrom)}, what member ${to} had kept`,
          );
        }
      },
    });
    this.#event(
      `member ${message.from} sends member ${to} a snapshot at index ${index} with ` +
        `transport.sendSnapshot(): ${formatBytes(t.size)}${
          rate > 0 ? `, read at up to ${formatBytes(rate)}/s` : ""
        }`,
    );
    snap.done.then((ok) => {
      t.finishedAt = Date.now();
      t.ok = ok;
      const secs = (t.finishedAt - t.startedAt) / 1000;
      this.#event(
        ok
          ? `snapshot to member ${to} finished: ${formatBytes(t.size)} in ${secs.toFixed(2)} s (${
            formatBytes(t.size / Math.max(secs, 0.001))
          }/s)`
          : `snapshot to member ${to} failed after ${formatBytes(t.handedOut)}; ` +
            "raft sends another once the member answers",
      );
    });
    if (transport === undefined) snap.close(false);
    else transport.sendSnapshot(snap);
    return snap.done;
  }

  /** The client: proposes entries to the leader at the plan's rate. */
  #startProposing(): void {
    const start = Date.now();
    let proposed = 0;
    this.proposing = true;
    this.#timers.push(setInterval(() => {
      if (!this.proposing) return;
      const target = Math.floor((Date.now() - start) * this.rate / 1000);
      // After a stall (a busy machine), at most a second's worth at once; the rest is skipped.
      const n = Math.min(target - proposed, this.rate);
      if (n > 0) this.leader()?.propose(n);
      proposed = target;
    }, 10));
  }

  #streamsUp(): boolean {
    for (const m of this.members) {
      for (const p of m.peers) {
        const s = m.transport?.peerStatus(p.id);
        if (s === undefined) return false;
        if (!s.streams.message.outgoing || !s.streams.msgappv2.outgoing) return false;
      }
    }
    return true;
  }

  /** Every member has the leader's last entry, committed and applied. */
  #converged(): boolean {
    const leader = this.leader();
    if (leader === undefined) return false;
    const last = leader.lastIndex;
    return this.members.every((m) => {
      const n = this.nodes.get(m.id);
      return m.up && n !== undefined && n.lastIndex === last && n.applied === last &&
        n.raft.status().commit === last;
    });
  }

  /** Runs the timeline; rejects with `PortTakenError` or {@link Interrupted}. */
  async run(signal: AbortSignal): Promise<void> {
    await this.#startCluster(signal);
    this.#startProposing();
    this.#setPhase(
      `steady state: member 1 proposes ${this.rate} entries/s of 100 B; raft replicates them ` +
        "to 2 and 3 and heartbeats every 100 ms",
    );
    await sleep(this.#plan.steadyMs, signal);
    await this.#restart(3n, signal);
    await this.#catchUp(signal);

    this.proposing = false;
    this.#setPhase("draining: the leader stops proposing; every member commits the last entries");
    this.converged = await waitFor(() => this.#converged(), this.#plan.drainMs, signal);
    if (!this.converged) {
      this.#event(`the members did not converge within ${this.#plan.drainMs / 1000} s`);
    }
    this.#setPhase("done");
  }

  /** Three new members, connected; member 1 campaigns first, so it leads. */
  async #startCluster(signal: AbortSignal): Promise<void> {
    const ports = `${HOST}:${this.members[0].port}-${this.members[2].port}`;
    this.#setPhase(
      `starting 3 members on ${ports}: each a RawNode on a MemoryStorage, bootstrapped as a new ` +
        "cluster of 1, 2 and 3",
    );
    // Everybody listens before anybody dials, so the start is quiet.
    for (const m of this.members) await this.#start(m.id, true);
    for (const m of this.members) m.connect();
    this.#setPhase("connecting: each member dials a message and a msgappv2 stream from each peer");
    if (!await waitFor(() => this.#streamsUp(), CAMPAIGN_BY_MS, signal)) {
      this.#event("not every stream is up yet; messages go over the pipeline meanwhile");
    }
    this.#setPhase(
      "election: member 1 campaigns first (RawNode.campaign(): a pre-vote, then a vote); " +
        "2 and 3 would wait 1-2 s for an election timeout of their own",
    );
    this.nodes.get(1n)?.campaign();
    const known = () => {
      const l = this.leader();
      return l !== undefined && [...this.nodes.values()].every((n) => n.lead === l.id);
    };
    if (!await waitFor(known, this.#plan.connectMs, signal)) {
      this.#event(`not every member knew a leader within ${this.#plan.connectMs / 1000} s`);
    }
  }

  /** Stops member `id`, waits, and starts it again on its kept storage; waits for its snapshot. */
  async #restart(id: bigint, signal: AbortSignal): Promise<void> {
    const m = this.#member(id);
    this.#event(`stopping member ${id}: its raft stops, then transport.stop(), server.shutdown()`);
    this.nodes.get(id)?.stop();
    await m.stop();
    this.#setPhase(
      `member ${id} stopped: the leader goes on with the other member (2 of 3 are a quorum) ` +
        "and compacts its log",
    );
    await sleep(this.#plan.downMs, signal);

    this.#event(
      `restarting member ${id}: a new Transport on port ${m.port} and a new RawNode on the ` +
        "storage its last run persisted (raft's term, vote and log must survive a restart)",
    );
    await this.#start(id, false);
    m.connect();
    this.#setPhase(
      `member ${id} restarted: the entries it lacks are compacted away on the leader, ` +
        "so raft sends it a snapshot",
    );
    const finished = () => this.snapshot !== undefined && this.snapshot.ok === true;
    if (!await waitFor(finished, this.#plan.snapshotMs, signal)) {
      this.#event(`no snapshot finished within ${this.#plan.snapshotMs / 1000} s`);
    }
  }

  /** Waits for member 3 to be replicated to again, then lets the cluster run a while. */
  async #catchUp(signal: AbortSignal): Promise<void> {
    this.#setPhase("member 3 catches up from the leader's log after the snapshot");
    const caughtUp = () => {
      const l = this.leader();
      const pr = l?.raft.status().progress?.get(3n);
      if (l === undefined || pr === undefined || this.nodes.get(3n)?.restoredFrom === undefined) {
        return false;
      }
      return pr.state === "replicate" && l.lastIndex - pr.match <= BigInt(this.rate / 10);
    };
    const after = Date.now() + this.#plan.afterMs;
    if (await waitFor(caughtUp, this.#plan.afterMs, signal)) {
      this.caughtUpAt = Date.now();
      this.#event("member 3 caught up: it acknowledges new entries as they come");
      this.#setPhase("steady state again, with all three members");
    }
    await sleep(Math.max(0, after - Date.now()), signal);
  }

  /** The verdict: every check must hold for exit code 0. */
  checks(): Check[] {
    const leader = this.leader();
    const last = leader?.lastIndex ?? 0n;
    const lasts = this.members.map((m) => this.nodes.get(m.id)?.lastIndex ?? 0n);
    const bad = [...this.nodes.values(), ...this.earlierRuns.values()]
      .reduce((n, node) => n + node.badEntries, 0);
    const n3 = this.nodes.get(3n);
    const snap = this.transfers.find((t) => t.ok === true);
    const received = snap === undefined
      ? undefined
      : this.#sinks.get(snap.to)?.received.get(BigInt(snap.index));
    return [
      {
        ok: last > 0n && lasts.every((l) => l === last) && this.converged && bad === 0,
        text: `entries replicated to all three members (last index ${lasts.join(", ")}; ` +
          `${bad} entries with wrong data)`,
      },
      {
        ok: snap !== undefined && received?.intact === true && received.bytes === snap.size,
        text: snap === undefined
          ? "snapshot to member 3 finished (no snapshot finished)"
          : `snapshot to member 3 finished (${formatBytes(snap.size)} at index ${snap.index}, ` +
            `${received?.intact ? "every byte checked" : "DATA WRONG"})`,
      },
      {
        ok: n3?.restoredFrom !== undefined && last > 0n && n3.lastIndex === last,
        text: `member 3 caught up after the snapshot (${
          snap?.finishedAt !== undefined && this.caughtUpAt !== undefined
            ? `in ${((this.caughtUpAt - snap.finishedAt) / 1000).toFixed(2)} s; `
            : ""
        }its log ${n3?.firstIndex}..${n3?.lastIndex}, the leader's ${leader?.firstIndex}..${last})`,
      },
    ];
  }

  /** Stops the client, every raft node, transport and server; safe to call more than once. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.proposing = false;
      for (const t of this.#timers) clearInterval(t);
      this.#timers = [];
      for (const n of this.nodes.values()) n.stop();
      await Promise.all(this.members.map((m) => m.stop()));
    })();
    return this.#closing;
  }
}
