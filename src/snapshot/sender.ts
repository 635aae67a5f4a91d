/**
 * Sends one snapshot: `POST /raft/snapshot` whose body is the MsgSnap as a
 * length-prefixed frame followed by the snapshot data, streamed (never held
 * in memory) with `duplex: "half"`. The only timeouts are on progress: the
 * transfer fails if no bytes move for a while, however long it takes as a
 * whole.
 *
 * @module
 */

import type { SnapshotMessage } from "./message.ts";
import type { Config } from "../options.ts";
import type { PeerContext } from "../peer/context.ts";
import { channelFailed, type FailureConfig } from "../peer/failure.ts";
import type { LocalIdentity } from "../http/headers.ts";
import { IdleDeadline } from "../util/idle_deadline.ts";
import { toError } from "../util/error_message.ts";
import { encodeMessageFrame } from "../codec/message.ts";
import { formatId, requestHeaders } from "../http/headers.ts";
import { SnapshotStatus } from "../raft.ts";
import { PeerRequestError, StoppedError } from "../errors.ts";
import { checkPostResponse } from "../http/responses.ts";
import { F } from "../logger.ts";
import { CH } from "../metrics/peer_metrics.ts";

/** The options a snapshot send reads. */
export type SnapshotSenderConfig =
  & Pick<Config, "snapshotProgressTimeoutMs" | "snapshotResponseTimeoutMs" | "dialer" | "raft">
  & FailureConfig
  & LocalIdentity;

/**
 * The request body: the MsgSnap frame, then exactly `totalSize` bytes of
 * data. `progress` is called whenever bytes move.
 */
function snapshotBody(
  snap: SnapshotMessage,
  progress: (bytes: number) => void,
  finished: () => void,
): [ReadableStream<Uint8Array<ArrayBuffer>>, () => Promise<void>] {
  const reader = snap.body.getReader();
  const release = () => reader.cancel().catch(() => {});
  let sent = 0;
  let head: Uint8Array<ArrayBuffer> | undefined = encodeMessageFrame(snap.message);
  const stream = new ReadableStream<Uint8Array<ArrayBuffer>>({
    async pull(controller) {
      if (head !== undefined) {
        controller.enqueue(head);
        progress(head.length);
        head = undefined;
        return;
      }
      const { done, value } = await reader.read();
      if (done) {
        if (sent !== snap.totalSize) {
          throw new PeerRequestError(
            `snapshot body ended after ${sent} bytes but ${snap.totalSize} were declared`,
          );
        }
        controller.close();
        finished();
        return;
      }
      sent += value.length;
      if (sent > snap.totalSize) {
        throw new PeerRequestError(
          `snapshot body is longer than the ${snap.totalSize} bytes declared`,
        );
      }
      controller.enqueue(value as Uint8Array<ArrayBuffer>);
      progress(value.length);
    },
    async cancel(reason) {
      await reader.cancel(reason).catch(() => {});
    },
  }, { highWaterMark: 0 });
  return [stream, release];
}

/** Sends `snap` and reports the outcome to raft and to `snap.done`. */
export async function sendSnapshot(
  snap: SnapshotMessage,
  ctx: PeerContext<SnapshotSenderConfig>,
  signal: AbortSignal,
): Promise<void> {
  const { cfg, peer } = ctx;
  const url = ctx.picker.pick();
  const started = performance.now();
  ctx.metrics.snapshotSendInflight++;
  const abort = new AbortController();
  const onStop = () => abort.abort(new StoppedError());
  signal.addEventListener("abort", onStop, { once: true });
  if (signal.aborted) onStop();
  const fail = (e: Error) => abort.abort(e);
  const deadline = new IdleDeadline(cfg.snapshotProgressTimeoutMs, uploadStalled, fail);
  // Once everything is handed to the connection, we wait for the peer to
  // take the rest and answer: another phase, with its own limit.
  const awaitAnswer = () => deadline.reset(cfg.snapshotResponseTimeoutMs, noAnswer);
  let bytes = 0;
  const [body, release] = snapshotBody(snap, (n) => {
    deadline.touch();
    bytes += n;
    ctx.stats.sentBytes += n; // as they go, so that rates show a snapshot in progress
    ctx.metrics.sentBytes[CH.snapshot] += n;
  }, awaitAnswer);
  let error: Error | undefined;
  try {
    const target = `${url}/raft/snapshot`;
    const res = await cfg.dialer.dial({
      method: "POST",
      url: target,
      headers: await requestHeaders(cfg, "POST", target, {
        "Content-Type": "application/octet-stream",
      }),
      body,
      signal: abort.signal,
    });
    awaitAnswer();
    error = await checkPostResponse(res, "POST /raft/snapshot", peer, cfg);
  } catch (e) {
    error = toError(abort.signal.aborted ? abort.signal.reason : e);
    if (!(error instanceof StoppedError)) {
      error = new PeerRequestError(
        `sending a snapshot to peer ${
          formatId(peer)
        } at ${url} failed after ${bytes} bytes: ${error.message}`,
        undefined,
        { cause: e },
      );
    }
  } finally {
    deadline.cleanup();
    signal.removeEventListener("abort", onStop);
    await release();
    ctx.metrics.snapshotSendInflight--;
  }
  if (error === undefined) {
    ctx.metrics.snapshotSendSuccess++;
    ctx.metrics.snapshotSendSeconds.observe((performance.now() - started) / 1000);
  } else if (!(error instanceof StoppedError)) ctx.metrics.snapshotSendFailures++;
  report(snap, ctx, url, bytes, error);
}

const uploadStalled = (idle: number, limit: number) =>
  new PeerRequestError(`no snapshot bytes moved for ${idle} ms (progress timeout ${limit} ms)`);

const noAnswer = (idle: number, limit: number) =>
  new PeerRequestError(
    `no answer ${idle} ms after the whole snapshot was handed to the connection (timeout ${limit} ms)`,
  );

/** Tells raft, `snap.done` and the log how the send ended. */
function report(
  snap: SnapshotMessage,
  ctx: PeerContext<SnapshotSenderConfig>,
  url: string,
  bytes: number,
  error: Error | undefined,
): void {
  const { cfg, peer } = ctx;
  const index = String(snap.message.snapshot?.metadata?.index ?? 0n);
  if (error === undefined) {
    ctx.status.activate();
    ctx.stats.sentMessages++;
    ctx.stats.sentOn.pipeline++;
    cfg.raft.reportSnapshot(peer, SnapshotStatus.Finish);
    ctx.log.event(`snapshot:${peer}`, "info", "sent a snapshot", {
      [F.remote]: ctx.peerId,
      "snapshot-index": index,
      bytes,
    });
    snap.close(true);
    return;
  }
  cfg.raft.reportUnreachable(peer);
  cfg.raft.reportSnapshot(peer, SnapshotStatus.Failure);
  snap.close(false);
  channelFailed(ctx, {
    channel: "snapshot",
    url,
    error,
    warning: "failed to send a snapshot",
    fields: { "snapshot-index": index },
  });
}
