/**
 * The receiving half of a stream: one per peer per stream type. It dials
 * the peer (`GET /raft/stream/{message|msgapp}/{our id}`), decodes the
 * endless response body chunk by chunk and hands each message on; when the
 * stream ends or fails it redials, immediately after a stream that worked,
 * then with capped, jittered backoff.
 *
 * @module
 */

import type { Message } from "../raftpb/raft_pb.ts";
import type { StreamType } from "./writer.ts";
import type { PeerContext } from "../peer/context.ts";
import { formatId, H, requestHeaders, supportsStreams } from "../http/headers.ts";
import { MessageFrameDecoder } from "../codec/message.ts";
import { MsgAppV2FrameDecoder } from "../codec/msgappv2.ts";
import { MemberRemovedError, PeerRequestError, StoppedError } from "../errors.ts";
import { isCritical, preconditionFailed } from "../http/responses.ts";
import { readTextLimited } from "../http/body.ts";

/** The URL path segment of each stream type (msgappv2 lives under "msgapp"). */
export const STREAM_PATH: Record<StreamType, string> = { message: "message", msgappv2: "msgapp" };

/**
 * Where a reader delivers decoded messages (link heartbeats included). It
 * must not block: a receiver that falls behind drops, as etcd's does, so
 * that stale messages never pile up in socket buffers ahead of fresh ones;
 * raft recovers what was lost through its own retransmission.
 */
export type Inbox = (m: Message) => void;

const SLAB = 256 * 1024;

/**
 * Reads a response body into slabs of our own: fetch otherwise allocates a
 * fresh 64 KiB buffer for every read, however few bytes it carries, and
 * collecting those shows up as latency spikes. Where the body offers a BYOB
 * reader, each read lands in a reused scratch buffer and is copied into the
 * current slab; decoded messages keep views into slabs, so a slab is never
 * reused, only replaced when full.
 */
class ChunkReader {
  #byob: ReadableStreamBYOBReader | undefined;
  #plain: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #scratch = new Uint8Array(64 * 1024);
  #slab = new Uint8Array(SLAB);
  #used = 0;

  constructor(body: ReadableStream<Uint8Array>) {
    try {
      this.#byob = body.getReader({ mode: "byob" });
    } catch {
      this.#plain = body.getReader(); // not a byte stream: plain reads
    }
  }

