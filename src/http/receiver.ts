/**
 * What every receiver (the server half of a channel) is and gets: a
 * function from a request to a response, and the transport's state it
 * needs. The router calls receivers after authentication and the method
 * check; a receiver refuses by throwing an {@link HttpError}.
 *
 * @module
 */

import type { RateLimitedLog } from "../logger.ts";
import type { PeerStats } from "../peer/stats.ts";
import type { PeerMetrics } from "../metrics/peer_metrics.ts";
import type { StreamType } from "../stream/types.ts";
import type { Admission } from "./admission.ts";
import type { MemberInfo } from "./member_info.ts";
import type { ExtensionHost } from "../extension/host.ts";

/** The server half of a channel. */
export type Receiver = (req: Request, path: string) => Promise<Response> | Response;

/** What a receiver needs of a peer. */
export interface ReceivingPeer {
  /** The peer's counters (what we receive from it is counted there). */
  readonly stats: PeerStats;
  /** The rest of its metric counters (snapshot receives, bytes per channel). */
  readonly metrics: PeerMetrics;
  /** Attaches a stream the peer opened to us; returns the body to answer with. */
  attachOutgoingConn(type: StreamType): ReadableStream<Uint8Array>;
}

/** The transport's state, as receivers see it. */
export interface ReceiverContext {
  /** The admission checks. */
  readonly admission: Admission;
  /** The transport's rate-limited log. */
  readonly log: RateLimitedLog;
  /** The peer with this id, if it is one. */
  peer(id: bigint): ReceivingPeer | undefined;
  /** The member list `GET /members` answers. */
  members(): readonly MemberInfo[];
  /** Aborts when the transport stops. */
  readonly signal: AbortSignal;
  /** The transport's started extensions (their routes, snapshot receives, stream answers). */
  readonly extensions: ExtensionHost;
}
