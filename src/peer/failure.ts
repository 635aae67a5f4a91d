/**
 * The one way an outbound channel (a stream dial, a pipeline POST, a
 * snapshot send) fails: the URL it used is marked unreachable so that the
 * next attempt tries another, the peer becomes inactive, and the failure is
 * reported: to the application when it needs it (this member was removed, a
 * cluster id or version mismatch: etcd's ErrorC), else as a rate-limited
 * warning.
 *
 * @module
 */

import type { Config } from "../options.ts";
import { F, type LogFields } from "../logger.ts";
import type { PeerContext } from "./context.ts";
import { isCritical } from "../http/responses.ts";

/** The options the failure path reads. */
export type FailureConfig = Pick<Config, "onError">;

/** One failed attempt on a channel. */
export interface ChannelFailure {
  /** The channel, for the log key and the inactive reason ("pipeline", "stream message", ...). */
  channel: string;
  /** The URL the attempt used. */
  url: string;
  /** What went wrong. */
  error: Error;
  /** The warning logged for a failure the application need not hear about. */
  warning: string;
  /** More fields for that warning. */
  fields?: LogFields;
}

/** Marks the URL and the peer down and reports `f`. */
export function channelFailed(ctx: PeerContext<FailureConfig>, f: ChannelFailure): void {
  ctx.picker.unreachable(f.url);
  ctx.status.deactivate(`${f.channel} failed: ${f.error.message}`);
  if (isCritical(f.error)) {
    ctx.log.event(`critical:${ctx.peer}`, "error", f.error.message, {
      [F.remote]: ctx.peerId,
      [F.error]: f.error.message,
    });
    ctx.cfg.onError(f.error);
    return;
  }
  ctx.log.event(`${f.channel}:${ctx.peer}`, "warn", f.warning, {
    [F.remote]: ctx.peerId,
    ...f.fields,
    [F.error]: f.error.message,
  });
}
