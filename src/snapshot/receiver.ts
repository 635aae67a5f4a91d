/**
 * The receiving half of snapshots: `POST /raft/snapshot`. The MsgSnap at
 * the head of the body is checked, the data behind it is drained into a
 * bounded spool and handed to the snapshot sink, and only once the sink has
 * stored all of it does raft get the MsgSnap; then 204.
 *
 * @module
 */

import type { Message } from "../../raftpb/raft_pb.ts";
import { MessageType } from "../../raftpb/raft_pb.ts";
import type { Config } from "../options.ts";
import type { Receiver, ReceiverContext } from "../http/receiver.ts";
import { HttpError } from "../http/http_error.ts";
import { readSnapshotEnvelope } from "../codec/envelope.ts";
import { errorMessage } from "../util/error_message.ts";
import { spool } from "./spool.ts";
import { type BodySource, bodySource } from "../http/body_source.ts";
import { formatId } from "../http/headers.ts";
import { F } from "../logger.ts";
import { CH } from "../metrics/peer_metrics.ts";
import { isLocalOnly, refuseLocalOnly } from "../http/local_only.ts";
import type { PeerMetrics } from "../metrics/peer_metrics.ts";
import type { SnapshotIntake } from "../extension/extension.ts";

/** The options the snapshot receiver reads. */
export type SnapshotReceiverConfig = Pick<
  Config,
  | "maxConcurrentSnapshotReceives"
  | "maxSnapshotEnvelopeSize"
  | "snapshotSpoolSize"
  | "snapshotProgressTimeoutMs"
  | "snapshotSink"
  | "raft"
>;

/** Builds the `POST /raft/snapshot` receiver. */
export function snapshotReceiver(ctx: ReceiverContext, cfg: SnapshotReceiverConfig): Receiver {
  let inFlight = 0;
  return async (req) => {
    ctx.admission.admitPost(req);
    if (req.body === null) throw new HttpError(400, "failed to decode raft message (empty body)");
    if (inFlight >= cfg.maxConcurrentSnapshotReceives) {
      throw new HttpError(
        503,
        `too many snapshots in flight (limit ${cfg.maxConcurrentSnapshotReceives}); retry later`,
      );
    }
    // Taken after the refusals above, so that the router can still cancel the body.
    const body = bodySource(req) as BodySource;
    const started = performance.now();
    inFlight++;
    try {
      const { message, data: raw } = await admitSnapshot(req, body, ctx, cfg);
      // From here the sender is known: its snapshot receive counters move.
      const metrics = ctx.peer(message.from)?.metrics;
      if (metrics !== undefined) metrics.snapshotReceiveInflight++;
      // An extension's receive, or undefined for etcd's plain body.
      let ext: SnapshotIntake | undefined;
      const gauge = { bytes: 0, total: 0 };
      try {
        ext = await takeReceive(req, message, raw, ctx);
        const data = ext === undefined
          ? raw
          : { stream: ext.data, complete: ext.complete, bytes: raw.bytes };
        if (metrics !== undefined) trackReceive(metrics, raw, ext, gauge);
        try {
          await save(message, data, ctx, cfg, ext?.save?.bind(ext));
        } catch (e) {
          if (ext?.corrupt()) {
            if (metrics !== undefined) metrics.snapshotDigestMismatches++;
            throw new HttpError(400, "snapshot data does not match its digest; nothing was kept");
          }
          throw e;
        } finally {
          await ext?.settle(!ext.corrupt() && data.complete());
        }
        // Its own key: a success must not count toward the summary of failures.
        ctx.log.event(`snapshot-recv-ok:${message.from}`, "info", "received a snapshot", {
          [F.remote]: formatId(message.from),
          "snapshot-index": String(message.snapshot?.metadata?.index ?? 0n),
          bytes: data.bytes(),
        });
        await ctx.admission.process(message, ctx.signal, "failed to process raft message (%s)");
      } catch (e) {
        if (metrics !== undefined) metrics.snapshotReceiveFailures++;
        throw e;
      } finally {
        if (metrics !== undefined) {
          metrics.snapshotReceiveInflight--;
          metrics.snapshotReceiveBytes -= gauge.bytes + (ext?.offset ?? 0);
          metrics.snapshotReceiveTotalBytes -= gauge.total;
          gauge.bytes = -Infinity; // the counting closure stops adding
        }
      }
      if (metrics !== undefined) {
        metrics.snapshotReceiveSuccess++;
        metrics.snapshotReceiveSeconds.observe((performance.now() - started) / 1000);
      }
      return new Response(null, { status: 204 });
    } finally {
      inFlight--;
    }
  };
}

/**
 * An extension's take-over of the receive, if one takes it. A body with our
 * own headers (`X-Rafthttp-*`, an extension's) that none took is not etcd's:
 * refused rather than stored.
 */
async function takeReceive(
  req: Request,
  message: Message,
  raw: SnapshotData,
  ctx: ReceiverContext,
): Promise<SnapshotIntake | undefined> {
  try {
    const ext = await ctx.extensions.receiveSnapshot({ request: req, message, body: raw.stream });
    if (ext === undefined && [...req.headers.keys()].some((h) => h.startsWith("x-rafthttp-"))) {
      throw new HttpError(400, "snapshot extension not supported here");
    }
    return ext;
  } catch (e) {
    await raw.stream.cancel().catch(() => {});
    throw e;
  }
}

