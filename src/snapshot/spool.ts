/**
 * Reads a request body as fast as it arrives into a bounded queue of our
 * own, and hands it on as a stream. Deno.serve keeps the part of a request
 * body that the handler has not read yet in a buffer of its own, without
 * pushing back on the sender, and each read from that buffer slows down as
 * it grows (denoland/deno#13608): a snapshot sink that pauses for a write or
 * an fsync between reads would make a receive crawl. Draining greedily keeps
 * that buffer empty; our queue absorbs the sink's pauses. A source that
 * pauses its sender when not read (the node edge pauses the socket) needs
 * no such queue: the spool then holds at most {@link PAUSED_SPOOL_LIMIT},
 * and a slow sink slows the sender down, as TCP would.
 *
 * @module
 */

import { IdleDeadline } from "../util/idle_deadline.ts";
import { toError } from "../util/error_message.ts";
import type { BodySource } from "../http/body_source.ts";

/**
 * The bound of a spool over a source that pauses its sender: enough to cover a sink's write.
 *
 * @example
 * ```ts
 * import { PAUSED_SPOOL_LIMIT } from "./spool.ts";
 * console.log(PAUSED_SPOOL_LIMIT / 1024 / 1024); // 2
 * ```
 */
export const PAUSED_SPOOL_LIMIT = 2 * 1024 * 1024;

/** Options of {@link spool}. */
export interface SpoolOptions {
  /** Bytes held at most; reading pauses above it until half of it is taken. */
  limit: number;
  /** Fail if no bytes arrive for this long, ms. */
  progressTimeoutMs: number;
  /** Called with the size of every chunk read. */
  onBytes(n: number): void;
}

/** A body being drained: `stream` yields it; `complete` tells whether it ended cleanly. */
export interface Spool {
  stream: ReadableStream<Uint8Array>;
  complete(): boolean;
}

/**
 * Starts draining `reader` (a request body's {@link BodySource}) ahead of
 * `stream`'s consumer. On the node edge the source pauses the socket when
 * this spool stops reading, so the bound holds end to end.
 */
export function spool(reader: BodySource, opts: SpoolOptions): Spool {
  const limit = reader.pausesSender === true
    ? Math.min(opts.limit, PAUSED_SPOOL_LIMIT)
    : opts.limit;
  const queue: Uint8Array[] = [];
  let head = 0;
  let queued = 0;
  let ended = false;
  let failure: Error | undefined;
  let cancelled = false;
  let wakeConsumer: (() => void) | undefined;
  let wakePump: (() => void) | undefined;

  const notifyConsumer = () => {
    const w = wakeConsumer;
    wakeConsumer = undefined;
    w?.();
  };
  const fail = (e: Error) => {
    failure ??= e;
    reader.cancel(e).catch(() => {});
    notifyConsumer();
  };
  const deadline = new IdleDeadline(
    opts.progressTimeoutMs,
    (_idle, limit) =>
      new Error(`no snapshot bytes from the sender for ${limit} ms (progress timeout)`),
    fail,
  );

  /** One read; false at the end of the body. */
  const readOnce = async (): Promise<boolean> => {
    const { done, value } = await reader.read();
    if (done) return false;
    deadline.touch();
    opts.onBytes(value.length);
    queue.push(value);
    queued += value.length;
    notifyConsumer();
    return true;
  };

  (async () => {
    try {
      while (!cancelled && failure === undefined) {
        if (queued >= limit) {
          // Only the sender's silence counts: a full queue is our consumer's pause.
          deadline.suspend();
          await new Promise<void>((resolve) => wakePump = resolve);
          deadline.resume();
          continue;
        }
        if (!(await readOnce())) {
          ended = true;
          break;
        }
      }
    } catch (e) {
      fail(toError(e));
    } finally {
      deadline.cleanup();
      notifyConsumer();
    }
  })();

  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      while (head === queue.length) {
        if (failure !== undefined) throw failure;
        if (ended) {
          controller.close();
          return;
        }
        await new Promise<void>((resolve) => wakeConsumer = resolve);
      }
      const chunk = queue[head];
      queue[head++] = undefined as unknown as Uint8Array;
      if (head > 1024) {
        queue.splice(0, head);
        head = 0;
      }
      queued -= chunk.length;
      if (wakePump !== undefined && queued < limit / 2) {
        const w = wakePump;
        wakePump = undefined;
        w();
      }
      controller.enqueue(chunk);
    },
    cancel(reason) {
      cancelled = true;
      fail(toError(reason ?? "cancelled"));
      wakePump?.();
    },
  }, { highWaterMark: 0 });

  return { stream, complete: () => ended && failure === undefined };
}
