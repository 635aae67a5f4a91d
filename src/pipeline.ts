/**
 * The pipeline: one `POST /raft` per message, with the bare protobuf as
 * body, from a bounded queue served by a fixed number of concurrent
 * workers (etcd: 64 and 4). It carries MsgSnap and everything else while no
 * stream works. Delivery order is not guaranteed, as in etcd.
 *
 * @module
 */

import type { Message } from "./raftpb/raft_pb.ts";
import { MessageType } from "./raftpb/raft_pb.ts";
import type { Config } from "./options.ts";
import type { PeerStatus } from "./peer_status.ts";
import type { RateLimitedLog } from "./logger.ts";
import type { PeerStats } from "./stats.ts";
import type { UrlPicker } from "./url_picker.ts";
import { BoundedQueue } from "./bounded_queue.ts";
import { encodeMessage } from "./codec/protobuf.ts";
import { formatId, requestHeaders } from "./headers.ts";
import { SnapshotStatus } from "./raft.ts";
import { PeerRequestError, StoppedError } from "./errors.ts";
import { checkPostResponse, isCritical } from "./responses.ts";

/** Sends one peer's (or remote's) messages as POSTs. */
export class Pipeline {
  #cfg: Config;
  #peer: bigint;
  #picker: UrlPicker;
  #status: PeerStatus;
  #stats: PeerStats;
  #log: RateLimitedLog;
  #queue: BoundedQueue<Message>;
  #waiting: (() => void)[] = [];
  #stop = new AbortController();
  #workers: Promise<void>[] = [];
  #inFlight = 0;

  constructor(
    peer: bigint,
    cfg: Config,
    picker: UrlPicker,
    status: PeerStatus,
    stats: PeerStats,
    log: RateLimitedLog,
  ) {
    this.#peer = peer;
    this.#cfg = cfg;
    this.#picker = picker;
    this.#status = status;
    this.#stats = stats;
    this.#log = log;
    this.#queue = new BoundedQueue(cfg.pipelineQueueSize);
  }

  /** Messages waiting and being posted. */
  get pending(): number {
    return this.#queue.length + this.#inFlight;
  }

  /** Starts the workers. */
  start(): void {
    if (this.#workers.length > 0) return;
    for (let i = 0; i < this.#cfg.pipelineWorkers; i++) this.#workers.push(this.#work());
  }

  /** Queues `m`; false when the queue is full. Never blocks. */
  send(m: Message): boolean {
    if (this.#stop.signal.aborted || !this.#queue.push(m)) return false;
    this.#waiting.pop()?.();
    return true;
  }

  /** Cancels posts in flight, drops the queue and waits for the workers to end. */
  async stop(): Promise<void> {
    this.#stop.abort(new StoppedError());
    for (const wake of this.#waiting.splice(0)) wake();
    await Promise.all(this.#workers);
    const dropped = this.#queue.clear();
    if (dropped > 0) this.#stats.sendDrops += dropped;
  }

  async #work(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      const m = this.#queue.shift();
      if (m === undefined) {
        await new Promise<void>((resolve) => this.#waiting.push(resolve));
        continue;
      }
      this.#inFlight++;
      try {
        await this.#post(m, signal);
      } finally {
        this.#inFlight--;
      }
    }
  }

  async #post(m: Message, stop: AbortSignal): Promise<void> {
    const cfg = this.#cfg;
    const url = this.#picker.pick();
    let error: Error | undefined;
    const body = encodeMessage(m);
    try {
      const target = `${url}/raft`;
      const res = await cfg.fetch(target, {
        method: "POST",
        headers: await requestHeaders(cfg, "POST", target, {
          "Content-Type": "application/protobuf",
        }),
        body,
        signal: AbortSignal.any([stop, AbortSignal.timeout(cfg.pipelineTimeoutMs)]),
      });
      error = await checkPostResponse(res, "POST /raft", this.#peer, cfg);
    } catch (e) {
      if (stop.aborted) return;
      error = new PeerRequestError(
        `POST /raft to peer ${formatId(this.#peer)} at ${url} failed: ${
          e instanceof Error ? e.message : e
        }`,
        undefined,
        { cause: e },
      );
    }
    if (error === undefined) {
      this.#status.activate();
      this.#stats.sentMessages++;
      this.#stats.sentOn.pipeline++;
      this.#stats.sentBytes += body.length;
      if (m.type === MessageType.MsgSnap) cfg.raft.reportSnapshot(m.to, SnapshotStatus.Finish);
      return;
    }
    this.#picker.unreachable(url);
    this.#status.deactivate(
      `failed to send ${MessageType[m.type]} on the pipeline: ${error.message}`,
    );
    this.#stats.sendDrops++;
    cfg.raft.reportUnreachable(m.to);
    if (m.type === MessageType.MsgSnap) cfg.raft.reportSnapshot(m.to, SnapshotStatus.Failure);
    if (isCritical(error)) {
      this.#log.event(`critical:${this.#peer}`, "error", error.message, { peer: this.#peer });
      cfg.onError(error);
    } else {
      this.#log.event(
        `pipeline:${this.#peer}`,
        "warn",
        "failed to send a message on the pipeline",
        {
          peer: this.#peer,
          type: MessageType[m.type],
          error: error.message,
        },
      );
    }
  }
}
