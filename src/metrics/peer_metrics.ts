/**
 * The counters of one peer that `PeerStats` does not hold: bytes per
 * channel, drops per channel and reason, stream connects, disconnects,
 * snapshot outcomes and durations, round-trip samples. Plain numbers and
 * typed arrays incremented in place: nothing is allocated per message; the
 * exposition reads them at scrape time.
 *
 * @module
 */

import { Histogram, RTT_SECONDS_BUCKETS, SNAPSHOT_SECONDS_BUCKETS } from "./histogram.ts";

/** The channels counted apart, in index order. */
export const CHANNELS = ["message", "msgappv2", "pipeline", "snapshot"] as const;
/** One of {@link CHANNELS}. */
export type Channel = typeof CHANNELS[number];
/** The index of each channel in the per-channel arrays. */
export const CH = { message: 0, msgappv2: 1, pipeline: 2, snapshot: 3 } as const;

/** Why a message was dropped, in index order. */
export const DROP_REASONS = [
  "queue_full",
  "stream_closed",
  "encode_failed",
  "post_failed",
  "stopped",
  "mismatched",
  "link_dead",
  "local_only",
] as const;
/** One of {@link DROP_REASONS}. */
export type DropReason = typeof DROP_REASONS[number];
/** The index of each reason. */
export const DR = {
  queue_full: 0,
  stream_closed: 1,
  encode_failed: 2,
  post_failed: 3,
  stopped: 4,
  mismatched: 5,
  link_dead: 6,
  local_only: 7,
} as const;

/** The (channel, reason) pairs that can occur when sending, exposed even while zero. */
export const SEND_DROPS: readonly [Channel, DropReason][] = [
  ["message", "queue_full"],
  ["message", "stream_closed"],
  ["message", "encode_failed"],
  ["message", "stopped"],
  ["message", "link_dead"],
  ["msgappv2", "queue_full"],
  ["msgappv2", "stream_closed"],
  ["msgappv2", "encode_failed"],
  ["msgappv2", "stopped"],
  ["msgappv2", "link_dead"],
  ["pipeline", "queue_full"],
  ["pipeline", "post_failed"],
  ["pipeline", "stopped"],
];

/** The (channel, reason) pairs that can occur when receiving. */
export const RECEIVE_DROPS: readonly [Channel, DropReason][] = [
  ["message", "queue_full"],
  ["message", "mismatched"],
  ["message", "local_only"],
  ["msgappv2", "queue_full"],
  ["msgappv2", "mismatched"],
  ["msgappv2", "local_only"],
  ["pipeline", "local_only"],
];

/** Where histogram observations also go (the OpenTelemetry bridge), by metric name. */
export type HistogramRecorder = (name: string, peer: string) => ((v: number) => void) | undefined;

/** Metric counters of one peer (or remote). */
export class PeerMetrics {
  /** The peer's id as etcd prints it (lowercase hex), the label value of every series. */
  readonly peer: string;
  /** Bytes written per channel (index {@link CH}). */
  readonly sentBytes = new Float64Array(CHANNELS.length);
  /** Bytes read per channel. */
  readonly receivedBytes = new Float64Array(CHANNELS.length);
  /** Messages dropped sending, per channel × reason (index `CH * DROP_REASONS.length + DR`). */
  readonly sendDrops = new Float64Array(CHANNELS.length * DROP_REASONS.length);
  /** Messages dropped receiving, same layout. */
  readonly receiveDrops = new Float64Array(CHANNELS.length * DROP_REASONS.length);
  /** Streams established: [message out, msgappv2 out, message in, msgappv2 in]. */
  readonly streamConnects = new Float64Array(4);
  /** Round-trip probes sent, and those that got no valid answer. */
  probesSent = 0;
  probesFailed = 0;
  snapshotSendSuccess = 0;
  snapshotSendFailures = 0;
  snapshotSendInflight = 0;
  snapshotReceiveSuccess = 0;
  snapshotReceiveFailures = 0;
  snapshotReceiveInflight = 0;
  /** Bytes received of the snapshots in flight (a continued transfer counts what was kept). */
  snapshotReceiveBytes = 0;
  /** Their declared data size (0 for etcd's plain body, whose size is not announced). */
  snapshotReceiveTotalBytes = 0;
  /** Receives that continued a transfer an earlier request began, and data that failed its digest. */
  snapshotReceiveContinued = 0;
  snapshotDigestMismatches = 0;
  /** Retries of broken snapshot sends. */
  snapshotSendRetries = 0;
  /** etcd_network_snapshot_send_total_duration_seconds. */
  readonly snapshotSendSeconds: Histogram;
  /** etcd_network_snapshot_receive_total_duration_seconds. */
  readonly snapshotReceiveSeconds: Histogram;
  /** etcd_network_peer_round_trip_time_seconds: one sample per answered probe. */
  readonly rttSeconds: Histogram;

  /** Counters of peer `peer` (hex); `recorder` hands the histograms an extra sink. */
  constructor(peer: string, recorder?: HistogramRecorder) {
    this.peer = peer;
    const h = (name: string, bounds: readonly number[]) =>
      new Histogram(bounds, recorder?.(name, peer));
    this.snapshotSendSeconds = h(
      "etcd_network_snapshot_send_total_duration_seconds",
      SNAPSHOT_SECONDS_BUCKETS,
    );
    this.snapshotReceiveSeconds = h(
      "etcd_network_snapshot_receive_total_duration_seconds",
      SNAPSHOT_SECONDS_BUCKETS,
    );
    this.rttSeconds = h("etcd_network_peer_round_trip_time_seconds", RTT_SECONDS_BUCKETS);
  }

  /** Counts one message dropped while sending. */
  sendDrop(channel: number, reason: number, n = 1): void {
    this.sendDrops[channel * DROP_REASONS.length + reason] += n;
  }

  /** Counts one message dropped while receiving. */
  receiveDrop(channel: number, reason: number, n = 1): void {
    this.receiveDrops[channel * DROP_REASONS.length + reason] += n;
  }
}
