/**
 * Where a receiver takes a request body's bytes from. The core reads bodies
 * through {@link BodySource}, the shape of a `ReadableStreamDefaultReader`:
 * on any fetch-style server (Deno.serve, Bun, workerd) it is the reader of
 * `req.body`; a runtime edge that has the bytes some faster way (Node's
 * `data` events on `node:http`) registers a source of its own for the
 * request with {@link setBodySource}, and the receivers read that without a
 * web stream per chunk.
 *
 * @module
 */

/** The bytes of one request body, read in order; one reader at a time. */
export interface BodySource {
  /** The next chunk, or `done` at the end; rejects if the body broke off. */
  read(): Promise<ReadableStreamReadResult<Uint8Array>>;
  /** Stops reading: the rest of the body is discarded. */
  cancel(reason?: unknown): Promise<void>;
  /**
   * True when not reading pushes back on the sender (the edge pauses the
   * socket): a reader then needs no buffer of its own to keep up. Absent on
   * `req.body` readers: Deno.serve buffers unread bodies without bound.
   */
  readonly pausesSender?: boolean;
}

const sources = new WeakMap<Request, BodySource>();

/**
 * Registers the source a runtime edge feeds for `req`'s body. The edge must
 * also give `req` a body stream over the same source (for code that reads
 * `req.body`): only one of the two may be read.
 *
 * @example
 * ```ts
 * import { bodySource, setBodySource } from "./body_source.ts";
 * const req = new Request("http://x/raft", { method: "POST", body: "ignored" });
 * const chunks = [new Uint8Array([1, 2])];
 * setBodySource(req, {
 *   read: () =>
 *     Promise.resolve(
 *       chunks.length > 0 ? { done: false, value: chunks.shift()! } : { done: true, value: undefined },
 *     ),
 *   cancel: () => Promise.resolve(),
 * });
 * console.log((await bodySource(req)!.read()).value); // Uint8Array [1, 2]
 * ```
 */
export function setBodySource(req: Request, source: BodySource): void {
  sources.set(req, source);
}

/**
 * The source of `req`'s body: the edge's own if it registered one and
 * `req.body` has not been taken, else a reader of `req.body`; null without
 * a body.
 *
 * @example
 * ```ts
 * import { bodySource } from "./body_source.ts";
 * const req = new Request("http://x/raft", { method: "POST", body: "hi" });
 * const { value } = await bodySource(req)!.read();
 * console.log(new TextDecoder().decode(value)); // hi
 * ```
 */
export function bodySource(req: Request): BodySource | null {
  const own = sources.get(req);
  if (own !== undefined && !req.bodyUsed && req.body?.locked !== true) {
    sources.delete(req);
    return own;
  }
  return req.body === null ? null : req.body.getReader();
}
