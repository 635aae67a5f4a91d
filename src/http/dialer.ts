/**
 * What every client of the transport (stream readers, the pipeline,
 * snapshot sends, the prober) sends its requests through: a {@link Dialer}
 * sends one request and hands back a response whose body is pushed to the
 * caller chunk by chunk ({@link DialBody.consume}), so that a runtime edge can
 * feed the synchronous frame decoders without a Web stream per chunk. The
 * fetch dialer (`fetch_dialer.ts`) works anywhere; the node dialer
 * (`src/edge/node_dialer.ts`) reads `node:http` `data` events.
 *
 * Web-standard only: no runtime's types appear here.
 *
 * @module
 */

/**
 * One request for a {@link Dialer}.
 *
 * @example
 * ```ts
 * import type { DialRequest } from "@rafthttp/rafthttp";
 * const req: DialRequest = { method: "GET", url: "http://127.0.0.1:2380/raft/probing" };
 * console.log(req.method); // GET
 * ```
 */
export interface DialRequest {
  /** The HTTP method (`GET` or `POST` here). */
  method: string;
  /** The absolute URL. */
  url: string;
  /** The request headers. */
  headers?: Record<string, string>;
  /**
   * The body: bytes, or a stream the dialer reads as the connection takes
   * them (never all at once: a snapshot can be larger than memory).
   */
  body?: Uint8Array | ReadableStream<Uint8Array>;
  /**
   * Aborts the request, and the response body being read, with its reason:
   * `dial` or {@link DialBody.consume} then reject with `signal.reason`.
   */
  signal?: AbortSignal;
}

/**
 * A response body, read once: either pushed into a callback with
 * {@link DialBody.consume}, read as text with {@link DialBody.text}, or
 * cancelled.
 *
 * @example
 * ```ts
 * import type { DialBody } from "@rafthttp/rafthttp";
 * async function count(body: DialBody): Promise<number> {
 *   let n = 0;
 *   await body.consume((chunk) => n += chunk.length);
 *   return n;
 * }
 * console.log(typeof count); // function
 * ```
 */
export interface DialBody {
  /**
   * Calls `onChunk` with every chunk as it arrives, synchronously, in order.
   * A chunk is the caller's to keep (decoded messages may hold views into
   * it): the dialer never writes into a chunk it has handed out. Resolves
   * when the body ends cleanly; rejects when it fails, when the request's
   * signal aborts (with its reason), or when `onChunk` throws (the body is
   * then cancelled).
   */
  consume(onChunk: (chunk: Uint8Array) => void): Promise<void>;
  /**
   * At most `limit` bytes of the body as UTF-8 text; the rest is discarded
   * and the body released. A body that breaks mid-way yields what arrived.
   */
  text(limit: number): Promise<string>;
  /** Releases the body unread. */
  cancel(reason?: unknown): Promise<void>;
}

/**
 * What a {@link Dialer} answers: status, headers, and the body.
 *
 * @example
 * ```ts
 * import type { DialResponse } from "@rafthttp/rafthttp";
 * const ok = (res: DialResponse) => res.status === 204;
 * console.log(typeof ok); // function
 * ```
 */
export interface DialResponse {
  /** The HTTP status. */
  status: number;
  /** The response headers. */
  headers: Headers;
  /** The body; release it (consume, text or cancel) in every case. */
  body: DialBody;
}

/**
 * Sends the transport's requests to peers. Pass one as the `dialer` option
 * ({@link nodeDialer}, {@link fetchDialer}, or your own); a transport closes
 * only the dialer it made itself.
 *
 * @example
 * ```ts
 * import { type Dialer, fetchDialer } from "@rafthttp/rafthttp";
 * const dialer: Dialer = fetchDialer(fetch);
 * console.log(typeof dialer.dial); // function
 * ```
 */
export interface Dialer {
  /**
   * Sends `req`; resolves once the response headers are in, rejects when no
   * response comes (connection refused, reset, TLS failure, abort).
   */
  dial(req: DialRequest): Promise<DialResponse>;
  /** Releases what the dialer holds (idle connections, agents). Idempotent. */
  close?(): void | Promise<void>;
}

/** A body that is already gone (a HEAD answer, a 204): every read sees the end at once. */
export const EMPTY_BODY: DialBody = {
  consume: () => Promise.resolve(),
  text: () => Promise.resolve(""),
  cancel: () => Promise.resolve(),
};

/** Joins `chunks` (which hold `total` bytes) and decodes at most `limit` bytes as UTF-8. */
export function decodeText(chunks: Uint8Array[], total: number, limit: number): string {
  const all = new Uint8Array(Math.min(total, limit));
  let at = 0;
  for (const c of chunks) {
    if (at >= all.length) break;
    const part = c.subarray(0, all.length - at);
    all.set(part, at);
    at += part.length;
  }
  return new TextDecoder().decode(all);
}

/** The error for a unix:// or unixs:// URL given to a dialer that cannot reach unix sockets. */
export function unixNeedsFetch(href: string): TypeError {
  return new TypeError(
    `cannot reach ${href}: unix:// and unixs:// peer URLs need a fetch that can reach ` +
      `unix sockets; pass fetch: unixFetch().fetch (Deno) or your runtime's equivalent`,
  );
}
