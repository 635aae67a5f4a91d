/**
 * Errors of the KV service, each mapped to an HTTP status by the API.
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

/**
 * The member is stopping (or was removed from the cluster) and takes no
 * more requests; send them to another member.
 *
 * @example
 * ```ts
 * import { NodeStoppedError } from "./errors.ts";
 * console.log(new NodeStoppedError().name); // NodeStoppedError
 * ```
 */
export class NodeStoppedError extends Error {
  /** Creates the error. */
  constructor(reason = "this member is stopping") {
    super(`${reason}; send the request to another member`);
    this.name = "NodeStoppedError";
  }
}
