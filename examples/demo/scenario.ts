/**
 * The demo's timeline: three members come up, member 1 replicates to 2
 * and 3; member 3 is stopped and falls behind while member 1 compacts its
 * log; member 3 comes back empty and gets a snapshot; it catches up; the
 * leader stops appending and everybody converges. Then the summary and
 * the checks that decide the exit code.
 *
 * @module
 */

import { create } from "@bufbuild/protobuf";
import {
  type LogFields,
  type Logger,
  MessageSchema,
  MessageType,
  SnapshotMessage,
  type Transport,
} from "@rafthttp/rafthttp";
import { HOST, Member } from "./cluster.ts";
import { Follower, LEADER, Leader } from "./replication.ts";
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
  /** Entries the leader appends per second. */
  rate: number;
  /** Entries kept behind the commit index when compacting. */
  retain: number;
}

/** The default: about 18 s. */
export const NORMAL: Plan = {
  steadyMs: 5000,
  downMs: 4000,
  afterMs: 4500,
  drainMs: 3000,
  connectMs: 5000,
  snapshotMs: 20000,
  snapshotBytes: 64 * MiB,
  snapshotRate: 32 * MiB,
  rate: 500,
  retain: 1000,
};

/** `--fast`: the same story in about 5 s, for tests. */
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
  retain: 150,
};

/** The interrupt signal fired (Ctrl-C). */
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

/** The demo: its members, the scripted raft, and the timeline. */
export class Demo implements DemoState {
  readonly startedAt = Date.now();
  readonly members: Member[];
  readonly leader: Leader;
  readonly followers = new Map<bigint, Follower>();
  /** The raft of a follower's previous run (member 3 before its restart). */
  readonly earlierRuns = new Map<bigint, Follower>();
  readonly rate: number;
  proposing = false;
  phase = "starting";
  snapshot: SnapshotTransfer | undefined;
  /** Every snapshot transfer, in order. */
  readonly transfers: SnapshotTransfer[] = [];
  /** At the end of the run: every follower had the leader's last entry, committed. */
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
    this.members = [1, 2, 3].map((i) => new Member(BigInt(i), basePort + i - 1));
    for (const m of this.members) m.peers = this.members.filter((p) => p !== m);
    this.leader = new Leader([2n, 3n], plan.retain, {
      send: (msgs) => this.#member(LEADER).transport?.send(msgs),
      sendSnapshot: (to, index, term) => this.#sendSnapshot(to, index, term),
      event: (text) => this.#event(text),
    });
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

