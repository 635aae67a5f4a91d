/**
 * The receiving side of the extension: turns the framed body of an extended
 * `POST /raft/snapshot` back into the snapshot data for the sink, the kept
 * part of an earlier attempt first, then each window once its digest
 * matched. What arrives is kept in the resume store as it goes; how the
 * transfer ends decides whether it stays (a break) or goes (stored, or
 * corrupt). Where the store writes into the sink's own partial snapshot
 * (`SnapshotSink.partial`), that write is the only one: the sink's `save` is
 * not called, and the partial is committed once the final digest matched.
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
import { HttpError } from "../../http/http_error.ts";
import type { Message } from "../../../raftpb/raft_pb.ts";
import type { SnapshotIntake, SnapshotReceive } from "../../extension/extension.ts";
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
  /**
   * Set where the data goes to the sink's partial: reads `stream` to its end
   * (the windows are written as they verify) and commits the partial as the
   * snapshot of `m`; used instead of the sink's `save`.
   */
  save?: (m: Message, signal: AbortSignal) => Promise<void>;
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
  final = false,
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
  const t = new FramedTransfer(raw, plan, d, attempt, partial);
  const stream = new ReadableStream<Uint8Array>({
    pull: (c) => t.pull(c),
    cancel: (reason) => t.cancel(reason),
  }, { highWaterMark: 0 });
  return {
    stream,
    position: () => t.position,
    complete: () => t.chainChecked && !t.corrupt,
    corrupt: () => t.corrupt,
    // A break of the sender's last attempt is final: nothing is kept.
    settle: (ok) => t.settle(ok || final),
    save: attempt?.commit === undefined ? undefined : async (m, signal) => {
      // Each window is written to the partial as it verifies.
      for await (const _ of stream) signal.throwIfAborted();
      await t.commit(m);
    },
  };
}

/** A window that passed, as the verifier hands it on. */
interface Window {
  start: number;
  parts: Uint8Array[];
  length: number;
}

/** The state of one extended receive. */
class FramedTransfer {
  readonly #plan: WindowPlan;
  readonly #attempt: ResumeAttempt | undefined;
  readonly #dec: FrameDecoder;
  readonly #ver: WindowVerifier;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #prefix: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #chain: Uint8Array | undefined;
  #ended = false;
  #settled = false;
  #busy = Promise.resolve();
  #verified: number;
  #scratch = [new Uint8Array(0), new Uint8Array(0)];
  #flip = 0;
  #keepFailed: Error | undefined;
  chainChecked = false;
  corrupt = false;

  constructor(
    raw: ReadableStream<Uint8Array>,
    plan: WindowPlan,
    d: Digest,
    attempt: ResumeAttempt | undefined,
    partial: Uint8Array,
  ) {
    const start = windowStart(plan);
    this.#plan = plan;
    this.#attempt = attempt;
    this.#dec = new FrameDecoder(d.size, plan, partial);
    this.#ver = new WindowVerifier(d, plan.window, attempt?.digests ?? []);
    // Into the sink's partial (commit), the kept prefix is in place already.
    this.#prefix = attempt !== undefined && start > 0 && attempt.commit === undefined
      ? attempt.read(0, start).getReader()
      : undefined;
    this.#reader = raw.getReader();
    this.#verified = start;
  }

  /** Data bytes held: verified, then the pending window's. */
  get position(): number {
    return Math.max(this.#verified, this.#dec.windowStart + this.#dec.pending.length);
  }

  /**
   * Appends a verified window, less what the store already holds (the
   * resumed window's first bytes). The bytes are copied now (into one of two
   * scratch buffers) and written while the sink takes the window: at most
   * one write in flight, waited for before the next copy.
   */
  async #keep(w: Window): Promise<void> {
    const attempt = this.#attempt;
    const skip = Math.max(0, this.#plan.offset - w.start);
    if (attempt === undefined || skip >= w.length) return;
    await this.#busy;
    if (this.#keepFailed !== undefined) {
      if (attempt.commit !== undefined) throw this.#keepFailed; // the sink's data has a gap
      return; // a gap: nothing after it may be kept
    }
    const i = this.#flip ^= 1;
    if (this.#scratch[i].length < w.length) this.#scratch[i] = new Uint8Array(w.length);
    const bytes = concat(w.parts, w.length, this.#scratch[i]).subarray(skip);
    this.#busy = attempt.append(bytes).catch((e) => {
      this.#keepFailed = e as Error;
    });
  }

  /** The next verified window; a mismatch marks the transfer corrupt. */
  async #next(): Promise<Window> {
    try {
      const w = await this.#ver.next();
      this.#verified = w.start + w.length;
      return w;
    } catch (e) {
      if (e instanceof SnapshotDigestError) this.corrupt = true;
      throw e;
    }
  }

