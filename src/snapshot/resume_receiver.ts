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
import {
  concat,
  FrameDecoder,
  SnapshotDigestError,
  type WindowPlan,
  windowStart,
  WindowVerifier,
} from "./framing.ts";
import {
  type ResumeAttempt,
  ResumeConflictError,
  type ResumeKey,
  type ResumeStore,
} from "./resume_store.ts";
import { HttpError } from "../http/http_error.ts";
import type { Message } from "../raftpb/raft_pb.ts";
import { keyOf, parseExtension } from "./resume.ts";
import { digestNamed } from "./digest.ts";

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
  const dec = new FrameDecoder(d.size, plan, partial);
  const ver = new WindowVerifier(d, plan.window, attempt?.digests ?? []);
  let prefix = attempt !== undefined && start > 0 ? attempt.read(0, start).getReader() : undefined;
  const reader = raw.getReader();
  let chain: Uint8Array | undefined;
  let chainChecked = false;
  let ended = false;
  let corrupt = false;
  let settled = false;
  let busy = Promise.resolve();
  let verified = start;
  let scratch = new Uint8Array(0);
  // Appends a verified window, less what the store already holds (the
  // resumed window's first bytes): one write at a time.
  const keep = (w: { start: number; parts: Uint8Array[]; length: number }) => {
    const skip = Math.max(0, plan.offset - w.start);
    if (attempt === undefined || skip >= w.length) return Promise.resolve();
    // One scratch buffer for every write: the previous write is done when the next one starts.
    const write = busy.then(() => {
      scratch = scratch.length >= w.length ? scratch : new Uint8Array(w.length);
      return attempt!.append(concat(w.parts, w.length, scratch).subarray(skip));
    });
    busy = write.catch(() => {});
    return write;
  };
  const onWindow = (parts: Uint8Array[], digest: Uint8Array) => ver.add(parts, digest);
  const onChain = (digest: Uint8Array) => chain = digest;
  /** The next verified window; a mismatch marks the transfer corrupt. */
  const next = async () => {
    try {
      const w = await ver.next();
      verified = w.start + w.length;
      return w;
    } catch (e) {
      if (e instanceof SnapshotDigestError) corrupt = true;
      throw e;
    }
  };

  const stream = new ReadableStream<Uint8Array>({
    async pull(c) {
      if (prefix !== undefined) {
        const { done, value } = await prefix.read();
        if (!done) return c.enqueue(value);
        prefix = undefined;
      }
      for (;;) {
        if (settled) throw new Error("the snapshot transfer ended");
        // Hand on a window once checked; read ahead while up to MAX_QUEUED are checked.
        if (ver.queued > 0 && (ver.headReady || ver.queued >= MAX_QUEUED || ended)) {
          const w = await next();
          await keep(w);
          for (const p of w.parts) c.enqueue(p);
          return;
        }
        if (ended) {
          dec.finish(); // throws: the body ended early
          if (!chainChecked) {
            chainChecked = true;
            try {
              await ver.chain(chain!);
            } catch (e) {
              corrupt = true;
              throw e;
            }
          }
          return c.close();
        }
        const { done, value } = await reader.read();
        if (done) ended = true;
        else {
          try {
            dec.push(value, onWindow, onChain);
          } catch (e) {
            if (e instanceof SnapshotDigestError) corrupt = true;
            throw e;
          }
          if (dec.done) ended = true;
        }
      }
    },
    async cancel(reason) {
      await prefix?.cancel(reason).catch(() => {});
      await reader.cancel(reason).catch(() => {});
    },
  }, { highWaterMark: 0 });

  return {
    stream,
    position: () => Math.max(verified, dec.windowStart + dec.pending.length),
    complete: () => chainChecked && !corrupt,
    corrupt: () => corrupt,
    async settle(ok) {
      if (settled) return;
      settled = true;
      await prefix?.cancel().catch(() => {});
      await busy;
      if (attempt === undefined) return;
      if (ok || corrupt) return attempt.discard();
      try {
        // What arrived whole is checked still; then the pending window is kept as it is.
        while (ver.queued > 0) await keep(await next());
        const pending = dec.pending.slice();
        await keep({ start: dec.windowStart, parts: [pending], length: pending.length });
      } catch {
        return attempt.discard(); // corrupt (or the store failed): nothing is kept
      }
      await attempt.release();
    },
  };
}

/** Windows checked at once (each held in memory until handed on). */
const MAX_QUEUED = 4;

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
  const d = enabled && store !== undefined ? await digestNamed(ext.params.digest) : undefined;
  if (d === undefined) {
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
