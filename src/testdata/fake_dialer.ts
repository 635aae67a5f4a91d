// A Dialer for unit tests: it records every request and the test answers
// each one by hand (status, headers, body chunks as they should arrive, a
// failure), or lets a scripted answer do it. No socket is opened.
import type { DialBody, Dialer, DialRequest, DialResponse } from "../http/dialer.ts";

const encoder = new TextEncoder();
const bytes = (c: Uint8Array | string) => typeof c === "string" ? encoder.encode(c) : c;

/**
 * A response body the test feeds: {@link FakeBody.push} chunks, then
 * {@link FakeBody.end} or {@link FakeBody.fail}. Like a real dialer's, it
 * rejects with the request signal's reason when that aborts.
 *
 * @example
 * ```ts
 * import { FakeBody } from "./fake_dialer.ts";
 * const body = new FakeBody();
 * const got: number[] = [];
 * const done = body.consume((c) => got.push(c.length));
 * body.push(new Uint8Array(3), "hi");
 * body.end();
 * await done;
 * console.log(got); // [ 3, 2 ]
 * ```
 */
export class FakeBody implements DialBody {
  #chunks: Uint8Array[] = [];
  #ended = false;
  #error: unknown;
  #failed = false;
  #wake: (() => void) | undefined;
  #used = false;
  /** Set by `cancel` (to its reason, or true), or when the consumer threw. */
  cancelled: unknown = undefined;

