/**
 * What the demo shows: a live table redrawn in place on a terminal (ANSI
 * cursor movement, no dependencies), or one line per link per second when
 * stdout is a pipe or a CI log; and the summary at the end. Rates are the
 * deltas of `peerStatus().stats` between two redraws.
 *
 * @module
 */

import type { PeerStats, PeerStatusReport } from "@rafthttp/rafthttp";
import type { Member } from "./cluster.ts";
import type { DemoNode } from "./node.ts";

/** One snapshot transfer, as the demo tracks it. */
export interface SnapshotTransfer {
  to: bigint;
  index: number;
  size: number;
  /** Bytes the body stream handed to the transport so far. */
  handedOut: number;
  startedAt: number;
  finishedAt?: number;
  /** The transport's verdict (`SnapshotMessage.done`), once settled. */
  ok?: boolean;
  /** Where a retry resumed, if the send broke. */
  resumedAt?: number;
}

/** What the view reads from the running demo. */
export interface DemoState {
  /** `Date.now()` when the demo started. */
  readonly startedAt: number;
  readonly members: readonly Member[];
  /** The raft of each member's current run. */
  readonly nodes: ReadonlyMap<bigint, DemoNode>;
  /** The member that leads, if any. */
  leader(): DemoNode | undefined;
  /** Entries proposed per second while the client proposes. */
  readonly rate: number;
  /** True while the client proposes. */
  readonly proposing: boolean;
  /** What is happening now, in words. */
  readonly phase: string;
  /** The latest snapshot transfer, if any. */
  readonly snapshot: SnapshotTransfer | undefined;
}

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * `n` bytes for humans: 812 B, 18.4 KiB, 32.0 MiB.
 *
 * @example
 * ```ts
 * console.log(formatBytes(812), formatBytes(64 * 1024 * 1024)); // 812 B 64.0 MiB
 * ```
 */
export function formatBytes(n: number): string {
  if (n < KiB) return `${Math.round(n)} B`;
  if (n < MiB) return `${(n / KiB).toFixed(1)} KiB`;
  if (n < 1024 * MiB) return `${(n / MiB).toFixed(1)} MiB`;
  return `${(n / 1024 / MiB).toFixed(2)} GiB`;
}

/**
 * A progress bar: `[#########...........]  45%`.
 *
 * @example
 * ```ts
 * console.log(progressBar(45, 100)); // [#########...........]  45%
 * ```
 */