  /** Starts member `id` with a fresh follower (or the leader) and a fresh sink. */
  async #start(id: bigint): Promise<void> {
    const m = this.#member(id);
    const sink = new VerifyingSink();
    this.#sinks.set(id, sink);
    if (id === LEADER) {
      await m.start(this.leader, sink, this.#logger(id));
      return;
    }
    // Bound to this run's transport: a stopped run's raft never sends through the next one.
    const run: { transport?: Transport } = {};
    const follower = new Follower(id, (msgs) => run.transport?.send(msgs), sink, this.#plan.retain);
    const before = this.followers.get(id);
    if (before !== undefined) this.earlierRuns.set(id, before);
    this.followers.set(id, follower);
    await m.start(follower, sink, this.#logger(id));
    run.transport = m.transport;
  }

  #sendSnapshot(to: bigint, index: number, term: bigint): void {
    const t: SnapshotTransfer = {
      to,
      index,
      size: this.#plan.snapshotBytes,
      handedOut: 0,
      startedAt: Date.now(),
    };
    this.snapshot = t;
    this.transfers.push(t);
    const transport = this.#member(LEADER).transport;
    const message = create(MessageSchema, {
      type: MessageType.MsgSnap,
      from: LEADER,
      to,
      term,
      snapshot: {
        metadata: { index: BigInt(index), term, confState: { voters: [1n, 2n, 3n] } },
      },
    });
    const rate = this.#plan.snapshotRate;
    const seed = index & 0xff;
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
      `member 1 sends member ${to} a snapshot at index ${index} with transport.sendSnapshot(): ${
        formatBytes(t.size)
      }${rate > 0 ? `, read at up to ${formatBytes(rate)}/s` : ""}`,
    );
    snap.done.then((ok) => {
      t.finishedAt = Date.now();
      t.ok = ok;
      const secs = (t.finishedAt - t.startedAt) / 1000;
      this.#event(
        ok
          ? `snapshot to member ${to} finished: ${formatBytes(t.size)} in ${secs.toFixed(2)} s (${
            formatBytes(t.size / Math.max(secs, 0.001))
          }/s); member ${to}'s log now starts at ${index + 1}`
          : `snapshot to member ${to} failed after ${formatBytes(t.handedOut)}; member 1 retries`,
      );
    });
    if (transport === undefined) snap.close(false);
    else transport.sendSnapshot(snap);
  }

  /** The leader's clocks: appends at the plan's rate, heartbeats every 100 ms, compaction. */
  #startLeader(): void {
    const start = Date.now();
    let appended = 0;
    this.proposing = true;
    this.#timers.push(
      setInterval(() => {
        if (!this.proposing) return;
        const target = Math.floor((Date.now() - start) * this.rate / 1000);
        // After a stall (a busy machine), at most a second's worth at once; the rest is skipped.
        const n = Math.min(target - appended, this.rate);
        if (n > 0) this.leader.propose(n);
        appended = target;
      }, 10),
      setInterval(() => this.leader.heartbeat(), 100),
      setInterval(() => this.leader.compact(), 250),
    );
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

  /** Every follower has the leader's last entry and has committed it. */
  #converged(): boolean {
    const last = this.leader.log.last;
    for (const m of this.members.slice(1)) {
      const f = this.followers.get(m.id);
      if (!m.up || f === undefined || f.log.last !== last || f.commit !== last) return false;
    }
    return true;
  }

  /** Runs the timeline; rejects with `PortTakenError` or {@link Interrupted}. */
  async run(signal: AbortSignal): Promise<void> {
    const plan = this.#plan;
    const m3 = this.#member(3n);
    this.#setPhase(`starting 3 members on ${HOST}:${this.members[0].port}-${m3.port}`);
    // Everybody listens before anybody dials, so the start is quiet.
    for (const m of this.members) await this.#start(m.id);
    for (const m of this.members) m.connect();
    this.#setPhase("connecting: each member dials a message and a msgappv2 stream from each peer");
    if (!await waitFor(() => this.#streamsUp(), plan.connectMs, signal)) {
      this.#event("not every stream came up in time; messages go over the pipeline meanwhile");
    }

    this.#startLeader();
    this.#setPhase(
      `steady state: member 1 appends ${plan.rate} entries/s, replicates them to 2 and 3, heartbeats every 100 ms`,
    );
    await sleep(plan.steadyMs, signal);

    this.#event("stopping member 3: transport.stop(), then server.shutdown()");
    await m3.stop();
    this.#setPhase("member 3 stopped: member 1 keeps going with member 2, and compacts its log");
    await sleep(plan.downMs, signal);

    this.#event(`restarting member 3: a new Transport on port ${m3.port}, with an empty log`);
    await this.#start(3n);
    m3.connect();
    this.#setPhase("member 3 restarted with an empty log: it needs a snapshot");
    const finished = () => this.snapshot !== undefined && this.snapshot.ok === true;
    if (!await waitFor(finished, plan.snapshotMs, signal)) {
      this.#event(`no snapshot finished within ${plan.snapshotMs / 1000} s`);
    }

    this.#setPhase("member 3 catches up from member 1's log after the snapshot");
    const caughtUp = () => {
      const pr = this.leader.progress.get(3n)!;
      return pr.state === "replicate" && this.leader.log.last - pr.match <= this.rate / 10;
    };
    const after = Date.now() + plan.afterMs;
    if (await waitFor(caughtUp, plan.afterMs, signal)) {
      this.caughtUpAt = Date.now();
      this.#event("member 3 caught up: it acknowledges new entries as they come");
      this.#setPhase("steady state again, with all three members");
    }
    await sleep(Math.max(0, after - Date.now()), signal);

    this.proposing = false;
    this.#setPhase("draining: member 1 stops appending; every member gets the last entries");
    this.converged = await waitFor(() => this.#converged(), plan.drainMs, signal);
    if (!this.converged) {
      this.#event(`the members did not converge within ${plan.drainMs / 1000} s`);
    }
    this.#setPhase("done");
  }

  /** The verdict: every check must hold for exit code 0. */
  checks(): Check[] {
    const last = this.leader.log.last;
    const f2 = this.followers.get(2n);
    const f3 = this.followers.get(3n);
    const lasts = [last, f2?.log.last ?? 0, f3?.log.last ?? 0];
    const bad = [...this.followers.values(), ...this.earlierRuns.values()]
      .reduce((n, f) => n + f.badEntries, 0);
    const snap = this.transfers.find((t) => t.ok === true);
    const received = snap === undefined
      ? undefined
      : this.#sinks.get(snap.to)?.received.get(BigInt(snap.index));
    return [
      {
        ok: last > 0 && lasts.every((l) => l === last) && this.converged && bad === 0,
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
        ok: f3?.restoredFrom !== undefined && f3.log.last === last,
        text: `member 3 caught up after the snapshot (${
          snap?.finishedAt !== undefined && this.caughtUpAt !== undefined
            ? `in ${((this.caughtUpAt - snap.finishedAt) / 1000).toFixed(2)} s; `
            : ""
        }its log ${f3?.log.first}..${f3?.log.last}, the leader's ${this.leader.log.first}..${last})`,
      },
    ];
  }

  /** Stops the timers, every transport and server; safe to call more than once. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.proposing = false;
      for (const t of this.#timers) clearInterval(t);
      this.#timers = [];
      await Promise.all(this.members.map((m) => m.stop()));
    })();
    return this.#closing;
  }
}
