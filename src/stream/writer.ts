/**
 * The sending half of a stream: one per peer per stream type. Messages wait
 * in a bounded queue; the peer's reader has opened a GET whose response
 * body is ours to fill. Each time that body is pulled, every queued message
 * (up to a chunk size) is encoded into one chunk, so under load many frames
 * go out in one write, and a lone message goes out at once.
 *
 * @module
 */

import type { Message } from "../../raftpb/raft_pb.ts";
import { MessageType } from "../../raftpb/raft_pb.ts";
import { BoundedQueue } from "../util/bounded_queue.ts";
import { ByteWriter } from "../codec/byte_writer.ts";
import { writeMessageFrame } from "../codec/message.ts";
import { linkHeartbeat, MsgAppV2Encoder } from "../codec/msgappv2.ts";
import { errorMessage } from "../util/error_message.ts";
import { F, type LogLevel } from "../logger.ts";
import { CH, DR } from "../metrics/peer_metrics.ts";
import type { Config } from "../options.ts";
import type { PeerContext } from "../peer/context.ts";
import type { StreamType } from "./types.ts";
import { WriteWindows } from "../peer/link.ts";

/** The options a stream writer reads. */
export type StreamWriterConfig = Pick<
  Config,
  | "streamQueueSize"
  | "streamChunkSize"
  | "linkHeartbeatIntervalMs"
  | "streamWriteTimeoutMs"
  | "raft"
>;

const HEARTBEAT = linkHeartbeat();

/** One attached response body. */
class Connection {
  controller!: ReadableStreamDefaultController<Uint8Array>;
  closed = false;
  // The first pull writes a link heartbeat at once: some servers (Bun) send
  // a streaming response's headers only with its first bytes, and the
  // peer's dial waits for those headers.
  heartbeatDue = true;
  lastPull = Date.now();
  wake: (() => void) | undefined;
  timer: ReturnType<typeof setInterval> | undefined;
  encoder = new MsgAppV2Encoder();
  /** Messages written into this connection that no later byte from the peer confirms. */
  windows = new WriteWindows(Date.now());
  readonly stream: ReadableStream<Uint8Array>;

  constructor(
    pull: (c: Connection, ctl: ReadableStreamDefaultController<Uint8Array>) => Promise<void>,
    cancel: (c: Connection, reason: unknown) => void,
  ) {
    this.stream = new ReadableStream<Uint8Array>({
      start: (ctl) => {
        this.controller = ctl;
      },
      pull: (ctl) => pull(this, ctl),
      cancel: (reason) => cancel(this, reason),
    }, { highWaterMark: 0 });
  }
}

/** Sends one peer's messages of one stream type. */
export class StreamWriter {
  readonly type: StreamType;
  #ctx: PeerContext<StreamWriterConfig>;
  #queue: BoundedQueue<Message>;
  #conn: Connection | undefined;
  #out: ByteWriter;
  #stopped = false;
  /** The channel's index in the per-channel counters. */
  readonly #ch: number;

  constructor(type: StreamType, ctx: PeerContext<StreamWriterConfig>) {
    this.type = type;
    this.#ctx = ctx;
    this.#queue = new BoundedQueue(ctx.cfg.streamQueueSize);
    this.#out = new ByteWriter(ctx.cfg.streamChunkSize + 1024);
    this.#ch = CH[type];
    ctx.link.onDead((reason) => {
      if (this.#conn !== undefined) this.#linkDead(this.#conn, reason);
    });
  }

  /** True while a peer's reader is attached: `pick` may use this stream. */
  get working(): boolean {
    return this.#conn !== undefined;
  }

  /** Messages waiting to be written. */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Queues `m`; false when the queue is full (the caller drops and reports
   * it). Never blocks.
   */
  send(m: Message): boolean {
    if (!this.#queue.push(m)) return false;
    const c = this.#conn;
    if (c?.wake !== undefined) {
      const wake = c.wake;
      c.wake = undefined;
      wake();
    }
    return true;
  }

  /**
   * Attaches a new response body (the peer's reader just dialled us) and
   * returns it. A previous body is ended cleanly; queued messages carry over
   * to the new one.
   */
  attach(): ReadableStream<Uint8Array> {
    if (this.#conn !== undefined) {
      this.#close(this.#conn, "replaced by a newer stream", undefined, "info");
    }
    const conn = new Connection(
      (c, ctl) => this.#pull(c, ctl),
      (c, reason) =>
        this.#fail(c, `the peer's reader went away (${reason ?? "connection closed"})`),
    );
    if (this.#stopped) {
      conn.closed = true;
      conn.controller.close();
      return conn.stream;
    }
    this.#conn = conn;
    conn.timer = setInterval(() => this.#tick(conn), this.#ctx.cfg.linkHeartbeatIntervalMs);
    this.#ctx.metrics.streamConnects[this.#ch]++;
    this.#ctx.status.activate();
    this.#ctx.log.event(
      `stream-up:${this.type}:${this.#ctx.peer}`,
      "info",
      "established a stream to the peer",
      { [F.remote]: this.#ctx.peerId, [F.stream]: this.type },
    );
    return conn.stream;
  }

  #tick(conn: Connection): void {
    const now = Date.now();
    if (this.#queue.length > 0 && now - conn.lastPull > this.#ctx.cfg.streamWriteTimeoutMs) {
      this.#fail(
        conn,
        `the peer's reader took nothing for ${now - conn.lastPull} ms while data waited ` +
          `(write timeout ${this.#ctx.cfg.streamWriteTimeoutMs} ms)`,
      );
      return;
    }
    conn.heartbeatDue = true;
    if (conn.wake !== undefined) {
      const wake = conn.wake;
      conn.wake = undefined;
      wake();
    }
  }

  async #pull(conn: Connection, controller: ReadableStreamDefaultController<Uint8Array>) {
    let now = conn.lastPull = Date.now();
    if (this.#queue.length === 0 && !conn.heartbeatDue) {
      await new Promise<void>((resolve) => conn.wake = resolve);
      if (conn.closed) return;
      now = Date.now(); // idle until now: the write happens now, not at the pull
    }
    const w = this.#out;
    w.reset();
    if (conn.heartbeatDue) {
      conn.heartbeatDue = false;
      this.#encode(conn, w, HEARTBEAT);
    }
    const limit = this.#ctx.cfg.streamChunkSize;
    let n = 0;
    while (w.pos < limit) {
      const m = this.#queue.shift();
      if (m === undefined) break;
      try {
        this.#encode(conn, w, m);
        n++;
      } catch (e) {
        // A message that cannot be encoded (a bigint out of range...) is
        // dropped alone; the stream goes on.
        this.#ctx.stats.sendDrops++;
        this.#ctx.metrics.sendDrop(this.#ch, DR.encode_failed);
        this.#ctx.cfg.raft.reportUnreachable(this.#ctx.peer);
        this.#ctx.log.event(
          `encode:${this.#ctx.peer}`,
          "error",
          "dropped a message that cannot be encoded",
          {
            [F.remote]: this.#ctx.peerId,
            [F.stream]: this.type,
            type: MessageType[m.type],
            [F.error]: errorMessage(e),
          },
        );
      }
    }
    if (n > 0) conn.windows.wrote(n, now, this.#ctx.link.lastHeard);
    this.#ctx.stats.sentMessages += n;
    this.#ctx.stats.sentOn[this.type] += n;
    this.#ctx.stats.sentBytes += w.pos;
    this.#ctx.metrics.sentBytes[this.#ch] += w.pos;
    if (w.pos > 0) this.#ctx.stats.sentChunks++;
    // A big chunk is handed over as it is (copying it costs more than a
    // fresh buffer); a small one is copied out and the buffer reused.
    if (w.pos > limit >>> 2) controller.enqueue(w.detach(limit + 1024));
    else if (w.pos > 0) controller.enqueue(w.take());
  }

