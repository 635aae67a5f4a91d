/**
 * The transport's view of one remote member: its two stream writers (we
 * send), two stream readers (we receive), the pipeline, snapshot sends, the
 * receive queues drained into `Raft.process`, and `pick`, which chooses the
 * channel for each message as etcd does.
 *
 * @module
 */

import type { Message } from "../../raftpb/raft_pb.ts";
import { MessageType } from "../../raftpb/raft_pb.ts";
import type { Config } from "../options.ts";
import { F, type RateLimitedLog } from "../logger.ts";
import { CH, DR, type HistogramRecorder, PeerMetrics } from "../metrics/peer_metrics.ts";
import type { PeerView, QueueDepths } from "../metrics/registry.ts";
import type { SnapshotMessage } from "../snapshot/message.ts";
import { PeerStatus } from "./status.ts";
import { newPeerStats, type PeerStats } from "./stats.ts";
import { UrlPicker } from "./url_picker.ts";
import { StreamWriter } from "../stream/writer.ts";
import { type OnMessage, StreamReader } from "../stream/reader.ts";
import type { StreamType } from "../stream/types.ts";
import { Inbox } from "./inbox.ts";
import { forwardedWithOthersFrom } from "../http/provenance.ts";
import { Link } from "./link.ts";
import { systemClock } from "../util/clock.ts";
import type { PeerContext } from "./context.ts";
import { Pipeline } from "../pipeline/sender.ts";
import { sendSnapshot } from "../snapshot/sender.ts";
import { Prober } from "../http/probing.ts";
import { SnapshotStatus } from "../../raftpb/snapshot_status.ts";
import { formatId } from "../http/headers.ts";
import { normalizeUrls } from "../http/peer_urls.ts";
import { isLocalOnly, typeName } from "../http/local_only.ts";
import { StoppedError } from "../errors.ts";
import type { ExtensionHost } from "../extension/host.ts";

/**
 * One remote member, as etcd's `Peer` interface.
 *
 * @example
 * ```ts
 * import type { Peer } from "@rafthttp/rafthttp";
 * function channelsUp(p: Peer): boolean {
 *   return p.activeSince() !== undefined;
 * }
 * console.log(typeof channelsUp); // "function"
 * ```
 */
export interface Peer {
  /** Sends a message without blocking; drops it (and reports unreachable) if its channel is full. */
  send(m: Message): void;
  /** Sends a snapshot over `POST /raft/snapshot`. */
  sendSnap(m: SnapshotMessage): void;
  /** Replaces the peer's URLs. */
  update(urls: string[]): void;
  /** Attaches a stream the peer opened to us and returns the response body to send on it. */
  attachOutgoingConn(type: StreamType): ReadableStream<Uint8Array>;
  /** When the peer became active, or undefined while it is not. */
  activeSince(): Date | undefined;
  /** Stops every channel and releases everything the peer holds. */
  stop(): Promise<void>;
}

/** A snapshot of one peer's state, for monitoring. */
export interface PeerStatusReport {
  /** The peer's id. */
  id: bigint;
  /** Its URLs; the first used until it fails. */
  urls: readonly string[];
  /** Since when the peer is active, or undefined. */
  activeSince: Date | undefined;
  /** Per stream type: `outgoing` (the peer reads our writes), `incoming` (we read the peer's). */
  streams: Record<StreamType, { outgoing: boolean; incoming: boolean }>;
  /** Messages waiting in each queue. */
  queued: {
    message: number;
    msgappv2: number;
    pipeline: number;
    received: number;
    proposals: number;
  };
  /** Smoothed round-trip time from `/raft/probing`, ms. */
  rttMs: number | undefined;
  /** True while paused by the test hooks. */
  paused: boolean;
  /**
   * Snapshots being received from the peer: bytes so far (one that
   * continues an earlier transfer counts what was kept) and the declared
   * size (0 from etcd, which does not announce it); undefined when none is.
   */
  snapshotReceive: { bytes: number; total: number } | undefined;
  /** Counters. */
  stats: PeerStats;
}

