/**
 * Typed errors of the Raft core. Each says what happened and what the
 * caller can do about it.
 *
 * @module
 */

/**
 * Base class of every error the Raft core throws.
 *
 * @example
 * ```ts
 * import { MemoryStorage, RaftError } from "@rafthttp/rafthttp/raft";
 * try {
 *   new MemoryStorage().term(5n);
 * } catch (e) {
 *   console.log(e instanceof RaftError); // true
 * }
 * ```
 */
export class RaftError extends Error {
  /** Creates the error; `options.cause` chains an underlying error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * The requested index is older than the storage's first index: it was
 * compacted away. Send a snapshot instead of entries.
 *
 * @example
 * ```ts
 * import { create, SnapshotSchema } from "@rafthttp/rafthttp";
 * import { CompactedError, MemoryStorage } from "@rafthttp/rafthttp/raft";
 * const s = new MemoryStorage();
 * s.applySnapshot(create(SnapshotSchema, { metadata: { index: 5n, term: 1n } }));
 * try {
 *   s.term(3n);
 * } catch (e) {
 *   console.log(e instanceof CompactedError); // true
 * }
 * ```
 */
export class CompactedError extends RaftError {
  /** `index` is the compacted index asked for. */
  constructor(readonly index: bigint) {
    super(`index ${index} is compacted; use a snapshot to catch up`);
  }
}

/**
 * The requested index is beyond the last index the storage holds.
 *
 * @example
 * ```ts
 * import { MemoryStorage, UnavailableError } from "@rafthttp/rafthttp/raft";
 * try {
 *   new MemoryStorage().term(3n);
 * } catch (e) {
 *   console.log(e instanceof UnavailableError); // true
 * }
 * ```
 */
export class UnavailableError extends RaftError {
  /** `index` is the index asked for. */
  constructor(readonly index: bigint) {
    super(`index ${index} is not yet in storage; wait for it to be appended`);
  }
}

/**
 * The storage cannot produce a snapshot right now; raft retries later.
 *
 * @example
 * ```ts
 * import { SnapshotTemporarilyUnavailableError } from "@rafthttp/rafthttp/raft";
 * console.log(new SnapshotTemporarilyUnavailableError().name); // SnapshotTemporarilyUnavailableError
 * ```
 */
export class SnapshotTemporarilyUnavailableError extends RaftError {
  /** Creates the error. */
  constructor() {
    super("snapshot is temporarily unavailable; raft will retry on a later tick");
  }
}

/**
 * A snapshot older than the one the storage already has was applied or
 * created.
 *
 * @example
 * ```ts
 * import { SnapshotOutOfDateError } from "@rafthttp/rafthttp/raft";
 * console.log(new SnapshotOutOfDateError(3n, 5n).message.includes("3")); // true
 * ```
 */
export class SnapshotOutOfDateError extends RaftError {
  /** `index` was requested while the storage is already at `current`. */
  constructor(readonly index: bigint, readonly current: bigint) {
    super(`snapshot at index ${index} is older than the current snapshot at ${current}; ignore it`);
  }
}

/**
 * A proposal was dropped: no leader is known, the leader is transferring
 * leadership, this node was removed, or a conf change is already pending.
 * Retry after a leader is elected.
 *
 * @example
 * ```ts
 * import { ProposalDroppedError } from "@rafthttp/rafthttp/raft";
 * console.log(new ProposalDroppedError("no leader").message); // raft proposal dropped: no leader; retry once a leader is known
 * ```
 */
export class ProposalDroppedError extends RaftError {
  /** `reason` says why it was dropped. */
  constructor(readonly reason: string) {
    super(`raft proposal dropped: ${reason}; retry once a leader is known`);
  }
}

/**
 * A message type that only the local node may generate (MsgHup, MsgBeat,
 * MsgUnreachable, MsgSnapStatus, MsgCheckQuorum) arrived through `step`
 * from the network. Use the RawNode method (`campaign`, `tick`,
 * `reportUnreachable`, `reportSnapshot`) instead.
 *
 * @example
 * ```ts
 * import { LocalMessageError } from "@rafthttp/rafthttp/raft";
 * console.log(new LocalMessageError(0).name); // LocalMessageError
 * ```
 */
export class LocalMessageError extends RaftError {
  /** `type` is the refused MessageType. */
  constructor(readonly type: number) {
    super(`message type ${type} is local-only and cannot be stepped from the network; drop it`);
  }
}

/**
 * A message from a peer this node does not track as a member was a
 * response raft cannot use; the message is dropped.
 *
 * @example
 * ```ts
 * import { UnknownPeerError } from "@rafthttp/rafthttp/raft";
 * console.log(new UnknownPeerError(9n).message.includes("9")); // true
 * ```
 */
export class UnknownPeerError extends RaftError {
  /** `id` is the unknown sender. */
  constructor(readonly id: bigint) {
    super(`response from unknown peer ${id}; it is not a member, drop the message`);
  }
}

/**
 * The RaftConfig is invalid (id 0, heartbeatTick >= electionTick, ...).
 * Fix the configuration.
 *
 * @example
 * ```ts
 * import { ConfigError } from "@rafthttp/rafthttp/raft";
 * console.log(new ConfigError("id must not be 0").message); // invalid raft config: id must not be 0
 * ```
 */
export class ConfigError extends RaftError {
  /** `detail` says which setting is wrong. */
  constructor(detail: string) {
    super(`invalid raft config: ${detail}`);
  }
}

/**
 * A membership change cannot be applied to the current configuration
 * (entering a joint configuration while joint, leaving one that is not,
 * removing every voter, more than one voter changed without joint
 * consensus, a ConfState whose sets overlap, ...). The configuration is
 * left as it was.
 *
 * @example
 * ```ts
 * import { ConfChangeError } from "@rafthttp/rafthttp/raft";
 * console.log(new ConfChangeError("removed all voters").message); // invalid conf change: removed all voters
 * ```
 */
export class ConfChangeError extends RaftError {
  /** `detail` says what is wrong with the change. */
  constructor(readonly detail: string) {
    super(`invalid conf change: ${detail}`);
  }
}
