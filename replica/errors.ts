/**
 * The typed errors of the replica layer. Each says what happened to a
 * request, so that the caller knows whether to retry: {@link NoLeaderError}
 * (nothing was sent: safe to retry), {@link OutcomeUnknownError} (it may
 * still take effect: read back before retrying a non-idempotent command),
 * {@link ReplicaStoppedError}, {@link ProposalTooLargeError}, and
 * {@link StateMachineError}, which stops the replica.
 *
 * @module
 */

/**
 * Base class of the replica layer's errors.
 *
 * @example
 * ```ts
 * import { NoLeaderError, ReplicaError } from "@rafthttp/rafthttp/replica";
 * console.log(new NoLeaderError("no leader is known") instanceof ReplicaError); // true
 * ```
 */
export class ReplicaError extends Error {
  /** Creates the error; `name` is the subclass's name. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * Nothing was sent: raft dropped the request at once, for want of a leader
 * (none known, an election running, leadership being handed over). Safe to
 * retry, for instance after `replica.waitForLeader()`.
 *
 * @example
 * ```ts
 * import { NoLeaderError } from "@rafthttp/rafthttp/replica";
 * const e = new NoLeaderError("no leader is known");
 * console.log(e.reason); // no leader is known
 * ```
 */
export class NoLeaderError extends ReplicaError {
  /** Creates the error from raft's reason for the drop. */
  constructor(readonly reason: string) {
    super(`not proposed: ${reason}; nothing was sent, retry once there is a leader`);
  }
}

/**
 * The request was sent, then its timeout or signal came (or a leader change
 * or a new log lost track of it) before it was seen applied: it may still
 * take effect. Read back, or retry only what is idempotent.
 *
 * @example
 * ```ts
 * import { OutcomeUnknownError } from "@rafthttp/rafthttp/replica";
 * const e = new OutcomeUnknownError("the signal aborted", { cause: new Error("user") });
 * console.log(e.message); // outcome unknown: the signal aborted; it may still take effect
 * ```
 */
export class OutcomeUnknownError extends ReplicaError {
  /** Creates the error; `why` says what ended the wait. */
  constructor(why: string, options?: ErrorOptions) {
    super(`outcome unknown: ${why}; it may still take effect`, options);
  }
}

/**
 * The replica stopped (or was stopping) before the request was answered:
 * stopped by `stop()`, removed from the cluster, or halted by an error
 * (then in `cause`).
 *
 * @example
 * ```ts
 * import { ReplicaStoppedError } from "@rafthttp/rafthttp/replica";
 * console.log(new ReplicaStoppedError().message); // the replica is stopped
 * ```
 */
export class ReplicaStoppedError extends ReplicaError {
  /** Creates the error; `why` defaults to "the replica is stopped". */
  constructor(why = "the replica is stopped", options?: ErrorOptions) {
    super(why, options);
  }
}

/**
 * A command longer than the replica's `maxCommandBytes`; nothing was sent.
 *
 * @example
 * ```ts
 * import { ProposalTooLargeError } from "@rafthttp/rafthttp/replica";
 * const e = new ProposalTooLargeError(2_000_000, 1_048_576);
 * console.log(e.size, e.limit); // 2000000 1048576
 * ```
 */
export class ProposalTooLargeError extends ReplicaError {
  /** Creates the error from the command's size and the limit, bytes. */
  constructor(readonly size: number, readonly limit: number) {
    super(`a command of ${size} bytes is over the limit of ${limit} (maxCommandBytes)`);
  }
}

/**
 * The state machine threw while applying the entry at `index` (or an entry
 * could not be decoded): the replica stops rather than skip it, since every
 * replica must apply every entry. The state machine's error is the `cause`.
 *
 * @example
 * ```ts
 * import { StateMachineError } from "@rafthttp/rafthttp/replica";
 * const e = new StateMachineError(42n, new Error("disk full"));
 * console.log(e.message); // the state machine failed at entry 42: disk full; the replica stops
 * ```
 */
export class StateMachineError extends ReplicaError {
  /** Creates the error for the entry at `index`. */
  constructor(readonly index: bigint, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(`the state machine failed at entry ${index}: ${why}; the replica stops`, { cause });
  }
}