/** The transport's peer: implements {@link Peer}. */
export class TransportPeer implements Peer, PeerView {
  readonly id: bigint;
  readonly status: PeerStatus;
  readonly stats: PeerStats = newPeerStats();
  readonly metrics: PeerMetrics;
  #cfg: Config;
  #log: RateLimitedLog;
  #picker: UrlPicker;
  #ctx: PeerContext;
  #writers: Record<StreamType, StreamWriter>;
  #readers: Record<StreamType, StreamReader>;
  #pipeline: Pipeline;
  #prober: Prober;
  #inbox: Inbox;
  #snapshots = new Set<Promise<void>>();
  #abort = new AbortController();
  #paused = false;

  constructor(
    id: bigint,
    urls: string[],
    cfg: Config,
    log: RateLimitedLog,
    extensions: ExtensionHost,
    recorder?: HistogramRecorder,
  ) {
    this.id = id;
    this.#cfg = cfg;
    this.#log = log;
    this.#picker = new UrlPicker(normalizeUrls(urls));
    const peerId = formatId(id);
    this.status = new PeerStatus(peerId, cfg.logger);
    this.metrics = new PeerMetrics(peerId, recorder);
    this.#ctx = {
      peer: id,
      peerId,
      metrics: this.metrics,
      cfg,
      picker: this.#picker,
      status: this.status,
      stats: this.stats,
      log,
      link: new Link(),
      clock: systemClock,
      extensions,
    };
    // A dead link (a reader's peer went silent) is news for raft at once.
    this.#ctx.link.onDead(() => cfg.raft.reportUnreachable(id));
    const onMessage = (channel: StreamType): OnMessage => (m) => this.receive(m, channel);
    const writer = (t: StreamType) => new StreamWriter(t, this.#ctx);
    const reader = (t: StreamType) => new StreamReader(t, this.#ctx, onMessage(t));
    this.#writers = { message: writer("message"), msgappv2: writer("msgappv2") };
    this.#readers = { message: reader("message"), msgappv2: reader("msgappv2") };
    this.#pipeline = new Pipeline(this.#ctx);
    this.#prober = new Prober(cfg, this.#picker, this.metrics);
    this.#inbox = new Inbox(id, cfg, log, this.stats);
  }

  /** Starts the readers, the pipeline, the prober and the receive loops. */
  start(): void {
    this.#pipeline.start();
    this.#readers.message.start();
    this.#readers.msgappv2.start();
    this.#prober.start();
    this.#inbox.start(this.#abort.signal);
  }

  /** etcd's `pick`, then a non-blocking enqueue; a full channel drops and reports. */
  send(m: Message): void {
    if (this.#paused) return;
    let ok: boolean;
    let channel: StreamType | "pipeline";
    if (m.type === MessageType.MsgSnap) {
      ok = this.#pipeline.send(m);
      channel = "pipeline";
    } else if (m.type === MessageType.MsgApp && this.#writers.msgappv2.working) {
      ok = this.#writers.msgappv2.send(m);
      channel = "msgappv2";
    } else if (this.#writers.message.working) {
      ok = this.#writers.message.send(m);
      channel = "message";
    } else {
      ok = this.#pipeline.send(m);
      channel = "pipeline";
    }
    if (ok) return;
    this.stats.sendDrops++;
    this.metrics.sendDrop(CH[channel], DR.queue_full);
    this.#cfg.raft.reportUnreachable(m.to);
    if (m.type === MessageType.MsgSnap) this.#cfg.raft.reportSnapshot(m.to, SnapshotStatus.Failure);
    this.#log.event(
      `drop:${this.id}`,
      "warn",
      "dropped an internal raft message: the sending buffer is full (the peer is slow or unreachable)",
      { [F.remote]: this.metrics.peer, channel, type: MessageType[m.type] },
    );
  }

  /** Sends a snapshot in the background; the outcome goes to raft and to `snap.done`. */
  sendSnap(snap: SnapshotMessage): void {
    if (this.#abort.signal.aborted) {
      snap.close(false);
      return;
    }
    const p = sendSnapshot(snap, this.#ctx, this.#abort.signal).finally(() =>
      this.#snapshots.delete(p)
    );
    this.#snapshots.add(p);
  }

  /** Replaces the URLs; streams redial on the new ones when they next fail. */
  update(urls: string[]): void {
    this.#picker.update(normalizeUrls(urls));
  }

  /** Hands a GET the peer opened to the writer of `type`; returns the body to answer with. */
  attachOutgoingConn(type: StreamType): ReadableStream<Uint8Array> {
    return this.#writers[type].attach();
  }

  /** The peer's URLs. */
  get urls(): readonly string[] {
    return this.#picker.urls;
  }

  /** When the peer became active, or undefined. */
  activeSince(): Date | undefined {
    return this.status.since;
  }

  /**
   * A message arrived on a stream: link heartbeats are dropped, local-only
   * types refused (counted in `refusedLocal`), messages not from this peer to
   * us dropped; proposals and everything else go to their own bounded queues.
   */
  receive(m: Message, channel: StreamType): void {
    if (m.type === MessageType.MsgHeartbeat && m.from === 0n && m.to === 0n) return;
    if (this.#paused) return;
    if (isLocalOnly(m.type)) {
      this.stats.refusedLocal++;
      this.metrics.receiveDrop(CH[channel], DR.local_only);
      this.#log.event(
        `refused:local-only:${this.id}`,
        "warn",
        "dropped a local-only message type that came from the network",
        { [F.remote]: this.metrics.peer, [F.stream]: channel, type: typeName(m.type) },
      );
      return;
    }
    if ((m.from !== this.id && !forwardedWithOthersFrom(m.type)) || m.to !== this.#cfg.id) {
      // A peer's stream carries only its own messages to us; anything else is forged or misrouted.
      this.stats.receiveDrops++;
      this.metrics.receiveDrop(CH[channel], DR.mismatched);
      this.#log.event(
        `forged:${this.id}`,
        "warn",
        "dropped a message whose from/to do not match its stream",
        {
          [F.remote]: this.metrics.peer,
          [F.stream]: channel,
          from: formatId(m.from),
          to: formatId(m.to),
          type: MessageType[m.type],
        },
      );
      return;
    }
    this.stats.receivedMessages++;
    this.stats.receivedOn[channel]++;
    if (!this.#inbox.push(m)) this.metrics.receiveDrop(CH[channel], DR.queue_full);
  }

  /** True while the peer is active. */
  get active(): boolean {
    return this.status.active;
  }

  /** Active-to-inactive transitions so far. */
  get disconnects(): number {
    return this.status.disconnects;
  }

  /** Messages waiting in each queue. */
  queued(): QueueDepths {
    return {
      message: this.#writers.message.queued,
      msgappv2: this.#writers.msgappv2.queued,
      pipeline: this.#pipeline.pending,
      ...this.#inbox.queued,
    };
  }

  /** Pauses or resumes the peer (test hook): sends and received frames are dropped. */
  pause(paused: boolean): void {
    this.#paused = paused;
  }

  /** True while cut by the test hook: the handler refuses the peer's requests. */
  isCut = false;

  /** Cuts or mends the peer entirely (test hook): readers stop dialling, requests are refused. */
  cut(cut: boolean): void {
    this.isCut = cut;
    this.#paused = cut;
    this.#readers.message.pause(cut);
    this.#readers.msgappv2.pause(cut);
  }

  /** The peer's state, for monitoring. */
  report(): PeerStatusReport {
    return {
      id: this.id,
      urls: this.#picker.urls,
      activeSince: this.status.since,
      streams: {
        message: {
          outgoing: this.#writers.message.working,
          incoming: this.#readers.message.connected,
        },
        msgappv2: {
          outgoing: this.#writers.msgappv2.working,
          incoming: this.#readers.msgappv2.connected,
        },
      },
      queued: this.queued(),
      rttMs: this.#prober.srttMs,
      paused: this.#paused,
      snapshotReceive: this.metrics.snapshotReceiveInflight === 0 ? undefined : {
        bytes: this.metrics.snapshotReceiveBytes,
        total: this.metrics.snapshotReceiveTotalBytes,
      },
      stats: structuredClone(this.stats),
    };
  }

  /** Stops everything; resolves when every request, stream, timer and loop is released. */
  async stop(): Promise<void> {
    if (this.#abort.signal.aborted) return;
    this.#abort.abort(new StoppedError());
    this.#writers.message.stop();
    this.#writers.msgappv2.stop();
    await Promise.all([
      this.#readers.message.stop(),
      this.#readers.msgappv2.stop(),
      this.#pipeline.stop(),
      this.#prober.stop(),
      this.#inbox.stop(),
      ...this.#snapshots,
    ]);
  }
}
