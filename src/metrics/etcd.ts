/**
 * The instruments: every rafthttp metric of etcd 3.4 with etcd's names,
 * help texts, types, labels and buckets, 3.5's in-flight snapshot gauges,
 * and ours beyond etcd under `rafthttp_`. Label values are ids as etcd
 * prints them (lowercase hex).
 *
 * When each moves (as in etcd unless noted):
 * - active_peers / disconnected_peers_total: the peer's active state
 *   (a stream or POST worked) and each active-to-inactive transition.
 * - peer_sent_bytes_total: stream chunks as written, pipeline bodies once
 *   answered, snapshot bytes as they go. peer_received_bytes_total: the
 *   same on the receiving side (snapshot envelopes included).
 * - peer_sent_failures_total: messages dropped sending (full queue, failed
 *   write, encode or POST) and failed snapshot sends.
 *   peer_received_failures_total: messages dropped receiving (full receive
 *   queue, a from/to that does not match the stream); etcd also counts
 *   unreadable POST bodies, by remote address, which a handler cannot see.
 * - peer_round_trip_time_seconds: one sample per answered probe (etcd
 *   samples its smoothed value every 30 s; a sample per probe is what makes
 *   the distribution meaningful).
 *
 * @module
 */

import { RTT_SECONDS_BUCKETS, SNAPSHOT_SECONDS_BUCKETS } from "./histogram.ts";
import type { Emit, Instrument, MetricsSource, PeerView } from "./registry.ts";
import type { PeerMetrics } from "./peer_metrics.ts";
import {
  CH,
  CHANNELS,
  DR,
  DROP_REASONS,
  type PeerMetrics as PM,
  RECEIVE_DROPS,
  SEND_DROPS,
} from "./peer_metrics.ts";
import type { PeerStats } from "../peer/stats.ts";

type Kind = Instrument["type"];

function per(
  name: string,
  type: Kind,
  help: string,
  labels: readonly string[],
  unit: string,
  collect: (src: MetricsSource, emit: Emit) => void,
  buckets?: readonly number[],
): Instrument {
  return { name, type, help, labels, unit, collect, buckets };
}

/** One sample per peer, labelled by its id. */
function perPeer(
  name: string,
  type: Kind,
  help: string,
  label: "To" | "From",
  unit: string,
  value: (p: PeerView) => number | PM[keyof PM],
  buckets?: readonly number[],
): Instrument {
  return per(name, type, help, [label], unit, (src, emit) => {
    for (const p of src.peers()) emit([p.metrics.peer], value(p) as number);
  }, buckets);
}

/** Peers and remotes: both send. */
function perSender(
  name: string,
  help: string,
  value: (s: { stats: PeerStats; metrics: PeerMetrics }) => number,
): Instrument {
  return per(name, "counter", help, ["To"], name.endsWith("bytes_total") ? "By" : "1", (src, e) => {
    for (const p of src.peers()) e([p.metrics.peer], value(p));
    for (const r of src.remotes()) e([r.metrics.peer], value(r));
  });
}

const ETCD: Instrument[] = [
  per(
    "etcd_network_active_peers",
    "gauge",
    "The current number of active peer connections.",
    ["Local", "Remote"],
    "1",
    (src, emit) => {
      for (const p of src.peers()) emit([src.local, p.metrics.peer], p.active ? 1 : 0);
    },
  ),
  per(
    "etcd_network_disconnected_peers_total",
    "counter",
    "The total number of disconnected peers.",
    ["Local", "Remote"],
    "1",
    (src, emit) => {
      for (const p of src.peers()) emit([src.local, p.metrics.peer], p.disconnects);
    },
  ),
  perSender(
    "etcd_network_peer_sent_bytes_total",
    "The total number of bytes sent to peers.",
    (p) => p.stats.sentBytes,
  ),
  perPeer(
    "etcd_network_peer_received_bytes_total",
    "counter",
    "The total number of bytes received from peers.",
    "From",
    "By",
    (p) => p.stats.receivedBytes,
  ),
  perSender(
    "etcd_network_peer_sent_failures_total",
    "The total number of send failures from peers.",
    (p) => p.stats.sendDrops + p.metrics.snapshotSendFailures,
  ),
  perPeer(
    "etcd_network_peer_received_failures_total",
    "counter",
    "The total number of receive failures from peers.",
    "From",
    "1",
    (p) => p.stats.receiveDrops,
  ),
  perPeer(
    "etcd_network_snapshot_send_success",
    "counter",
    "Total number of successful snapshot sends",
    "To",
    "1",
    (p) => p.metrics.snapshotSendSuccess,
  ),
  perPeer(
    "etcd_network_snapshot_send_inflights_total",
    "gauge",
    "Total number of inflight snapshot sends",
    "To",
    "1",
    (p) => p.metrics.snapshotSendInflight,
  ),
  perPeer(
    "etcd_network_snapshot_send_failures",
    "counter",
    "Total number of snapshot send failures",
    "To",
    "1",
    (p) => p.metrics.snapshotSendFailures,
  ),
  perPeer(
    "etcd_network_snapshot_send_total_duration_seconds",
    "histogram",
    "Total latency distributions of v3 snapshot sends",
    "To",
    "s",
    (p) => p.metrics.snapshotSendSeconds,
    SNAPSHOT_SECONDS_BUCKETS,
  ),
  perPeer(
    "etcd_network_snapshot_receive_success",
    "counter",
    "Total number of successful snapshot receives",
    "From",
    "1",
    (p) => p.metrics.snapshotReceiveSuccess,
  ),
  perPeer(
    "etcd_network_snapshot_receive_inflights_total",
    "gauge",
    "Total number of inflight snapshot receives",
    "From",
    "1",
    (p) => p.metrics.snapshotReceiveInflight,
  ),
  perPeer(
    "etcd_network_snapshot_receive_failures",
    "counter",
    "Total number of snapshot receive failures",
    "From",
    "1",
    (p) => p.metrics.snapshotReceiveFailures,
  ),
  perPeer(
    "etcd_network_snapshot_receive_total_duration_seconds",
    "histogram",
    "Total latency distributions of v3 snapshot receives",
    "From",
    "s",
    (p) => p.metrics.snapshotReceiveSeconds,
    SNAPSHOT_SECONDS_BUCKETS,
  ),
  perPeer(
    "etcd_network_peer_round_trip_time_seconds",
    "histogram",
    "Round-Trip-Time histogram between peers",
    "To",
    "s",
    (p) => p.metrics.rttSeconds,
    RTT_SECONDS_BUCKETS,
  ),
];

