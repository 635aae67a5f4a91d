/**
 * The receiving half of a stream: one per peer per stream type. It dials
 * the peer (`GET /raft/stream/{message|msgapp}/{our id}`), decodes the
 * endless response body chunk by chunk and hands each message on; when the
 * stream ends or fails it redials, immediately after a stream that worked,
 * then with capped, jittered backoff.
 *
 * @module
 */

import type { Message } from "../../raftpb/raft_pb.ts";
import type { Config } from "../options.ts";
import type { PeerContext } from "../peer/context.ts";
import { channelFailed, type FailureConfig } from "../peer/failure.ts";
import { formatId, H, type LocalIdentity, requestHeaders } from "../http/headers.ts";
import { supportsStreams } from "../http/version.ts";
import { MessageFrameDecoder } from "../codec/message.ts";
import { MsgAppV2FrameDecoder } from "../codec/msgappv2.ts";
import { MemberRemovedError, PeerRequestError, StoppedError } from "../errors.ts";
import { preconditionFailed } from "../http/responses.ts";
import type { DialBody, DialResponse } from "../http/dialer.ts";
import { IdleDeadline } from "../util/idle_deadline.ts";
import { failureReason, toError } from "../util/error_message.ts";
import { F } from "../logger.ts";
import { CH } from "../metrics/peer_metrics.ts";
import { streamPath, type StreamType } from "./types.ts";

/**
 * What a reader calls with each decoded message (link heartbeats included);
 * the peer passes one that queues into its `Inbox`. It must not block: a receiver that falls behind drops, as etcd's does, so
 * that stale messages never pile up in socket buffers ahead of fresh ones;
 * raft recovers what was lost through its own retransmission.
 */
export type OnMessage = (m: Message) => void;

/** The options a stream reader reads. */
export type StreamReaderConfig =
  & Pick<
    Config,
    "dialTimeoutMs" | "streamReadTimeoutMs" | "redialMinMs" | "redialMaxMs" | "maxFrameSize"
  >
  & Pick<Config, "dialer">
  & FailureConfig
  & LocalIdentity;

/** A stream that worked at least this long is redialled at once. */
const WORKED_MS = 1000;

/** Receives one peer's messages of one stream type. */
export class StreamReader {
  readonly type: StreamType;
  #ctx: PeerContext<StreamReaderConfig>;
  #onMessage: OnMessage;
  #abort: AbortController | undefined;
  #stopped = false;
  #loop: Promise<void> | undefined;
  #connected = false;
  #paused = false;

