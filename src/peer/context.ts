/**
 * What every channel of one peer shares: the peer's id, the options it
 * reads, its URLs, its active state, its counters (stats and metrics), the
 * log and the clock. Built once per peer (or remote) and handed to its
 * stream writers, readers, pipeline and snapshot sends; each declares the
 * options it reads as `C`.
 *
 * @module
 */

import type { Config } from "../options.ts";
import type { PeerStatus } from "./status.ts";
import type { RateLimitedLog } from "../logger.ts";
import type { PeerStats } from "./stats.ts";
import type { UrlPicker } from "./url_picker.ts";
import type { PeerMetrics } from "../metrics/peer_metrics.ts";
import type { Link } from "./link.ts";
import type { Clock } from "../util/clock.ts";
import type { ExtensionHost } from "../extension/host.ts";

/** The shared state of one peer's channels. */
export interface PeerContext<C = Config> {
  /** The peer's id. */
  readonly peer: bigint;
  /** The peer's id as etcd prints it (lowercase hex): log fields and metric labels. */
  readonly peerId: string;
  /** The transport's options, as far as the channel reads them. */
  readonly cfg: C;
  /** The peer's URLs, with failover. */
  readonly picker: UrlPicker;
  /** Active/inactive, shared by all channels. */
  readonly status: PeerStatus;
  /** The peer's counters. */
  readonly stats: PeerStats;
  /** The rest of its metric counters. */
  readonly metrics: PeerMetrics;
  /** The transport's rate-limited log. */
  readonly log: RateLimitedLog;
  /** What the peer's streams know of the link (readers report silence, writers act on it). */
  readonly link: Link;
  /** Time and timers: `systemClock`, or one a test steps by hand. */
  readonly clock: Clock;
  /** The transport's started extensions (snapshot sends and stream dials consult them). */
  readonly extensions: ExtensionHost;
}
