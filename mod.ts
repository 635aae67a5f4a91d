/**
 * rafthttp: the network layer of a Raft cluster, wire-compatible with etcd
 * 3.4+ peers, built on Web-standard APIs (fetch, Request/Response, streams).
 *
 * A Raft core hands its outgoing messages to the application; this module
 * delivers them to the other members over HTTP and feeds what arrives back
 * into the core:
 *
 * - {@link Transport} (etcd's `Transporter`): peers, `send`, `sendSnapshot`,
 *   and `handler()`, a `(Request) => Promise<Response>` for the peer port
 *   (everything under `/raft`, `GET /version`, `GET /members`, as an etcd
 *   member serves them); {@link serve} runs it on Deno (`node:http` /
 *   `node:https` by default, with etcd's client-certificate checks, or
 *   `Deno.serve`), {@link serveNode} on Node.js, {@link serveUnix} on a unix
 *   socket.
 * - `transport.metrics()`: etcd's rafthttp metrics in the Prometheus text
 *   format (`serve(transport, { metrics: true })` answers `GET /metrics`),
 *   and the same instruments on OpenTelemetry (`meterProvider`).
 * - {@link Raft}: what your raft node implements (`process`, `isIDRemoved`,
 *   `reportUnreachable`, `reportSnapshot`).
 * - The raftpb schemas and types (`MessageSchema`, `Message`, ...; use them
 *   with `create`, re-exported from `@bufbuild/protobuf` so that the bundle
 *   needs nothing else) and the byte-exact codecs etcd peers use on the wire.
 *
 * @example
 * ```ts
 * import { create } from "@rafthttp/rafthttp";
 * import { decodeMessage, encodeMessage, MessageSchema, MessageType } from "@rafthttp/rafthttp";
 *
 * const bytes = encodeMessage(create(MessageSchema, { type: MessageType.MsgHeartbeat, to: 2n, from: 1n }));
 * console.log(decodeMessage(bytes).to); // 2n
 * ```
 *
 * @module
 */

// raftpb: the etcd types and schemas, `create`, Logger and its loggers,
// SnapshotStatus, the protobuf base types: what every layer shares.
export * from "./raftpb/mod.ts";
export { decodeMessage, encodeMessage } from "./src/codec/protobuf.ts";
export {
  DEFAULT_MAX_FRAME_SIZE,
  encodeMessageFrame,
  type FrameDecoderOptions,
  MessageDecoderStream,
  MessageEncoderStream,
} from "./src/codec/message.ts";
export { MsgAppV2DecoderStream, MsgAppV2EncoderStream } from "./src/codec/msgappv2.ts";
export {
  ClusterIdMismatchError,
  DecodeError,
  FrameTooLargeError,
  IncompatibleVersionError,
  MemberRemovedError,
  PeerRequestError,
  RaftHttpError,
  StoppedError,
  TruncatedFrameError,
} from "./src/errors.ts";
export type { Raft } from "./src/raft_node.ts";
export { Transport, type Transporter } from "./src/transport.ts";
export {
  DEFAULT_DIAL_TIMEOUT_MS,
  DEFAULT_LINK_HEARTBEAT_INTERVAL_MS,
  DEFAULT_LOG_INTERVAL_MS,
  DEFAULT_MAX_CONCURRENT_SNAPSHOT_RECEIVES,
  DEFAULT_MAX_PIPELINE_BODY_SIZE,
  DEFAULT_MAX_REMOTES,
  DEFAULT_MAX_SNAPSHOT_ENVELOPE_SIZE,
  DEFAULT_PIPELINE_QUEUE_SIZE,
  DEFAULT_PIPELINE_TIMEOUT_MS,
  DEFAULT_PIPELINE_WORKERS,
  DEFAULT_PROBE_INTERVAL_MS,
  DEFAULT_RECEIVE_QUEUE_SIZE,
  DEFAULT_REDIAL_MAX_MS,
  DEFAULT_REDIAL_MIN_MS,
  DEFAULT_SNAPSHOT_PROGRESS_TIMEOUT_MS,
  DEFAULT_SNAPSHOT_RESPONSE_TIMEOUT_MS,
  DEFAULT_SNAPSHOT_SPOOL_SIZE,
  DEFAULT_STREAM_CHUNK_SIZE,
  DEFAULT_STREAM_QUEUE_SIZE,
  DEFAULT_STREAM_READ_TIMEOUT_HEARTBEATS,
  DEFAULT_STREAM_WRITE_TIMEOUT_MS,
  DEFAULT_TRANSPORT_MAX_FRAME_SIZE,
  type LimitsOptions,
  type PipelineOptions,
  type SecurityOptions,
  type SnapshotOptions,
  type StreamOptions,
  type TransportOptions,
} from "./src/options.ts";
export type { Peer, PeerStatusReport } from "./src/peer/peer.ts";
export { newPeerStats, type PeerStats } from "./src/peer/stats.ts";
export type { StreamType } from "./src/stream/types.ts";
export { SnapshotMessage } from "./src/snapshot/message.ts";
export type { SnapshotMessageOptions } from "./src/snapshot/message.ts";
export type { SnapshotProgress } from "./src/snapshot/progress.ts";
export type {
  ExtensionContext,
  ExtensionHooks,
  ExtensionRoute,
  SendProgress,
  SnapshotBody,
  SnapshotIntake,
  SnapshotReceive,
  SnapshotSend,
  SnapshotSendOutcome,
  TransportExtension,
} from "./src/extension/extension.ts";
export { defaultExtensions } from "./src/extensions/defaults.ts";
export {
  snapshotResume,
  type SnapshotResumeOptions,
} from "./src/extensions/snapshot_resume/mod.ts";
export type { SnapshotPartial, SnapshotPartials, SnapshotSink } from "./src/snapshot/sink.ts";
export { FileSnapshotSink, snapshotFileName } from "./src/snapshot/file_sink.ts";
export { serve, type ServeOptions } from "./src/edge/serve.ts";
export {
  type NodeServeOptions,
  type NodeServer,
  type NodeServerAddr,
  type PeerServer,
  type PeerServerAddr,
  serveNode,
} from "./src/edge/node_server.ts";
export type { TlsOptions } from "./src/edge/tls.ts";
export type { MeterProviderLike } from "./src/metrics/otel.ts";
export type { DialBody, Dialer, DialRequest, DialResponse } from "./src/http/dialer.ts";
export { fetchDialer } from "./src/http/fetch_dialer.ts";
export {
  type DialerTlsOptions,
  type NodeDialer,
  nodeDialer,
  type NodeDialerOptions,
} from "./src/edge/node_dialer.ts";
export {
  serveUnix,
  type ServeUnixOptions,
  type UnixFetch,
  unixFetch,
  type UnixFetchOptions,
} from "./src/edge/unix.ts";
export type { MemberInfo } from "./src/http/member_info.ts";
export type { RequestAuthOptions } from "./src/http/auth.ts";
