/**
 * The receiving side of the extension: turns the framed body of an extended
 * `POST /raft/snapshot` back into the snapshot data for the sink, the kept
 * part of an earlier attempt first, then each window once its digest
 * matched. What arrives is kept in the resume store as it goes; how the
 * transfer ends decides whether it stays (a break) or goes (stored, or
 * corrupt).
 *
 * @module
 */

import type { Digest } from "./digest.ts";
import { FrameDecoder, SnapshotDigestError, type WindowPlan, windowStart } from "./framing.ts";
import {
  type ResumeAttempt,
  ResumeConflictError,
  type ResumeKey,
  type ResumeStore,
} from "./resume_store.ts";
import { HttpError } from "../http/http_error.ts";
import type { Message } from "../raftpb/raft_pb.ts";
import { keyOf, parseExtension } from "./resume.ts";
import { loadDigest } from "./digest.ts";

/** The data of an extended transfer, as the sink reads it. */
export interface FramedData {
  /** The whole snapshot data (kept prefix, then verified windows). */
  readonly stream: ReadableStream<Uint8Array>;
  /** Data bytes the receiver holds of the transfer (kept + verified + pending). */
  position(): number;
  /** True once the final digest matched. */
  complete(): boolean;
  /** True if a digest did not match. */
  corrupt(): boolean;
  /** Ends the attempt: stored (`ok`) or corrupt drop what was kept; a break keeps it. */
  settle(ok: boolean): Promise<void>;
}

/**
 * Starts an attempt of `plan` reading the framed `raw`; 409 if the offset is
 * not what the store holds (the sender asks again and resumes from there).
 */
export async function framedData(
  raw: ReadableStream<Uint8Array>,
  plan: WindowPlan,
  key: ResumeKey,
  d: Digest,
  store: ResumeStore,
): Promise<FramedData> {
  let attempt: ResumeAttempt | undefined;
  try {
    attempt = await store.begin(key, plan.offset);
  } catch (e) {
    if (!(e instanceof ResumeConflictError)) throw e;
    throw new HttpError(409, `cannot resume the snapshot at ${plan.offset}: ${e.message}`);
  }
  const start = windowStart(plan);
  const partial = attempt === undefined || plan.offset === 0
    ? new Uint8Array(0)
    : await attempt.readAll(start, plan.offset);
  const dec = new FrameDecoder(d, plan, attempt?.digests ?? [], partial);
  let prefix = attempt !== undefined && start > 0 ? attempt.read(0, start).getReader() : undefined;
  const reader = raw.getReader();
  const ready: Uint8Array[] = [];
  let corrupt = false;
  let settled = false;
  let busy = Promise.resolve();
  // Appends the window at `winPos`, less what the store already holds (the
  // resumed window's first bytes).
  let winPos = start;
  const keep = (w: Uint8Array) => {
    const skip = Math.max(0, plan.offset - winPos);
    winPos += w.length;
    return skip >= w.length
      ? Promise.resolve()
      : attempt?.append(w.subarray(skip)) ?? Promise.resolve();
  };

  const stream = new ReadableStream<Uint8Array>({
    async pull(c) {
      if (prefix !== undefined) {
        const { done, value } = await prefix.read();
        if (!done) return c.enqueue(value);
        prefix = undefined;
      }
      while (ready.length === 0) {
        if (dec.done) {
          dec.finish();
          return c.close();
        }
        const { done, value } = await reader.read();
        if (settled) throw new Error("the snapshot transfer ended");
        if (done) {
          dec.finish(); // throws: the body ended early
          return c.close();
        }
        try {
          dec.push(value, (w) => ready.push(w));
        } catch (e) {
          if (e instanceof SnapshotDigestError) corrupt = true;
          throw e;
        }
      }
      const w = ready.shift()!;
      // Kept before it is handed on: one window's write at a time, so memory stays bounded.
      const write = busy.then(() => keep(w));
      busy = write;
      await write;
      c.enqueue(w);
    },
    async cancel(reason) {
      await prefix?.cancel(reason).catch(() => {});
      await reader.cancel(reason).catch(() => {});
    },
  }, { highWaterMark: 0 });

  return {
    stream,
    position: () => dec.position,
    complete: () => dec.done,
    corrupt: () => corrupt,
    async settle(ok) {
      if (settled) return;
      settled = true;
      await busy.catch(() => {});
      await prefix?.cancel().catch(() => {});
      if (attempt === undefined) return;
      if (ok || corrupt) return attempt.discard();
      try {
        for (const w of ready.splice(0)) await keep(w);
        await keep(dec.pending.slice());
      } finally {
        await attempt.release();
      }
    },
  };
}

/** A snapshot body as `receiver.ts` drains it. */
export interface RawData {
  stream: ReadableStream<Uint8Array>;
  complete(): boolean;
  bytes(): number;
}

/** An extended receive: the data for the sink and how the attempt ends. */
export interface ExtendedReceive {
  /** What the sink reads. */
  data: RawData;
  /** Where the attempt started. */
  offset: number;
  /** Data bytes in all. */
  size: number;
  /** True if a digest did not match. */
  corrupt(): boolean;
  /** See {@link FramedData.settle}. */
  settle(ok: boolean): Promise<void>;
}

/**
 * The hook of `POST /raft/snapshot`: undefined for etcd's plain body (no
 * `X-Rafthttp-Snapshot-*` headers), else the verified data of the framed
 * one. Throws {@link HttpError} (400 malformed or not negotiable, 409 wrong
 * offset); `raw` is then left to the caller to cancel.
 */
export async function extendReceive(
  headers: Headers,
  message: Message,
  raw: RawData,
  store: ResumeStore | undefined,
  enabled: boolean,
): Promise<ExtendedReceive | undefined> {
  const ext = parseExtension(headers, message);
  if (ext === undefined) return undefined;
  const d = enabled && store !== undefined ? await loadDigest() : undefined;
  if (d === undefined || ext.params.digest !== d.name) {
    throw new HttpError(
      400,
      `snapshot extension with digest "${ext.params.digest}" not supported here`,
    );
  }
  const plan = { size: ext.params.size, window: ext.params.window, offset: ext.offset };
  const f = await framedData(raw.stream, plan, keyOf(message.from, ext.params), d, store!);
  return {
    data: { stream: f.stream, complete: f.complete, bytes: raw.bytes },
    offset: ext.offset,
    size: ext.params.size,
    corrupt: f.corrupt,
    settle: f.settle,
  };
}