const STREAMS = ["message", "msgappv2"] as const;

const OURS: Instrument[] = [
  per(
    "rafthttp_peer_sent_dropped_messages_total",
    "counter",
    "Messages dropped on the way to a peer, by channel and reason.",
    ["To", "Channel", "Reason"],
    "1",
    (src, emit) => {
      for (const p of src.peers()) {
        for (const [c, r] of SEND_DROPS) {
          emit([p.metrics.peer, c, r], p.metrics.sendDrops[CH[c] * DROP_REASONS.length + DR[r]]);
        }
      }
    },
  ),
  per(
    "rafthttp_peer_received_dropped_messages_total",
    "counter",
    "Messages received from a peer and dropped, by channel and reason.",
    ["From", "Channel", "Reason"],
    "1",
    (src, emit) => {
      for (const p of src.peers()) {
        for (const [c, r] of RECEIVE_DROPS) {
          emit(
            [p.metrics.peer, c, r],
            p.metrics.receiveDrops[CH[c] * DROP_REASONS.length + DR[r]],
          );
        }
      }
    },
  ),
  per(
    "rafthttp_queue_depth",
    "gauge",
    "Messages waiting in each queue of a peer (send: message, msgappv2, pipeline; receive: received, proposals).",
    ["Remote", "Queue"],
    "1",
    (src, emit) => {
      for (const p of src.peers()) {
        const q = p.queued();
        emit([p.metrics.peer, "message"], q.message);
        emit([p.metrics.peer, "msgappv2"], q.msgappv2);
        emit([p.metrics.peer, "pipeline"], q.pipeline);
        emit([p.metrics.peer, "received"], q.received);
        emit([p.metrics.peer, "proposals"], q.proposals);
      }
    },
  ),
  per(
    "rafthttp_stream_connects_total",
    "counter",
    "Streams established with a peer, by stream type and direction (outgoing: the peer reads our writes; incoming: we read the peer's).",
    ["Remote", "Stream", "Direction"],
    "1",
    (src, emit) => {
      for (const p of src.peers()) {
        STREAMS.forEach((s, i) => {
          emit([p.metrics.peer, s, "outgoing"], p.metrics.streamConnects[i]);
          emit([p.metrics.peer, s, "incoming"], p.metrics.streamConnects[2 + i]);
        });
      }
    },
  ),
  per(
    "rafthttp_peer_channel_sent_bytes_total",
    "counter",
    "Bytes sent to a peer, by channel.",
    ["To", "Channel"],
    "By",
    (src, emit) => {
      for (const p of src.peers()) {
        CHANNELS.forEach((c, i) => emit([p.metrics.peer, c], p.metrics.sentBytes[i]));
      }
    },
  ),
  per(
    "rafthttp_peer_channel_received_bytes_total",
    "counter",
    "Bytes received from a peer, by channel.",
    ["From", "Channel"],
    "By",
    (src, emit) => {
      for (const p of src.peers()) {
        CHANNELS.forEach((c, i) => emit([p.metrics.peer, c], p.metrics.receivedBytes[i]));
      }
    },
  ),
  perPeer(
    "rafthttp_peer_probes_total",
    "counter",
    "Round-trip probes (GET /raft/probing) sent to a peer.",
    "To",
    "1",
    (p) => p.metrics.probesSent,
  ),
  perPeer(
    "rafthttp_peer_probe_failures_total",
    "counter",
    "Round-trip probes that got no valid answer.",
    "To",
    "1",
    (p) => p.metrics.probesFailed,
  ),
  perPeer(
    "rafthttp_snapshot_receive_bytes",
    "gauge",
    "Bytes received of the snapshots in flight from a peer (a continued transfer counts what was kept).",
    "From",
    "By",
    (p) => p.metrics.snapshotReceiveBytes,
  ),
  perPeer(
    "rafthttp_snapshot_receive_size_bytes",
    "gauge",
    "Declared data size of the snapshots in flight from a peer (0 for etcd's plain body).",
    "From",
    "By",
    (p) => p.metrics.snapshotReceiveTotalBytes,
  ),
  perPeer(
    "rafthttp_snapshot_receive_resumed_total",
    "counter",
    "Snapshot receives that continued a broken transfer where it stopped.",
    "From",
    "1",
    (p) => p.metrics.snapshotReceiveContinued,
  ),
  perPeer(
    "rafthttp_snapshot_digest_mismatches_total",
    "counter",
    "Snapshot receives that failed because data did not match its digest.",
    "From",
    "1",
    (p) => p.metrics.snapshotDigestMismatches,
  ),
  perPeer(
    "rafthttp_snapshot_send_retries_total",
    "counter",
    "Retries of broken snapshot sends.",
    "To",
    "1",
    (p) => p.metrics.snapshotSendRetries,
  ),
];

/** etcd's instruments followed by ours. */
export const INSTRUMENTS: readonly Instrument[] = [...ETCD, ...OURS];
