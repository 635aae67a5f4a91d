/**
 * A remote: a member we may send to but do not (yet) have as a peer, such
 * as one catching up while joining. Pipeline only, no streams, as etcd's
 * remote; a full queue drops without reporting, as etcd does.
 *
 * @module
 */

import type { Message } from "../../raftpb/raft_pb.ts";
import type { Config } from "../options.ts";
import { F, type RateLimitedLog } from "../logger.ts";
import { CH, DR, PeerMetrics } from "../metrics/peer_metrics.ts";
import { Pipeline } from "../pipeline/sender.ts";
import { PeerStatus } from "./status.ts";
import { newPeerStats, type PeerStats } from "./stats.ts";
import { UrlPicker } from "./url_picker.ts";
import { formatId } from "../http/headers.ts";
import { normalizeUrls } from "../http/peer_urls.ts";
import { Link } from "./link.ts";
import { systemClock } from "../util/clock.ts";
import { NO_EXTENSIONS } from "../extension/host.ts";

/** A pipeline-only member. */
export class Remote {
  readonly id: bigint;
  readonly stats: PeerStats = newPeerStats();
  readonly metrics: PeerMetrics;
  #pipeline: Pipeline;
  #log: RateLimitedLog;
  #paused = false;

  constructor(id: bigint, urls: string[], cfg: Config, log: RateLimitedLog) {
    this.id = id;
    this.#log = log;
    const peerId = formatId(id);
    const status = new PeerStatus(peerId, cfg.logger);
    this.metrics = new PeerMetrics(peerId);
    this.#pipeline = new Pipeline({
      peer: id,
      peerId,
      metrics: this.metrics,
      cfg,
      picker: new UrlPicker(normalizeUrls(urls)),
      status,
      stats: this.stats,
      log,
      link: new Link(),
      clock: systemClock,
      extensions: NO_EXTENSIONS, // a remote sends no snapshots and dials no streams
    });
    this.#pipeline.start();
  }

  /** Queues `m` for the pipeline; drops it (logged, rate-limited) when full. */
  send(m: Message): void {
    if (this.#paused) return;
    if (this.#pipeline.send(m)) return;
    this.stats.sendDrops++;
    this.metrics.sendDrop(CH.pipeline, DR.queue_full);
    this.#log.event(
      `remote-drop:${this.id}`,
      "warn",
      "dropped a message to a remote: its queue is full",
      { [F.remote]: this.metrics.peer },
    );
  }

  /** Pauses or resumes sending (test hook). */
  pause(paused: boolean): void {
    this.#paused = paused;
  }

  /** Stops the pipeline. */
  stop(): Promise<void> {
    return this.#pipeline.stop();
  }
}