  async read(): Promise<ReadableStreamReadResult<Uint8Array>> {
    if (this.#byob === undefined) return await this.#plain!.read();
    const r = await this.#byob.read(this.#scratch);
    if (r.done || r.value === undefined) return { done: true, value: undefined };
    const got = r.value;
    this.#scratch = new Uint8Array(got.buffer); // the read transferred it
    if (this.#used + got.length > this.#slab.length) {
      this.#slab = new Uint8Array(Math.max(SLAB, got.length));
      this.#used = 0;
    }
    const out = this.#slab.subarray(this.#used, this.#used + got.length);
    out.set(got);
    this.#used += got.length;
    return { done: false, value: out };
  }

  cancel(reason?: unknown): Promise<void> {
    return (this.#byob ?? this.#plain)!.cancel(reason);
  }
}

/** Receives one peer's messages of one stream type. */
export class StreamReader {
  readonly type: StreamType;
  #ctx: PeerContext;
  #inbox: Inbox;
  #abort: AbortController | undefined;
  #stopped = false;
  #loop: Promise<void> | undefined;
  #connected = false;
  #paused = false;

  constructor(type: StreamType, ctx: PeerContext, inbox: Inbox) {
    this.type = type;
    this.#ctx = ctx;
    this.#inbox = inbox;
  }

  /** True while a stream from the peer is being read. */
  get connected(): boolean {
    return this.#connected;
  }

  /** Starts the dial loop. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Pauses (or resumes) the dial loop; the current stream is dropped. A test hook. */
  pause(paused: boolean): void {
    this.#paused = paused;
    if (paused) this.#abort?.abort(new StoppedError("stream reader paused"));
  }

  /** Stops the loop and closes the stream; resolves when everything is released. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort?.abort(new StoppedError());
    await this.#loop;
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stopped) {
      if (this.#paused) {
        await sleep(50);
        continue;
      }
      const started = Date.now();
      const outcome = await this.#attempt();
      if (this.#stopped) break;
      // A stream that worked for a while is redialled at once; failures
      // (and streams that end right after connecting) back off.
      if (outcome === "worked" && Date.now() - started > 1000) failures = 0;
      else failures++;
      if (failures > 0) {
        const base = Math.min(
          this.#ctx.cfg.redialMaxMs,
          this.#ctx.cfg.redialMinMs * 2 ** Math.min(failures - 1, 16),
        );
        await this.#sleep(base * (0.8 + 0.4 * Math.random()));
      }
    }
  }

  /** One dial and, if it succeeds, reading until the stream ends. */
  async #attempt(): Promise<"worked" | "failed"> {
    const cfg = this.#ctx.cfg;
    const abort = new AbortController();
    this.#abort = abort;
    const url = this.#ctx.picker.pick();
    const target = `${url}/raft/stream/${STREAM_PATH[this.type]}/${formatId(cfg.id)}`;
    const dialTimer = setTimeout(
      () => abort.abort(new PeerRequestError(`dial timeout after ${cfg.dialTimeoutMs} ms`)),
      cfg.dialTimeoutMs,
    );
    let res: Response;
    try {
      res = await cfg.fetch(target, {
        method: "GET",
        headers: await requestHeaders(cfg, "GET", target, { [H.raftTo]: formatId(this.#ctx.peer) }),
        signal: abort.signal,
      });
    } catch (e) {
      clearTimeout(dialTimer);
      if (this.#stopped || this.#paused) return "failed";
      this.#dialFailed(url, `dial failed: ${reason(abort.signal, e)}`);
      return "failed";
    }
    clearTimeout(dialTimer);
    const error = await this.#checkResponse(res);
    if (error !== undefined) {
      this.#ctx.picker.unreachable(url);
      if (error === "unsupported") {
        this.#ctx.log.event(
          `stream-dial:${this.type}:${this.#ctx.peer}`,
          "warn",
          "peer does not support this stream type",
          {
            peer: this.#ctx.peer,
            stream: this.type,
            version: res.headers.get(H.serverVersion),
          },
        );
      } else {
        this.#ctx.status.deactivate(`stream ${this.type} dial failed: ${error.message}`);
        if (isCritical(error)) {
          this.#ctx.log.event(`critical:${this.#ctx.peer}`, "error", error.message, {
            peer: this.#ctx.peer,
          });
          cfg.onError(error);
        } else {
          this.#ctx.log.event(
            `stream-dial:${this.type}:${this.#ctx.peer}`,
            "warn",
            "stream dial refused",
            {
              peer: this.#ctx.peer,
              stream: this.type,
              error: error.message,
            },
          );
        }
      }
      return "failed";
    }
    this.#ctx.status.activate();
    this.#connected = true;
    try {
      await this.#read(res.body!, abort);
      return "worked";
    } finally {
      this.#connected = false;
    }
  }

  #dialFailed(url: string, why: string): void {
    this.#ctx.picker.unreachable(url);
    this.#ctx.status.deactivate(`stream ${this.type} ${why}`);
    this.#ctx.log.event(
      `stream-dial:${this.type}:${this.#ctx.peer}`,
      "warn",
      "failed to dial the peer's stream",
      {
        peer: this.#ctx.peer,
        stream: this.type,
        url,
        error: why,
      },
    );
  }

  /** etcd's dial response handling; undefined when the stream may be read. */
  async #checkResponse(res: Response): Promise<Error | "unsupported" | undefined> {
    const peer = formatId(this.#ctx.peer);
    if (!supportsStreams(res.headers.get(H.serverVersion), this.#ctx.cfg.serverVersion)) {
      await res.body?.cancel();
      return "unsupported";
    }
    if (res.status === 200 && res.body !== null) return undefined;
    const text = (await readTextLimited(res, 1024)).replace(/\n$/, "");
    switch (res.status) {
      case 410:
        return new MemberRemovedError(
          `peer ${peer} says this member (${
            formatId(this.#ctx.cfg.id)
          }) was removed from the cluster; ` +
            `stop this member`,
          410,
        );
      case 404:
        return new PeerRequestError(
          `peer ${peer} does not know this member yet (404 ${text}); it will be retried`,
          404,
        );
      case 412:
        return preconditionFailed(text, `${this.type} stream`, this.#ctx.peer, this.#ctx.cfg);
      default:
        return new PeerRequestError(
          `peer ${peer} answered an unexpected ${res.status} ${text}`,
          res.status,
        );
    }
  }

  async #read(body: ReadableStream<Uint8Array>, abort: AbortController): Promise<void> {
    const cfg = this.#ctx.cfg;
    const decoder = this.type === "message"
      ? new MessageFrameDecoder({ maxFrameSize: cfg.maxFrameSize })
      : new MsgAppV2FrameDecoder(cfg.id, this.#ctx.peer, { maxFrameSize: cfg.maxFrameSize });
    const reader = new ChunkReader(body);
    const stats = this.#ctx.stats;
    const deliver = this.#inbox;
    let lastRead = Date.now();
    let lastTick = lastRead;
    const period = Math.max(10, Math.min(250, cfg.streamReadTimeoutMs / 4));
    const watchdog = setInterval(() => {
      const now = Date.now();
      // If our own event loop stalled, the silence is ours: do not blame the peer.
      if (now - lastTick > period + 1000) lastRead = now;
      lastTick = now;
      if (now - lastRead > cfg.streamReadTimeoutMs) {
        abort.abort(
          new PeerRequestError(
            `no data (not even a link heartbeat) for ${now - lastRead} ms ` +
              `(read timeout ${cfg.streamReadTimeoutMs} ms); the connection looks dead`,
          ),
        );
      }
    }, period);
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          decoder.finish();
          this.#ctx.log.event(
            `stream-eof:${this.type}:${this.#ctx.peer}`,
            "info",
            "the peer closed the stream",
            {
              peer: this.#ctx.peer,
              stream: this.type,
            },
          );
          return;
        }
        lastRead = Date.now();
        stats.receivedBytes += value.length;
        stats.receivedChunks++;
        decoder.push(value, deliver);
      }
    } catch (e) {
      if (this.#stopped || this.#paused) return;
      const why = reason(abort.signal, e);
      this.#ctx.status.deactivate(`stream ${this.type} read failed: ${why}`);
      this.#ctx.log.event(
        `stream-read:${this.type}:${this.#ctx.peer}`,
        "warn",
        "lost the stream from the peer",
        {
          peer: this.#ctx.peer,
          stream: this.type,
          error: why,
        },
      );
    } finally {
      clearInterval(watchdog);
      abort.abort(new StoppedError("stream closed"));
      await reader.cancel().catch(() => {});
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.#abort = new AbortController();
      this.#abort.signal.addEventListener("abort", () => {
        clearTimeout(t);
        resolve();
      }, { once: true });
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The reason an operation failed: the abort reason if we aborted it, else the error. */
function reason(signal: AbortSignal, e: unknown): string {
  const r = signal.aborted ? signal.reason : e;
  return r instanceof Error ? r.message : String(r);
}