  constructor(type: StreamType, ctx: PeerContext<StreamReaderConfig>, onMessage: OnMessage) {
    this.type = type;
    this.#ctx = ctx;
    this.#onMessage = onMessage;
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

  get #quiet(): boolean {
    return this.#stopped || this.#paused;
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stopped) {
      if (this.#paused) {
        await this.#sleep(50);
        continue;
      }
      const started = this.#ctx.clock.now();
      const outcome = await this.#attempt();
      if (this.#stopped) break;
      // A stream that worked for a while is redialled at once; failures
      // (and streams that end right after connecting) back off.
      if (outcome === "worked" && this.#ctx.clock.now() - started > WORKED_MS) failures = 0;
      else failures++;
      if (failures > 0) {
        const { redialMinMs, redialMaxMs } = this.#ctx.cfg;
        const base = Math.min(redialMaxMs, redialMinMs * 2 ** Math.min(failures - 1, 16));
        await this.#sleep(base * (0.8 + 0.4 * Math.random()));
      }
    }
  }

  /** One dial and, if it succeeds, reading until the stream ends. */
  async #attempt(): Promise<"worked" | "failed"> {
    const abort = new AbortController();
    this.#abort = abort;
    const url = this.#ctx.picker.pick();
    const res = await this.#dial(url, abort);
    if (res === undefined) return "failed";
    const error = await this.#checkResponse(res);
    if (error === "unsupported") {
      this.#ctx.picker.unreachable(url);
      this.#ctx.log.event(
        `stream ${this.type}:${this.#ctx.peer}`,
        "warn",
        "peer does not support this stream type",
        {
          [F.remote]: this.#ctx.peerId,
          [F.stream]: this.type,
          version: res.headers.get(H.serverVersion),
        },
      );
      return "failed";
    }
    if (error !== undefined) {
      this.#failed(url, error, "stream dial refused");
      return "failed";
    }
    const { extensions, peer, cfg } = this.#ctx;
    try {
      extensions.responseHeaders(peer, streamPath(this.type, formatId(cfg.id)), res.headers);
    } catch (e) {
      await res.body.cancel();
      this.#failed(url, toError(e), "an extension refused the stream's answer");
      return "failed";
    }
    this.#ctx.status.activate();
    this.#ctx.metrics.streamConnects[2 + CH[this.type]]++;
    this.#connected = true;
    try {
      await this.#read(res.body, abort);
      return "worked";
    } finally {
      this.#connected = false;
    }
  }

  /** The GET, bounded by the dial timeout until the response headers arrive. */
  async #dial(url: string, abort: AbortController): Promise<DialResponse | undefined> {
    const { cfg, peer, clock, extensions } = this.#ctx;
    const path = streamPath(this.type, formatId(cfg.id));
    const target = `${url}${path}`;
    const timer = clock.setTimeout(
      () => abort.abort(new PeerRequestError(`dial timeout after ${cfg.dialTimeoutMs} ms`)),
      cfg.dialTimeoutMs,
    );
    try {
      return await cfg.dialer.dial({
        method: "GET",
        url: target,
        headers: await requestHeaders(cfg, "GET", target, {
          ...extensions.requestHeaders(peer, path), // etcd's own come after, and win
          [H.raftTo]: formatId(peer),
        }),
        signal: abort.signal,
      });
    } catch (e) {
      if (!this.#quiet) {
        const error = new PeerRequestError(`dial failed: ${failureReason(abort.signal, e)}`);
        this.#failed(url, error, "failed to dial the peer's stream");
      }
      return undefined;
    } finally {
      clock.clearTimeout(timer);
    }
  }

  #failed(url: string, error: Error, warning: string): void {
    channelFailed(this.#ctx, {
      channel: `stream ${this.type}`,
      url,
      error,
      warning,
      fields: { [F.stream]: this.type, url },
    });
  }

  /** etcd's dial response handling; undefined when the stream may be read. */
  async #checkResponse(res: DialResponse): Promise<Error | "unsupported" | undefined> {
    const { cfg, peer } = this.#ctx;
    if (!supportsStreams(res.headers.get(H.serverVersion), cfg.serverVersion)) {
      await res.body.cancel();
      return "unsupported";
    }
    if (res.status === 200) return undefined;
    const text = (await res.body.text(1024)).replace(/\n$/, "");
    const p = formatId(peer);
    switch (res.status) {
      case 410:
        return new MemberRemovedError(
          `peer ${p} says this member (${formatId(cfg.id)}) was removed from the cluster; ` +
            `stop this member`,
          410,
          { peer },
        );
      case 404:
        return new PeerRequestError(
          `peer ${p} does not know this member yet (404 ${text}); it will be retried`,
          404,
        );
      case 412:
        return preconditionFailed(text, `${this.type} stream`, peer, cfg);
      default:
        return new PeerRequestError(
          `peer ${p} answered an unexpected ${res.status} ${text}`,
          res.status,
        );
    }
  }

  /** Decodes the body until it ends, fails, or stays silent past the read timeout. */
  async #read(body: DialBody, abort: AbortController): Promise<void> {
    const { cfg, peer, stats, peerId } = this.#ctx;
    const bytesOn = this.#ctx.metrics.receivedBytes;
    const ch = CH[this.type];
    const decoder = this.type === "message"
      ? new MessageFrameDecoder({ maxFrameSize: cfg.maxFrameSize })
      : new MsgAppV2FrameDecoder(cfg.id, peer, { maxFrameSize: cfg.maxFrameSize });
    const deliver = this.#onMessage;
    const link = this.#ctx.link;
    const deadline = new IdleDeadline(cfg.streamReadTimeoutMs, silent, (e) => {
      // The peer is silent on this stream: the path to it looks dead, so the
      // writers toward it must stop trusting their sockets too (see Link).
      abort.abort(e);
      link.dead(e.message);
    }, this.#ctx.clock);
    const onChunk = (value: Uint8Array) => {
      link.lastHeard = deadline.touch();
      stats.receivedBytes += value.length;
      bytesOn[ch] += value.length;
      stats.receivedChunks++;
      decoder.push(value, deliver);
    };
    try {
      await body.consume(onChunk);
      decoder.finish();
      this.#ctx.log.event(
        `stream-eof:${this.type}:${peer}`,
        "info",
        "the peer closed the stream",
        { [F.remote]: peerId, [F.stream]: this.type },
      );
    } catch (e) {
      if (this.#quiet) return;
      const why = failureReason(abort.signal, e);
      this.#ctx.status.deactivate(`stream ${this.type} read failed: ${why}`);
      this.#ctx.log.event(
        `stream-read:${this.type}:${peer}`,
        "warn",
        "lost the stream from the peer",
        { [F.remote]: peerId, [F.stream]: this.type, [F.error]: why },
      );
    } finally {
      deadline.cleanup();
      abort.abort(new StoppedError("stream closed"));
      await body.cancel().catch(() => {});
    }
  }

  /** Waits `ms`, or less if the reader is paused or stopped meanwhile. */
  #sleep(ms: number): Promise<void> {
    const clock = this.#ctx.clock;
    return new Promise((resolve) => {
      const t = clock.setTimeout(resolve, ms);
      this.#abort = new AbortController();
      this.#abort.signal.addEventListener("abort", () => {
        clock.clearTimeout(t);
        resolve();
      }, { once: true });
    });
  }
}

const silent = (idle: number, limit: number) =>
  new PeerRequestError(
    `no data (not even a link heartbeat) for ${idle} ms ` +
      `(read timeout ${limit} ms); the connection looks dead`,
  );