  /** A body that fails with `signal.reason` when `signal` aborts. */
  constructor(signal?: AbortSignal) {
    const onAbort = () => this.fail(signal!.reason);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true });
  }

  /** Chunks arrive (strings as UTF-8), each handed on as it is. */
  push(...chunks: (Uint8Array | string)[]): void {
    for (const c of chunks) this.#chunks.push(bytes(c));
    this.#notify();
  }

  /** The body ends cleanly after what was pushed. */
  end(): void {
    this.#ended = true;
    this.#notify();
  }

  /** The body breaks: the reader rejects with `error` once it has the chunks before it. */
  fail(error: unknown): void {
    if (this.#ended || this.#failed) return;
    this.#failed = true;
    this.#error = error;
    this.#notify();
  }

  /** Hands every chunk to `onChunk` as it arrives; see {@link DialBody.consume}. */
  async consume(onChunk: (chunk: Uint8Array) => void): Promise<void> {
    this.#take();
    for (;;) {
      const c = this.#chunks.shift();
      if (c !== undefined) {
        try {
          onChunk(c);
        } catch (e) {
          this.cancelled = e;
          throw e;
        }
        continue;
      }
      if (this.#failed) throw this.#error;
      if (this.#ended || this.cancelled !== undefined) return;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
  }

  /** The text of the body once it ended (or broke), at most `limit` bytes of it. */
  async text(limit: number): Promise<string> {
    const parts: Uint8Array[] = [];
    await this.consume((c) => parts.push(c)).catch(() => {});
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((at, p) => (all.set(p, at), at + p.length), 0);
    return new TextDecoder().decode(all.subarray(0, limit));
  }

  /** Releases the body: a consumer still waiting returns. */
  cancel(reason?: unknown): Promise<void> {
    this.cancelled ??= reason ?? true;
    this.#notify();
    return Promise.resolve();
  }

  #take(): void {
    if (this.#used) throw new TypeError("the response body was already read");
    this.#used = true;
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }
}

/**
 * One request a {@link FakeDialer} got, waiting for the test's answer. If
 * the request's signal aborts first, the dial rejects with its reason.
 *
 * @example
 * ```ts
 * import { FakeDialer } from "./fake_dialer.ts";
 * const dialer = new FakeDialer();
 * const pending = dialer.dial({ method: "POST", url: "http://p/raft", body: new Uint8Array([1]) });
 * const call = await dialer.next();
 * console.log(call.url, await call.body()); // http://p/raft Uint8Array(1) [ 1 ]
 * call.reply(204);
 * console.log((await pending).status); // 204
 * ```
 */
export class FakeCall {
  /** The request as the component made it. */
  readonly request: DialRequest;
  #resolve: (r: DialResponse) => void;
  #reject: (e: unknown) => void;
  #settled = false;

  /** Wraps `request`; `resolve` and `reject` settle the component's `dial`. */
  constructor(
    request: DialRequest,
    resolve: (r: DialResponse) => void,
    reject: (e: unknown) => void,
  ) {
    this.request = request;
    this.#resolve = resolve;
    this.#reject = reject;
    const signal = request.signal;
    const onAbort = () => this.fail(signal!.reason);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true });
  }

  /** The request URL. */
  get url(): string {
    return this.request.url;
  }

  /** A request header, by name in any case; undefined if absent. */
  header(name: string): string | undefined {
    const h = this.request.headers ?? {};
    const key = Object.keys(h).find((k) => k.toLowerCase() === name.toLowerCase());
    return key === undefined ? undefined : h[key];
  }

  /** True once answered, failed or aborted. */
  get settled(): boolean {
    return this.#settled;
  }

  /** Answers with `status` and `headers`; returns the body for the test to feed. */
  answer(status = 200, headers: HeadersInit = {}): FakeBody {
    const body = new FakeBody(this.request.signal);
    if (this.#settle()) this.#resolve({ status, headers: new Headers(headers), body });
    return body;
  }

  /** Answers with `status` and a whole body, already ended. */
  reply(status: number, text = "", headers: HeadersInit = {}): void {
    const body = this.answer(status, headers);
    if (text !== "") body.push(text);
    body.end();
  }

  /** No response comes: the component's `dial` rejects with `error`. */
  fail(error: unknown): void {
    if (this.#settle()) this.#reject(error);
  }

  /** Reads the whole request body (bytes, or a stream to its end). */
  async body(): Promise<Uint8Array> {
    const b = this.request.body;
    if (b === undefined) return new Uint8Array(0);
    if (b instanceof Uint8Array) return b;
    return new Uint8Array(await new Response(b).arrayBuffer());
  }

  #settle(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    return true;
  }
}

/**
 * A {@link Dialer} that opens nothing: each `dial` becomes a
 * {@link FakeCall} the test takes with {@link FakeDialer.next} and answers,
 * or that `script` answers as it arrives.
 *
 * @example
 * ```ts
 * import { FakeDialer } from "./fake_dialer.ts";
 * const dialer = new FakeDialer((call) => call.reply(call.url.endsWith("/ok") ? 204 : 500));
 * const ok = await dialer.dial({ method: "GET", url: "http://p/ok" });
 * const bad = await dialer.dial({ method: "GET", url: "http://p/no" });
 * console.log(ok.status, bad.status, dialer.calls.length); // 204 500 2
 * ```
 */
export class FakeDialer implements Dialer {
  /** Every request so far, in order. */
  readonly calls: FakeCall[] = [];
  #untaken: FakeCall[] = [];
  #takers: ((c: FakeCall) => void)[] = [];
  #script: ((call: FakeCall) => void) | undefined;
  /** True once `close` was called. */
  closed = false;

  /** With `script`, every call is handed to it as it arrives instead of to `next`. */
  constructor(script?: (call: FakeCall) => void) {
    this.#script = script;
  }

  /** Records `req`; resolves when the test (or the script) answers it. */
  dial(req: DialRequest): Promise<DialResponse> {
    return new Promise((resolve, reject) => {
      const call = new FakeCall(req, resolve, reject);
      this.calls.push(call);
      if (this.#script !== undefined) return this.#script(call);
      const taker = this.#takers.shift();
      if (taker !== undefined) taker(call);
      else this.#untaken.push(call);
    });
  }

  /** The next call not taken yet, waiting for it if none is there. */
  next(): Promise<FakeCall> {
    const c = this.#untaken.shift();
    if (c !== undefined) return Promise.resolve(c);
    return new Promise((resolve) => this.#takers.push(resolve));
  }

  /** Calls made and not taken by `next` yet. */
  get untaken(): number {
    return this.#untaken.length;
  }

  /** Marks the dialer closed. */
  close(): void {
    this.closed = true;
  }
}
