/**
 * The KV's own error; the replica layer's (`NoLeaderError`,
 * `OutcomeUnknownError`, `ReplicaStoppedError`) reach the API as they are.
 * Each is mapped to an HTTP status there.
 *
 * @module
 */

/**
 * A request was not done in time: a write not applied here, a read whose
 * ReadIndex was not confirmed, a membership change not applied. The
 * operation may still take effect; the client may retry.
 *
 * @example
 * ```ts
 * import { RequestTimeoutError } from "./errors.ts";
 * console.log(new RequestTimeoutError("PUT /a", 5000).message);
 * ```
 */
export class RequestTimeoutError extends Error {
  /** `what` names the request, `ms` the time it was given. */
  constructor(what: string, ms: number) {
    super(
      `${what} was not done within ${ms} ms (no leader, or the cluster is busy); ` +
        "it may still take effect: retry, or read it back",
    );
    this.name = "RequestTimeoutError";
  }
}
