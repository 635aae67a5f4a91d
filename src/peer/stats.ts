/**
 * Per-peer counters, exposed in the peer status.
 *
 * @module
 */

/** Message and byte counters of one peer (all monotonic). */
export interface PeerStats {
  /** Messages written to this peer, on any channel. */
  sentMessages: number;
  /** Of those, messages written on the message stream, the msgappv2 stream and the pipeline. */
  sentOn: { message: number; msgappv2: number; pipeline: number };
  /** Bytes written to this peer: stream chunks and POST bodies. */
  sentBytes: number;
  /** Stream writes: chunks handed to the HTTP layer (many messages each under load). */
  sentChunks: number;
  /** Messages dropped on the way out (full queue, failed write or POST). */
  sendDrops: number;
  /** Messages received from this peer and queued or processed. */
  receivedMessages: number;
  /** Of those, messages received on each channel (snapshot POSTs count as pipeline). */
  receivedOn: { message: number; msgappv2: number; pipeline: number };
  /** Bytes received from this peer on streams and POSTs. */
  receivedBytes: number;
  /** Stream reads: chunks the HTTP layer handed us. */
  receivedChunks: number;
  /** Messages received but dropped because a receive queue was full. */
  receiveDrops: number;
  /**
   * Messages of a local-only type (MsgHup, MsgBeat, MsgUnreachable,
   * MsgSnapStatus, MsgCheckQuorum, etcd 3.6's storage messages) that this
   * peer sent us, refused on any channel and never given to `Raft.process`.
   */
  refusedLocal: number;
}

/**
 * A fresh set of zero counters, e.g. the baseline for rates computed from
 * `peerStatus(id).stats`.
 *
 * @example
 * ```ts
 * import { newPeerStats } from "@rafthttp/rafthttp";
 * const before = newPeerStats();
 * console.log(before.sentMessages, before.sentOn.msgappv2); // 0 0
 * ```
 */
export function newPeerStats(): PeerStats {
  return {
    sentMessages: 0,
    sentOn: { message: 0, msgappv2: 0, pipeline: 0 },
    sentBytes: 0,
    sentChunks: 0,
    sendDrops: 0,
    receivedMessages: 0,
    receivedOn: { message: 0, msgappv2: 0, pipeline: 0 },
    receivedBytes: 0,
    receivedChunks: 0,
    receiveDrops: 0,
    refusedLocal: 0,
  };
}
