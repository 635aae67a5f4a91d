/**
 * Sends one snapshot: `POST /raft/snapshot` whose body is the MsgSnap as a
 * length-prefixed frame followed by the snapshot data, streamed (never held
 * in memory) with `duplex: "half"`. The only timeouts are on progress: the
 * transfer fails if no bytes move for a while, however long it takes as a
 * whole.
 *
 * @module
 */

import { progressMeter, type SnapshotMessage } from "./message.ts";
import type { Config } from "../options.ts";
import type { PeerContext } from "../peer/context.ts";
import { channelFailed, type FailureConfig } from "../peer/failure.ts";
import type { LocalIdentity } from "../http/headers.ts";
import { IdleDeadline } from "../util/idle_deadline.ts";
import { toError } from "../util/error_message.ts";
import { encodeMessageFrame } from "../codec/message.ts";
import { formatId, requestHeaders } from "../http/headers.ts";
import { SnapshotStatus } from "../../raftpb/snapshot_status.ts";
import { PeerRequestError, StoppedError } from "../errors.ts";
import { checkPostResponse } from "../http/responses.ts";
import { F } from "../logger.ts";
import { CH } from "../metrics/peer_metrics.ts";
import { plainBody } from "./plain_body.ts";
import type { SnapshotBody, SnapshotSend, SnapshotSendOutcome } from "../extension/extension.ts";

/** The options a snapshot send reads. */
export type SnapshotSenderConfig =
  & Pick<Config, "snapshotProgressTimeoutMs" | "snapshotResponseTimeoutMs" | "dialer" | "raft">
  & FailureConfig
  & LocalIdentity;

/**
 * The request body: the MsgSnap frame, then what `src` yields (etcd's plain
 * data, or an extension's body). `progress` is called whenever bytes
 * move.
 */
function snapshotBody(
  snap: SnapshotMessage,
  src: SnapshotBody,
  progress: (bytes: number) => void,
  finished: () => void,
): ReadableStream<Uint8Array<ArrayBuffer>> {
  let head: Uint8Array<ArrayBuffer> | undefined = encodeMessageFrame(snap.message);
  return new ReadableStream<Uint8Array<ArrayBuffer>>({
    async pull(controller) {
      if (head !== undefined) {
        controller.enqueue(head);
        progress(head.length);
        head = undefined;
        return;
      }
      const value = await src.next();
      if (value === undefined) {
        controller.close();
        finished();
        return;
      }
      controller.enqueue(value as Uint8Array<ArrayBuffer>);
      progress(value.length);
    },
    async cancel(reason) {
      await src.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/**
 * Sends `snap` (an extension may take the send over; else etcd's single
 * POST) and reports the outcome to raft and to `snap.done`.
 */
export async function sendSnapshot(
  snap: SnapshotMessage,
  ctx: PeerContext<SnapshotSenderConfig>,
  signal: AbortSignal,
): Promise<void> {
  const started = performance.now();
  ctx.metrics.snapshotSendInflight++;
  let outcome: SnapshotSendOutcome;
  const send = snapshotSend(snap, ctx, signal);
  try {
    outcome = await (ctx.extensions.sendSnapshot(send) ?? sendPlain(send));
  } catch (e) {
    // An extension that threw instead of resolving its error.
    outcome = { error: toError(e), url: ctx.picker.pick(), bytes: 0 };
  } finally {
    ctx.metrics.snapshotSendInflight--;
  }
  const { error, url, bytes } = outcome;
  if (error === undefined) {
    ctx.metrics.snapshotSendSuccess++;
    ctx.metrics.snapshotSendSeconds.observe((performance.now() - started) / 1000);
  } else if (!(error instanceof StoppedError)) ctx.metrics.snapshotSendFailures++;
  report(snap, ctx, url, bytes, error);
}

/** etcd's protocol: one POST of the data as it is. */
async function sendPlain(send: SnapshotSend): Promise<SnapshotSendOutcome> {
  const url = send.url();
  send.progress.attempt(0);
  const r = await send.post(url, send.plainBody(send.snapshot.body), {});
  send.progress.flush();
  return { ...r, url };
}

/** What a send (ours or an extension's) works with. */
function snapshotSend(
  snap: SnapshotMessage,
  ctx: PeerContext<SnapshotSenderConfig>,
  signal: AbortSignal,
): SnapshotSend {
  const progress = progressMeter(snap);
  return {
    snapshot: snap,
    to: ctx.peer,
    signal,
    progress,
    url: () => ctx.picker.pick(),
    post: (url, body, headers) => postSnapshot(snap, ctx, signal, url, body, headers),
    plainBody: (data) => plainBody(data, snap.totalSize, (n) => progress.add(n)),
    retrying(attempt, delayMs, error) {
      ctx.metrics.snapshotSendRetries++;
      ctx.log.event(`snapshot-retry:${ctx.peer}`, "warn", "snapshot send broke; retrying", {
        [F.remote]: formatId(ctx.peer),
        attempt,
        "retry-in-ms": delayMs,
        sent: progress.current.sent,
        [F.error]: error.message,
      });
    },
  };
}

/** One `POST /raft/snapshot`: the error if it failed, and the bytes it put on the wire. */
async function postSnapshot(
  snap: SnapshotMessage,
  ctx: PeerContext<SnapshotSenderConfig>,
  signal: AbortSignal,
  url: string,
  src: SnapshotBody,
  extraHeaders: Record<string, string>,
): Promise<{ error?: Error; bytes: number }> {
  const { cfg, peer } = ctx;
  const abort = new AbortController();
  const onStop = () => abort.abort(new StoppedError());
  signal.addEventListener("abort", onStop, { once: true });
  if (signal.aborted) onStop();
  const fail = (e: Error) => abort.abort(e);
  const deadline = new IdleDeadline(cfg.snapshotProgressTimeoutMs, uploadStalled, fail, ctx.clock);
  // Once everything is handed to the connection, we wait for the peer to
  // take the rest and answer: another phase, with its own limit.
  const awaitAnswer = () => deadline.reset(cfg.snapshotResponseTimeoutMs, noAnswer);
  let bytes = 0;
  const body = snapshotBody(snap, src, (n) => {
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
        ...extraHeaders,
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
    await src.cancel();
  }
  return { error, bytes };
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
