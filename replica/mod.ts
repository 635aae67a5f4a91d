/**
 * The replica layer: the parts that make a running member out of the Raft
 * core, durable storage and the transport, taken out of the KV service so
 * that other services can share them. {@link RaftLoop} runs the RawNode's
 * actions and Ready handling in order; {@link bootstrapIfNew} writes a new
 * cluster's first log as etcd does; {@link Members} keeps who is in the
 * cluster on disk; {@link compactIndexFor} says where to cut the log after
 * a snapshot; {@link sendMessages} and {@link SnapshotInbox} carry large
 * snapshots through the transport's streamed snapshot channel.
 *
 * This is the layer's first form: a replicated state machine API
 * (`startReplica`: propose, read, membership) is built on these parts next.
 *
 * @example
 * ```ts
 * import { compactIndexFor } from "@rafthttp/rafthttp/replica";
 *
 * console.log(compactIndexFor(10_000n, 5_000, 1n)); // 5000n
 * ```
 *
 * @module
 */

export { bootstrapIfNew, isEmpty } from "./bootstrap.ts";
export { RaftLoop, type ReadyHandler } from "./loop.ts";
export { Members } from "./members.ts";
export { compactIndexFor } from "./snapshot_policy.ts";
export { sendMessages, SnapshotInbox } from "./snapshot_transfer.ts";