export function progressBar(done: number, total: number, width = 20): string {
  const f = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
  const filled = Math.floor(f * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${
    String(Math.floor(f * 100)).padStart(3)
  }%`;
}

/** Seconds since the start: `t+9.31 s`. */
function since(startedAt: number, when: number): string {
  return `t+${((when - startedAt) / 1000).toFixed(2)} s`;
}

/** Messages and bytes per second, each way, over one interval. */
export interface Rates {
  outMsgs: number;
  outBytes: number;
  inMsgs: number;
  inBytes: number;
}

/**
 * Turns monotonic counters into per-second rates, per link. A link whose
 * counters went down (its member restarted with a fresh transport) starts
 * over from the new values.
 *
 * @example
 * ```ts
 * import { newPeerStats } from "@rafthttp/rafthttp";
 * const meter = new RateMeter();
 * const s = newPeerStats();
 * meter.rates("1 → 2", s, 0);
 * const later = { ...newPeerStats(), sentMessages: 50 };
 * console.log(meter.rates("1 → 2", later, 500).outMsgs); // 100
 * ```
 */
export class RateMeter {
  #last = new Map<string, { t: number; s: PeerStats; rates: Rates }>();
  #minIntervalMs: number;

  /** Rates are measured over at least `minIntervalMs`; calls in between repeat the last ones. */
  constructor(minIntervalMs = 0) {
    this.#minIntervalMs = minIntervalMs;
  }

  /** Rates of `link` since the previous measurement (zero on the first). */
  rates(link: string, s: PeerStats, now: number): Rates {
    const prev = this.#last.get(link);
    if (prev !== undefined && now - prev.t < this.#minIntervalMs) return prev.rates;
    let rates = { outMsgs: 0, outBytes: 0, inMsgs: 0, inBytes: 0 };
    const p = prev?.s;
    if (
      prev !== undefined && p !== undefined && now > prev.t &&
      s.sentMessages >= p.sentMessages && s.receivedMessages >= p.receivedMessages
    ) {
      const per = 1000 / (now - prev.t);
      rates = {
        outMsgs: (s.sentMessages - p.sentMessages) * per,
        outBytes: (s.sentBytes - p.sentBytes) * per,
        inMsgs: (s.receivedMessages - p.receivedMessages) * per,
        inBytes: (s.receivedBytes - p.receivedBytes) * per,
      };
    }
    this.#last.set(link, { t: now, s, rates });
    return rates;
  }

  /** Takes `s` as the baseline of `link` if it has none. */
  seed(link: string, s: PeerStats, now: number): void {
    if (!this.#last.has(link)) {
      this.#last.set(link, {
        t: now,
        s,
        rates: { outMsgs: 0, outBytes: 0, inMsgs: 0, inBytes: 0 },
      });
    }
  }

  /** Forgets a link (its member stopped). */
  forget(link: string): void {
    this.#last.delete(link);
  }
}

/**
 * `msg ↑↓ app ↑↓`: which of the two streams are up, each way (· is down).
 *
 * @example
 * ```ts ignore
 * console.log(channels(transport.peerStatus(2n)!)); // msg ↑↓ app ↑·
 * ```
 */
export function channels(r: PeerStatusReport): string {
  const s = (x: { outgoing: boolean; incoming: boolean }) =>
    `${x.outgoing ? "↑" : "·"}${x.incoming ? "↓" : "·"}`;
  return `msg ${s(r.streams.message)} app ${s(r.streams.msgappv2)}`;
}

function num(n: number): string {
  return n < 10 && n > 0 ? n.toFixed(1) : Math.round(n).toString();
}

/** One link in the table: member a's view of peer b; no cells while a is stopped. */
interface LinkRow {
  link: string;
  peer: bigint;
  cells?: string[];
}

/** Where the view writes, and how wide the terminal is. */
export interface Output {
  write(text: string): void;
  /** True when `write` goes to a terminal: redraw in place. */
  tty: boolean;
  /** Terminal size (tty only); 0 when unknown. */
  size(): { columns: number; rows: number };
}

/**
 * The live view; {@link LiveView.event} also takes the demo's events.
 *
 * @example
 * ```ts ignore
 * const view = new LiveView(demo, {
 *   tty: false,
 *   write: (text) => console.log(text),
 *   size: () => ({ columns: 0, rows: 0 }),
 * });
 * view.start();
 * await demo.run(signal);
 * view.stop();
 * ```
 */
export class LiveView {
  #state: DemoState;
  #out: Output;
  #meter: RateMeter;
  #events: string[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #ticks = 0;
  #drawn = 0;
  #lastProgress = -1;

  constructor(state: DemoState, out: Output) {
    this.#state = state;
    this.#out = out;
    this.#meter = new RateMeter(out.tty ? 450 : 0);
  }

  /**
   * Starts redrawing (tty: every 500 ms, every 100 ms while a snapshot
   * moves) or printing (every second, each link of the leader and the
   * snapshot's progress).
   */
  start(): void {
    if (this.#timer !== undefined) return;
    if (this.#out.tty) {
      this.#out.write("\x1b[?25l"); // hide the cursor while redrawing
      this.#timer = setInterval(() => {
        const snap = this.#state.snapshot;
        if (++this.#ticks % 5 === 0 || (snap !== undefined && snap.finishedAt === undefined)) {
          this.tick();
        }
      }, 100);
      this.tick();
    } else {
      this.#timer = setInterval(() => {
        if (++this.#ticks % 4 === 0) this.tick();
        else this.#seed(); // so that a link's first line already has a rate
      }, 250);
    }
  }

  /** Stops the live view, leaving the last frame on screen. */
  stop(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#out.tty) {
      this.tick();
      this.#out.write("\x1b[?25h");
    }
  }

  /** Something happened: printed at once in line mode, listed under the table on a terminal. */
  event(text: string): void {
    const line = `${since(this.#state.startedAt, Date.now()).padStart(10)}  ${text}`;
    if (this.#out.tty && this.#timer !== undefined) {
      this.#events.push(line);
      if (this.#events.length > 8) this.#events.shift();
    } else {
      this.#out.write(`${line}\n`);
    }
  }

  /** One redraw (tty) or one round of lines. */
  tick(): void {
    if (this.#out.tty) this.#redraw();
    else this.#lines();
  }

  #phase(): string {
    const s = this.#state;
    const snap = s.snapshot;
    if (snap !== undefined && snap.finishedAt === undefined) {
      const secs = Math.max(0.001, (Date.now() - snap.startedAt) / 1000);
      return `snapshot to member ${snap.to}: ${progressBar(snap.handedOut, snap.size)}  ${
        formatBytes(snap.handedOut)
      } of ${formatBytes(snap.size)}, ${formatBytes(snap.handedOut / secs)}/s`;
    }
    return s.phase;
  }

  /** Baselines for links that have none yet (line mode). */
  #seed(): void {
    const now = Date.now();
    for (const m of this.#state.members) {
      for (const p of m.peers) {
        const r = m.transport?.peerStatus(p.id);
        if (r !== undefined) this.#meter.seed(`${m.id} → ${p.id}`, r.stats, now);
      }
    }
  }

  /** One row per link (member a's view of peer b), with its rates; undefined cells: stopped. */
  #linkRows(from: readonly Member[], now: number): LinkRow[] {
    const rows: LinkRow[] = [];
    for (const m of from) {
      for (const p of m.peers) {
        const link = `${m.id} → ${p.id}`;
        const r = m.transport?.peerStatus(p.id);
        if (r === undefined) {
          this.#meter.forget(link);
          rows.push({ link, peer: p.id });
          continue;
        }
        const x = this.#meter.rates(link, r.stats, now);
        rows.push({
          link,
          peer: p.id,
          cells: [
            link,
            channels(r),
            num(x.outMsgs),
            num(x.inMsgs),
            `${formatBytes(x.outBytes)}/s`,
            `${formatBytes(x.inBytes)}/s`,
            `${r.stats.sendDrops}/${r.stats.receiveDrops}`,
            // rttMs keeps its last value while probes fail: show it only for an active peer.
            r.rttMs === undefined || r.activeSince === undefined ? "-" : `${r.rttMs.toFixed(1)} ms`,
            r.activeSince === undefined
              ? "inactive"
              : since(this.#state.startedAt, r.activeSince.getTime()),
          ],
        });
      }
    }
    return rows;
  }

  /** One row per member: its role and log as its raft has them, and the leader's view of it. */
  #memberRows(): string[][] {
    const s = this.#state;
    const leader = s.leader();
    const progress = leader?.raft.status().progress;
    const last = leader?.lastIndex ?? 0n;
    return s.members.map((m) => {
      const n = s.nodes.get(m.id);
      const pr = progress?.get(m.id);
      let view = "";
      if (n !== undefined && n === leader) {
        view = s.proposing ? `proposing ${s.rate} entries/s` : "";
      } else if (pr !== undefined) {
        const behind = last - pr.match;
        view = `${pr.state}, match ${pr.match}${behind > 0n ? ` (${behind} behind)` : ""}`;
      }
      if (!m.up || n === undefined) return [String(m.id), "stopped", "", "", view];
      const st = n.raft.status();
      const from = n.restoredFrom === undefined ? "" : ` (from snapshot ${n.restoredFrom})`;
      const log = n.lastIndex < n.firstIndex ? "empty" : `${n.firstIndex}..${n.lastIndex}`;
      return [
        String(m.id),
        `${st.state}, term ${st.term}`,
        `${log}${from}`,
        String(st.commit),
        view,
      ];
    });
  }

  #redraw(): void {
    const s = this.#state;
    const now = Date.now();
    const ports = s.members.map((m) => m.port);
    const lines: string[] = [
      `rafthttp demo: 3 members on 127.0.0.1:${ports[0]}-${ports[ports.length - 1]}   ${
        since(s.startedAt, now)
      }`,
      `phase: ${this.#phase()}`,
      "",
      ...table(
        [
          "link",
          "streams",
          "out msg/s",
          "in msg/s",
          "out bytes/s",
          "in bytes/s",
          "drops out/in",
          "rtt",
          "active since",
        ],
        this.#linkRows(s.members, now).map((r) => r.cells ?? [r.link, "(stopped)"]),
        [false, false, true, true, true, true, true, true, false],
      ),
      "",
      ...table(
        ["member", "role", "log", "commit", "replication (the leader's view)"],
        this.#memberRows(),
        [false, false, false, true, false],
      ),
      "",
      "events",
    ];
    const legend = [
      "",
      "streams: ↑ the peer reads our stream, ↓ we read the peer's, · down",
      "bytes/s: from peerStatus().stats, where a snapshot's bytes count once it is through",
      "Ctrl-C stops the demo",
    ];
    // The frame must fit the screen, or moving the cursor back up cannot reach its top.
    const size = this.#out.size();
    const room = (size.rows || 50) - 1 - lines.length - legend.length;
    lines.push(...(room > 0 ? this.#events.slice(-room) : []), ...legend);
    const width = Math.max(40, size.columns || 120);
    const clip = (l: string) => [...l].length > width ? [...l].slice(0, width - 1).join("") : l;
    let text = this.#drawn > 0 ? `\x1b[${this.#drawn}F\x1b[J` : "";
    text += lines.map(clip).join("\n") + "\n";
    this.#drawn = lines.length;
    this.#out.write(text);
  }

  #lines(): void {
    const s = this.#state;
    const now = Date.now();
    const t = since(s.startedAt, now).padStart(10);
    // The leader's links (member 1's until there is one): they carry the replication.
    const leader = s.leader();
    const from = s.members.filter((m) => m.id === (leader?.id ?? 1n));
    const progress = leader?.raft.status().progress;
    const last = leader?.lastIndex ?? 0n;
    for (const { link, peer, cells } of this.#linkRows(from, now)) {
      const pr = progress?.get(peer);
      const repl = pr === undefined ? "no leader yet" : `${pr.state}, match ${pr.match}/${last}`;
      if (cells === undefined) {
        this.#out.write(`${t}  ${link} stopped | ${repl}\n`);
        continue;
      }
      const [, ch, om, im, ob, ib, drops, rtt, active] = cells;
      this.#out.write(
        `${t}  ${link} ${ch} | out ${om} msg/s ${ob} | in ${im} msg/s ${ib} | ` +
          `drops ${drops} | rtt ${rtt} | ${
            active === "inactive" ? "inactive" : `active since ${active}`
          } | ${repl}\n`,
      );
    }
    const snap = s.snapshot;
    if (
      snap !== undefined && snap.finishedAt === undefined && snap.handedOut !== this.#lastProgress
    ) {
      this.#lastProgress = snap.handedOut;
      this.#out.write(`${t}  ${this.#phase()}\n`);
    }
  }
}

/**
 * Aligned columns; `right[i]` right-aligns column i.
 *
 * @example
 * ```ts
 * console.log(table(["id", "n"], [["1", "5"], ["22", "10"]], [false, true]).join("\n"));
 * // id   n
 * // 1    5
 * // 22  10
 * ```
 */
export function table(head: string[], rows: string[][], right: boolean[]): string[] {
  const len = (s: string) => [...s].length;
  const widths = head.map((h, i) => Math.max(len(h), ...rows.map((r) => len(r[i] ?? ""))));
  const fmt = (r: string[]) =>
    r.map((c, i) => {
      const pad = " ".repeat(widths[i] - len(c ?? ""));
      return right[i] ? pad + c : c + pad;
    }).join("  ").trimEnd();
  return [fmt(head), ...rows.map(fmt)];
}
