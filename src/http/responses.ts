/**
 * How we read a peer's answers: etcd's `checkPostResponse` for POSTs, and
 * the meaning of its 412 bodies, which every channel shares.
 *
 * @module
 */

import type { Config } from "../options.ts";

/** The options reading an answer needs: who we are, to say so in errors. */
export type AnswerConfig = Pick<Config, "id" | "clusterId" | "serverVersion">;
import { formatId } from "./headers.ts";
import {
  ClusterIdMismatchError,
  IncompatibleVersionError,
  MemberRemovedError,
  PeerRequestError,
} from "../errors.ts";
import { readTextLimited } from "./body.ts";
import type { DialResponse } from "./dialer.ts";

/** At most `limit` bytes of an answer's body as text: a fetch Response or a dialer's. */
function answerText(res: Response | DialResponse, limit: number): Promise<string> {
  return res instanceof Response ? readTextLimited(res, limit) : res.body.text(limit);
}

/** The error a 412 answer to our `what` means, from its body (one trailing newline stripped). */
export function preconditionFailed(
  text: string,
  what: string,
  peer: bigint,
  cfg: AnswerConfig,
): Error {
  const p = formatId(peer);
  if (text === "cluster ID mismatch") {
    return new ClusterIdMismatchError(
      `peer ${p} refused our ${what}: cluster ID mismatch (ours is ${formatId(cfg.clusterId)}); ` +
        `check both members' cluster configuration`,
    );
  }
  if (text === "incompatible version") {
    return new IncompatibleVersionError(
      `peer ${p} refused our ${what}: incompatible version (ours is ${cfg.serverVersion})`,
    );
  }
  return new PeerRequestError(`peer ${p} answered 412 ${text} to our ${what}`, 412);
}

/**
 * etcd's `checkPostResponse`: 204 is success; 412 and 403 have meanings;
 * anything else (200 included) is an unexpected status.
 */
export async function checkPostResponse(
  res: Response | DialResponse,
  what: string,
  peer: bigint,
  cfg: AnswerConfig,
): Promise<Error | undefined> {
  const text = (await answerText(res, 1024)).replace(/\n$/, "");
  const p = formatId(peer);
  switch (res.status) {
    case 204:
      return undefined;
    case 412:
      return preconditionFailed(text, what, peer, cfg);
    case 403:
      return new MemberRemovedError(
        `peer ${p} says this member (${
          formatId(cfg.id)
        }) was removed from the cluster; stop this member`,
        403,
        { peer },
      );
    default:
      return new PeerRequestError(
        `unexpected http status ${res.status} ${text} from peer ${p} on our ${what}`,
        res.status,
      );
  }
}

/** True for the errors the application must hear about (etcd's ErrorC and misconfiguration). */
export function isCritical(e: unknown): boolean {
  return e instanceof MemberRemovedError || e instanceof ClusterIdMismatchError ||
    e instanceof IncompatibleVersionError;
}