  /** The sink's pull: the kept prefix, then each window once checked. */
  async pull(c: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    if (this.#prefix !== undefined) {
      const { done, value } = await this.#prefix.read();
      if (!done) return c.enqueue(value);
      this.#prefix = undefined;
    }
    const ver = this.#ver;
    for (;;) {
      if (this.#settled) throw new Error("the snapshot transfer ended");
      // Hand on a window once checked; read ahead while up to MAX_QUEUED are checked.
      if (ver.queued > 0 && (ver.headReady || ver.queued >= MAX_QUEUED || this.#ended)) {
        const w = await this.#next();
        await this.#keep(w);
        for (const p of w.parts) c.enqueue(p);
        return;
      }
      if (this.#ended) {
        this.#dec.finish(); // throws: the body ended early
        await this.#checkChain();
        return c.close();
      }
      const { done, value } = await this.#reader.read();
      if (done) this.#ended = true;
      else {
        try {
          this.#dec.push(value, (parts, dg) => ver.add(parts, dg), (dg) => this.#chain = dg);
        } catch (e) {
          if (e instanceof SnapshotDigestError) this.corrupt = true;
          throw e;
        }
        if (this.#dec.done) this.#ended = true;
      }
    }
  }

  async #checkChain(): Promise<void> {
    if (this.chainChecked) return;
    this.chainChecked = true;
    try {
      await this.#ver.chain(this.#chain!);
    } catch (e) {
      this.corrupt = true;
      throw e;
    }
  }

  /** Makes the sink's partial the snapshot of `m`, once all of it verified and is written. */
  async commit(m: Message): Promise<void> {
    if (!this.chainChecked || this.corrupt) throw new Error("the snapshot data is incomplete");
    await this.#busy;
    if (this.#keepFailed !== undefined) throw this.#keepFailed;
    await this.#attempt!.commit!(m, this.#plan.size);
  }

  async cancel(reason: unknown): Promise<void> {
    await this.#prefix?.cancel(reason).catch(() => {});
    await this.#reader.cancel(reason).catch(() => {});
  }

  /** Ends the attempt: stored (`ok`) or corrupt drop what was kept; a break keeps it. */
  async settle(ok: boolean): Promise<void> {
    if (this.#settled) return;
    this.#settled = true;
    await this.#prefix?.cancel().catch(() => {});
    await this.#busy;
    const attempt = this.#attempt;
    if (attempt === undefined) return;
    if (ok || this.corrupt) return attempt.discard();
    try {
      // What arrived whole is checked still; then the pending window is kept as it is.
      while (this.#ver.queued > 0) await this.#keep(await this.#next());
      const pending = this.#dec.pending.slice();
      await this.#keep({ start: this.#dec.windowStart, parts: [pending], length: pending.length });
      await this.#busy;
      if (this.#keepFailed !== undefined) throw this.#keepFailed;
    } catch {
      return attempt.discard(); // corrupt (or the store failed): nothing is kept
    }
    await attempt.release();
  }
}

/** Windows checked at once (each held in memory until handed on). */
const MAX_QUEUED = 4;

/**
 * The hook of `POST /raft/snapshot`: undefined for etcd's plain body (no
 * `X-Rafthttp-Snapshot-*` headers), else the verified data of the framed
 * one. Throws {@link HttpError} (400 malformed or not negotiable, 409 wrong
 * offset); the transport then cancels the body.
 */
export async function extendReceive(
  r: SnapshotReceive,
  store: ResumeStore,
): Promise<SnapshotIntake | undefined> {
  const ext = parseExtension(r.request.headers, r.message);
  if (ext === undefined) return undefined;
  const d = await digestNamed(ext.params.digest);
  if (d === undefined) {
    throw new HttpError(
      400,
      `snapshot extension with digest "${ext.params.digest}" not supported here`,
    );
  }
  const plan = { size: ext.params.size, window: ext.params.window, offset: ext.offset };
  const key = keyOf(r.message.from, ext.params);
  const f = await framedData(r.body, plan, key, d, store, ext.final);
  const save = f.save;
  return {
    data: f.stream,
    offset: ext.offset,
    size: ext.params.size,
    complete: f.complete,
    corrupt: f.corrupt,
    settle: f.settle,
    save: save === undefined ? undefined : (signal) => save(r.message, signal),
  };
}