  #encode(conn: Connection, w: ByteWriter, m: Message): void {
    if (this.type === "msgappv2") conn.encoder.write(w, m);
    else writeMessageFrame(w, m);
  }

  /**
   * The peer's readers found the link silent (no RST on a cut link, so our
   * writes kept landing in the socket buffer): what was written since the
   * last sign of life counts as dropped, the body is ended (erroring it
   * instead would make Deno.serve print the error on the console, past our
   * logger; the end is a few bytes into a socket buffer the kernel drops
   * with the connection), and the queue goes with it. `pick` then uses the
   * pipeline until the peer dials again.
   */
  #linkDead(conn: Connection, reason: string): void {
    if (conn.closed) return;
    const lost = conn.windows.unconfirmed(this.#ctx.link.lastHeard);
    if (lost > 0) {
      this.#ctx.stats.sendDrops += lost;
      this.#ctx.metrics.sendDrop(this.#ch, DR.link_dead, lost);
      this.#ctx.log.event(
        `drop-unconfirmed:${this.#ctx.peer}`,
        "warn",
        "counted messages written into a dead link as dropped (no sign of life from the peer since)",
        { [F.remote]: this.#ctx.peerId, [F.stream]: this.type, dropped: lost },
      );
    }
    this.#ctx.status.deactivate(`stream ${this.type}: the link looks dead: ${reason}`);
    this.#close(conn, `the link looks dead: ${reason}`, DR.link_dead, "warn");
  }

  /** A write failed: the peer is deactivated, queued messages dropped and reported once. */
  #fail(conn: Connection, reason: string): void {
    if (conn.closed) return;
    this.#ctx.status.deactivate(`stream ${this.type} write failed: ${reason}`);
    this.#close(conn, reason, DR.stream_closed, "warn");
  }

  /** Ends `conn`; with `drop` (a reason of DR), the queued messages are dropped for it. */
  #close(conn: Connection, reason: string, drop: number | undefined, level: LogLevel): void {
    if (conn.closed) return;
    conn.closed = true;
    clearInterval(conn.timer);
    if (conn.wake !== undefined) conn.wake();
    conn.wake = undefined;
    try {
      conn.controller.close();
    } catch {
      // already cancelled by the consumer
    }
    if (this.#conn === conn) this.#conn = undefined;
    this.#ctx.log.event(
      `stream-down:${this.type}:${this.#ctx.peer}`,
      level,
      "closed a stream to the peer",
      { [F.remote]: this.#ctx.peerId, [F.stream]: this.type, reason },
    );
    if (drop !== undefined) this.#dropQueued(drop);
  }

  #dropQueued(reason: number): void {
    const dropped = this.#queue.clear();
    if (dropped > 0) {
      this.#ctx.stats.sendDrops += dropped;
      this.#ctx.metrics.sendDrop(this.#ch, reason, dropped);
      this.#ctx.cfg.raft.reportUnreachable(this.#ctx.peer);
      this.#ctx.log.event(
        `drop:${this.#ctx.peer}`,
        "warn",
        "dropped queued messages: their stream closed",
        { [F.remote]: this.#ctx.peerId, [F.stream]: this.type, dropped },
      );
    }
  }

  /** Ends the attached body and drops the queue; the writer accepts no new body. */
  stop(): void {
    this.#stopped = true;
    if (this.#conn !== undefined) {
      this.#close(this.#conn, "the peer was stopped", DR.stopped, "debug");
    } else this.#dropQueued(DR.stopped);
  }
}
