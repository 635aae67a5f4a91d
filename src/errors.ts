/**
 * Typed errors. Each names what went wrong and, where it helps, the byte
 * offset; errors that cross the HTTP boundary carry the status etcd uses.
 *
 * @module
 */

/**
 * Base class of every error this module throws or reports.
 *
 * @example
 * ```ts
 * import { RaftHttpError, decodeMessage } from "@rafthttp/rafthttp";
 * try {
 *   decodeMessage(new Uint8Array([0x08]));
 * } catch (e) {
 *   console.log(e instanceof RaftHttpError); // true
 * }
 * ```
 */
export class RaftHttpError extends Error {
  /** Creates the error; `options.cause` chains an underlying error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * A byte stream could not be decoded: garbage protobuf, an unknown frame
 * type, or a stream that ended inside a frame. `offset` is the position in
 * the stream (or buffer) where decoding failed.
 *
 * @example
 * ```ts
 * import { DecodeError, decodeMessage } from "@rafthttp/rafthttp";
 * try {
 *   decodeMessage(new Uint8Array([0x08]));
 * } catch (e) {
 *   if (e instanceof DecodeError) console.log(e.offset); // 1
 * }
 * ```
 */
export class DecodeError extends RaftHttpError {
  /** Byte offset, in the stream or buffer being decoded, where it failed. */
  readonly offset: number;
  /** Creates the error; the message gets the offset appended. */
  constructor(message: string, offset: number, options?: ErrorOptions) {
    super(`${message} (at byte ${offset})`, options);
    this.offset = offset;
  }
}

/**
 * A stream ended in the middle of a frame.
 *
 * @example
 * ```ts
 * import { TruncatedFrameError } from "@rafthttp/rafthttp";
 * const e = new TruncatedFrameError(8, 30, 12);
 * console.log(e.message);
 * ```
 */
export class TruncatedFrameError extends DecodeError {
  /** Bytes the frame needed, counted from its start. */
  readonly needed: number;
  /** Bytes of the frame that arrived before the end. */
  readonly received: number;
  /** Creates the error for a frame starting at `offset`. */
  constructor(offset: number, needed: number, received: number) {
    super(
      `stream ended inside a frame: the frame needs ${needed} bytes, ` +
        `${received} arrived; the peer closed the connection mid-write`,
      offset,
    );
    this.needed = needed;
    this.received = received;
  }
}

/**
 * A length prefix (or entry count) claims more than the configured limit.
 * Raised before anything of that size is allocated.
 *
 * @example
 * ```ts
 * import { FrameTooLargeError } from "@rafthttp/rafthttp";
 * const e = new FrameTooLargeError(0, 2 ** 40, 512 * 1024 * 1024);
 * console.log(e.limit);
 * ```
 */
export class FrameTooLargeError extends DecodeError {
  /** The size the frame claimed. */
  readonly size: number;
  /** The configured limit it exceeded. */
  readonly limit: number;
  /** Creates the error for a frame starting at `offset`. */
  constructor(offset: number, size: number, limit: number) {
    super(
      `frame of ${size} bytes exceeds the limit of ${limit} bytes; ` +
        `raise maxFrameSize (the transport's limits.maxFrameSize) if the peer really sends ` +
        `frames this large`,
      offset,
    );
    this.size = size;
    this.limit = limit;
  }
}

/**
 * A peer answered with a status that means it will not talk to us, or an
 * exchange with a peer failed. `status` is the HTTP status when there was
 * one.
 *
 * @example
 * ```ts
 * import { PeerRequestError } from "@rafthttp/rafthttp";
 * const e = new PeerRequestError("unexpected http status 500 from peer 2 on POST /raft", 500);
 * console.log(e.status); // 500
 * ```
 */
export class PeerRequestError extends RaftHttpError {
  /** The HTTP status the peer answered, if it answered. */
  readonly status?: number;
  /** Creates the error. */
  constructor(message: string, status?: number, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
  }
}

/**
 * The peer and this node run with different cluster ids (HTTP 412
 * `cluster ID mismatch`). Fatal for this peer until the configuration is
 * fixed.
 *
 * @example
 * ```ts
 * import { ClusterIdMismatchError } from "@rafthttp/rafthttp";
 * console.log(new ClusterIdMismatchError("peer 2 refused us").status); // 412
 * ```
 */
export class ClusterIdMismatchError extends PeerRequestError {
  /** Creates the error. */
  constructor(message: string) {
    super(message, 412);
  }
}

/**
 * The peer's version and ours are not compatible (HTTP 412 `incompatible
 * version`).
 *
 * @example
 * ```ts
 * import { IncompatibleVersionError } from "@rafthttp/rafthttp";
 * console.log(new IncompatibleVersionError("peer 2 is 2.3.0").status); // 412
 * ```
 */
export class IncompatibleVersionError extends PeerRequestError {
  /** Creates the error. */
  constructor(message: string) {
    super(message, 412);
  }
}

/**
 * This member has been removed from the cluster (HTTP 410 on a stream, 403
 * on a POST). etcd treats it as fatal: the member should stop. `peer` names
 * the member that refused it, so that an application can tell who has
 * applied the removal (a member removed by leaving a joint configuration
 * waits for every new voter to say so).
 *
 * @example
 * ```ts
 * import { MemberRemovedError } from "@rafthttp/rafthttp";
 * const e = new MemberRemovedError("peer 2 says we were removed", 410, { peer: 2n });
 * console.log(e.status, e.peer); // 410 2n
 * ```
 */
export class MemberRemovedError extends PeerRequestError {
  /** The peer that refused this member, when known. */
  readonly peer?: bigint;
  /** Creates the error; `options.peer` is the member that said so. */
  constructor(message: string, status?: number, options?: ErrorOptions & { peer?: bigint }) {
    super(message, status, options);
    this.peer = options?.peer;
  }
}

/**
 * An operation was cut short because the transport (or the peer) was
 * stopped.
 *
 * @example
 * ```ts
 * import { StoppedError } from "@rafthttp/rafthttp";
 * console.log(new StoppedError().message);
 * ```
 */
export class StoppedError extends RaftHttpError {
  /** Creates the error. */
  constructor(message = "rafthttp: the transport or peer was stopped") {
    super(message);
  }
}