/** The in-flight gauges of a receive (an extension's announces its size and what was kept). */
function trackReceive(
  m: PeerMetrics,
  raw: SnapshotData,
  ext: SnapshotIntake | undefined,
  gauge: { bytes: number; total: number },
): void {
  if (ext !== undefined) {
    if (ext.offset > 0) m.snapshotReceiveContinued++;
    m.snapshotReceiveBytes += ext.offset;
    m.snapshotReceiveTotalBytes += ext.size;
    gauge.total = ext.size;
  }
  raw.onBytes = (n) => {
    if (gauge.bytes === -Infinity) return;
    gauge.bytes += n;
    m.snapshotReceiveBytes += n;
  };
}

/** The snapshot data behind an admitted MsgSnap, as it drains into the spool. */
interface SnapshotData {
  stream: ReadableStream<Uint8Array>;
  complete(): boolean;
  bytes(): number;
  /** Also told of every chunk, once set. */
  onBytes?: (n: number) => void;
}

/**
 * Reads and checks the MsgSnap; on success the body is spooling into the
 * returned data stream, on failure it is cancelled.
 */
async function admitSnapshot(
  req: Request,
  reader: BodySource,
  ctx: ReceiverContext,
  cfg: SnapshotReceiverConfig,
): Promise<{ message: Message; data: SnapshotData }> {
  let message: Message;
  let rest: Uint8Array;
  let size: number;
  try {
    try {
      ({ message, rest, size } = await readSnapshotEnvelope(reader, cfg.maxSnapshotEnvelopeSize));
    } catch (e) {
      throw new HttpError(400, `failed to decode raft message (${errorMessage(e)})`);
    }
    if (message.type !== MessageType.MsgSnap) {
      if (isLocalOnly(message.type)) refuseLocalOnly(ctx, req, message, "POST /raft/snapshot");
      throw new HttpError(400, "wrong raft message type");
    }
    ctx.admission.checkSender(req, message);
  } catch (e) {
    await reader.cancel().catch(() => {});
    throw e;
  }
  // Counted as they arrive, so that rates show a snapshot in progress.
  const p = ctx.peer(message.from);
  const data: SnapshotData = {
    stream: undefined as unknown as ReadableStream<Uint8Array>,
    complete: () => false,
    bytes: () => bytes,
  };
  let bytes = 0;
  const count = (n: number) => {
    bytes += n;
    data.onBytes?.(n);
    if (p !== undefined) {
      p.stats.receivedBytes += n;
      p.metrics.receivedBytes[CH.snapshot] += n;
    }
  };
  // The envelope counts as received (as etcd does), not as snapshot data.
  if (p !== undefined) {
    p.stats.receivedBytes += size;
    p.metrics.receivedBytes[CH.snapshot] += size;
  }
  const spooled = spool(reader, {
    limit: cfg.snapshotSpoolSize,
    progressTimeoutMs: cfg.snapshotProgressTimeoutMs,
    onBytes: count,
  });
  // The bytes that came in the envelope's last chunk go first.
  if (rest.length > 0) count(rest.length);
  const stream = rest.length === 0 ? spooled.stream : prepend(rest, spooled.stream);
  data.stream = stream;
  data.complete = spooled.complete;
  return { message, data };
}

/** Hands the data to the sink; 500 (nothing kept) if it or the sender fails. */
async function save(
  m: Message,
  data: SnapshotData,
  ctx: ReceiverContext,
  cfg: SnapshotReceiverConfig,
  into?: (signal: AbortSignal) => Promise<void>,
): Promise<void> {
  try {
    // If the sender goes away, the data stream errors; the signal covers our own stop.
    // `into`: an extension stores the data itself (into the sink's partial, say).
    await (into?.(ctx.signal) ?? cfg.snapshotSink.save(m, data.stream, ctx.signal));
    if (!data.complete()) throw new Error("the snapshot sink returned before reading all the data");
  } catch (e) {
    await data.stream.cancel().catch(() => {});
    ctx.log.event(
      `snapshot-recv-fail:${m.from}`,
      "warn",
      // An extension that took the receive decides what is kept for a retry.
      into === undefined
        ? "failed to receive a snapshot; the sink discarded its partial data"
        : "failed to receive a snapshot; the extension that took it may keep what it verified for a retry",
      {
        [F.remote]: formatId(m.from),
        "snapshot-index": String(m.snapshot?.metadata?.index ?? 0n),
        bytes: data.bytes(),
        [F.error]: errorMessage(e),
      },
    );
    throw new HttpError(500, `failed to save KV snapshot (${errorMessage(e)})`);
  }
  const st = ctx.peer(m.from)?.stats;
  if (st !== undefined) {
    st.receivedMessages++;
    st.receivedOn.pipeline++;
  }
}

/** `first`, then everything `rest` yields. */
function prepend(first: Uint8Array, rest: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = rest.getReader();
  let sentFirst = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!sentFirst) {
        sentFirst = true;
        controller.enqueue(first);
        return;
      }
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}
