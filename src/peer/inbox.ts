/**
 * The receive side of one peer: what its streams deliver waits in two
 * bounded queues, one for proposals and one for everything else, each
 * drained by one loop into `Raft.process`, so that a blocked proposal never
 * stalls raft traffic (as in etcd). A full queue drops, counted and logged.
 *
 * @module
 */

import type { Message } from "../../raftpb/raft_pb.ts";
import { MessageType } from "../../raftpb/raft_pb.ts";
import type { Config } from "../options.ts";
import type { RateLimitedLog } from "../logger.ts";
import type { PeerStats } from "./stats.ts";
import { BoundedQueue } from "../util/bounded_queue.ts";
import { errorMessage } from "../util/error_message.ts";
import { F } from "../logger.ts";
import { formatId } from "../http/headers.ts";

/** The options the inbox reads. */
export type InboxConfig = Pick<Config, "receiveQueueSize" | "raft">;

/** One queue and its drain loop. */
class Lane {
  readonly queue: BoundedQueue<Message>;
  #wake: (() => void) | undefined;

  constructor(capacity: number) {
    this.queue = new BoundedQueue(capacity);
  }

  /** Queues `m` and wakes the drain; false when full. */
  push(m: Message): boolean {
    if (!this.queue.push(m)) return false;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
    return true;
  }

  /** Resolves at the next push (or wake). */
  parked(): Promise<void> {
    return new Promise<void>((resolve) => this.#wake = resolve);
  }

  /** Wakes a waiting drain (to see the abort). */
  wake(): void {
    this.#wake?.();
  }
}

/** The receive queues of one peer, drained into `Raft.process`. */
export class Inbox {
  #peer: bigint;
  #peerId: string;
  #cfg: InboxConfig;
  #log: RateLimitedLog;
  #stats: PeerStats;
  #received: Lane;
  #proposals: Lane;
  #drains: Promise<void>[] = [];

  constructor(peer: bigint, cfg: InboxConfig, log: RateLimitedLog, stats: PeerStats) {
    this.#peer = peer;
    this.#peerId = formatId(peer);
    this.#cfg = cfg;
    this.#log = log;
    this.#stats = stats;
    this.#received = new Lane(cfg.receiveQueueSize);
    this.#proposals = new Lane(cfg.receiveQueueSize);
  }

  /** Messages waiting in each queue. */
  get queued(): { received: number; proposals: number } {
    return { received: this.#received.queue.length, proposals: this.#proposals.queue.length };
  }

  /** Starts both drain loops; they end when `signal` aborts. */
  start(signal: AbortSignal): void {
    this.#drains.push(this.#drain(this.#received, signal), this.#drain(this.#proposals, signal));
  }

  /** Queues a message for raft; a full queue drops it (counted, logged) and answers false. */
  push(m: Message): boolean {
    if ((m.type === MessageType.MsgProp ? this.#proposals : this.#received).push(m)) return true;
    this.#stats.receiveDrops++;
    this.#log.event(
      `recv-drop:${this.#peer}`,
      "warn",
      "dropped a received raft message: the receive queue is full (raft is not keeping up)",
      { [F.remote]: this.#peerId, type: MessageType[m.type] },
    );
    return false;
  }

  /** Waits for the drain loops to end (after the signal aborted) and empties the queues. */
  async stop(): Promise<void> {
    this.#received.wake();
    this.#proposals.wake();
    await Promise.all(this.#drains);
    this.#received.queue.clear();
    this.#proposals.queue.clear();
  }

  async #drain(lane: Lane, signal: AbortSignal): Promise<void> {
    const raft = this.#cfg.raft;
    while (!signal.aborted) {
      // No promise per message while messages wait: only an empty queue parks.
      const m = lane.queue.shift();
      if (m === undefined) {
        await lane.parked();
        continue;
      }
      try {
        const done = raft.process(m, signal);
        if (done !== undefined) await done;
      } catch (e) {
        this.#log.event(
          `process:${this.#peer}`,
          "warn",
          "raft.process failed for a received message",
          { [F.remote]: this.#peerId, type: MessageType[m.type], [F.error]: errorMessage(e) },
        );
      }
    }
  }
}
