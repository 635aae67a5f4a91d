/**
 * The pipeline: one `POST /raft` per message, with the bare protobuf as
 * body, from a bounded queue served by a fixed number of concurrent
 * workers (etcd: 64 and 4). It carries MsgSnap and everything else while no
 * stream works. Delivery order is not guaranteed, as in etcd.
 *
 * @module
 */

import type { Message } from "../../raftpb/raft_pb.ts";
import { MessageType } from "../../raftpb/raft_pb.ts";
import { BoundedQueue } from "../util/bounded_queue.ts";
import type { Config } from "../options.ts";
import type { PeerContext } from "../peer/context.ts";
import { channelFailed, type FailureConfig } from "../peer/failure.ts";
import type { LocalIdentity } from "../http/headers.ts";
import { encodeMessage } from "../codec/protobuf.ts";
import { formatId, requestHeaders } from "../http/headers.ts";
import { SnapshotStatus } from "../../raftpb/snapshot_status.ts";
import { PeerRequestError, StoppedError } from "../errors.ts";
import { checkPostResponse } from "../http/responses.ts";
import { errorMessage } from "../util/error_message.ts";
import { CH, DR } from "../metrics/peer_metrics.ts";

/** The options the pipeline reads. */
export type PipelineConfig =
  & Pick<Config, "pipelineQueueSize" | "pipelineWorkers" | "pipelineTimeoutMs" | "dialer" | "raft">
  & FailureConfig
  & LocalIdentity;

/** Sends one peer's (or remote's) messages as POSTs. */
export class Pipeline {
  #ctx: PeerContext<PipelineConfig>;
  #queue: BoundedQueue<Message>;
  #waiting: (() => void)[] = [];
  #stop = new AbortController();
  #workers: Promise<void>[] = [];
  #inFlight = 0;

  constructor(ctx: PeerContext<PipelineConfig>) {
    this.#ctx = ctx;
    this.#queue = new BoundedQueue(ctx.cfg.pipelineQueueSize);
  }

  /** Messages waiting and being posted. */
  get pending(): number {
    return this.#queue.length + this.#inFlight;
  }

  /** Starts the workers. */
  start(): void {
    if (this.#workers.length > 0) return;
    for (let i = 0; i < this.#ctx.cfg.pipelineWorkers; i++) this.#workers.push(this.#work());
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
    if (dropped > 0) {
      this.#ctx.stats.sendDrops += dropped;
      this.#ctx.metrics.sendDrop(CH.pipeline, DR.stopped, dropped);
    }
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
    const { cfg, peer, stats } = this.#ctx;
    const url = this.#ctx.picker.pick();
    let error: Error | undefined;
    const body = encodeMessage(m);
    // Cleared when the POST is done: a timer per message must not outlive it.
    const { clock } = this.#ctx;
    const timeout = new AbortController();
    const timer = clock.setTimeout(
      () => timeout.abort(new DOMException("Signal timed out.", "TimeoutError")),
      cfg.pipelineTimeoutMs,
    );
    try {
      const target = `${url}/raft`;
      const res = await cfg.dialer.dial({
        method: "POST",
        url: target,
        headers: await requestHeaders(cfg, "POST", target, {
          "Content-Type": "application/protobuf",
        }),
        body,
        signal: AbortSignal.any([stop, timeout.signal]),
      });
      error = await checkPostResponse(res, "POST /raft", peer, cfg);
    } catch (e) {
      if (stop.aborted) return;
      error = new PeerRequestError(
        `POST /raft to peer ${formatId(peer)} at ${url} failed: ${errorMessage(e)}`,
        undefined,
        { cause: e },
      );
    } finally {
      clock.clearTimeout(timer);
    }
    const snap = m.type === MessageType.MsgSnap;
    if (error === undefined) {
      this.#ctx.status.activate();
      stats.sentMessages++;
      stats.sentOn.pipeline++;
      stats.sentBytes += body.length;
      this.#ctx.metrics.sentBytes[CH.pipeline] += body.length;
      if (snap) cfg.raft.reportSnapshot(m.to, SnapshotStatus.Finish);
      return;
    }
    stats.sendDrops++;
    this.#ctx.metrics.sendDrop(CH.pipeline, DR.post_failed);
    cfg.raft.reportUnreachable(m.to);
    if (snap) cfg.raft.reportSnapshot(m.to, SnapshotStatus.Failure);
    channelFailed(this.#ctx, {
      channel: "pipeline",
      url,
      error,
      warning: "failed to send a message on the pipeline",
      fields: { type: MessageType[m.type] },
    });
  }
}
