/**
 * raftexample's HTTP API: `PUT /KEY` (body = value) -> 204, `GET /KEY` ->
 * 200 + value or 404, `POST /ID` (body = peer URL) adds a member,
 * `DELETE /ID` removes one. Unlike raftexample, each answer comes after the
 * operation is done: a write once committed and applied here, a read once
 * linearizable (ReadIndex; `?stale` reads locally), a membership change
 * once applied. With test hooks, `/_test/...` too (see test_hooks.ts).
 *
 * @module
 */

import {
  NoLeaderError,
  OutcomeUnknownError,
  ProposalTooLargeError,
  ReplicaStoppedError,
} from "../../replica/mod.ts";
import { RequestTimeoutError } from "./errors.ts";
import type { KvTrace } from "./trace.ts";
import { type KvTestHooks, testHook } from "./test_hooks.ts";

export type { KvTestHooks } from "./test_hooks.ts";

/**
 * What the API needs from a member. Each call gets the request's `signal`,
 * which aborts when the client goes away: its wait ends then.
 */
export interface KvService {
  /** Writes `key`; resolves once the write is committed and applied on this member. */
  put(key: string, value: string, signal?: AbortSignal): Promise<void>;
  /** Reads `key`: linearizable, or this member's applied state if `stale`. */
  get(key: string, stale: boolean, signal?: AbortSignal): Promise<string | undefined>;
  /** Adds member `id` with peer URL `url`; resolves once the change is applied here. */
  addMember(id: bigint, url: string, signal?: AbortSignal): Promise<void>;
  /** Removes member `id`; resolves once the change is applied here. */
  removeMember(id: bigint, signal?: AbortSignal): Promise<void>;
}

/** Options of {@link createKvHandler}. */
export interface KvHandlerOptions {
  /** Serve `/_test/...` with these hooks; absent: those paths are ordinary keys. */
  hooks?: KvTestHooks;
  /** Largest PUT body, bytes; larger ones get 413. Default 1 MiB. */
  maxValueBytes?: number;
  /** Reports each PUT's `httpIn` and `reply` (`--trace`); default none. */
  trace?: Pick<KvTrace, "request">;
}

const TEXT = { "content-type": "text/plain; charset=utf-8" };
const MAX_U64 = (1n << 64n) - 1n;

function text(status: number, body: string, headers: HeadersInit = {}): Response {
  return new Response(body === "" ? null : body, { status, headers: { ...TEXT, ...headers } });
}

/** A member id as Go's `strconv.ParseUint(s, 0, 64)` reads it (decimal, 0x, 0o/0, 0b). */
export function parseMemberId(s: string): bigint | undefined {
  const t = s.replaceAll("_", "");
  let v: bigint;
  if (/^0[xX][0-9a-fA-F]+$/.test(t) || /^0[oO][0-7]+$/.test(t) || /^0[bB][01]+$/.test(t)) {
    v = BigInt(t);
  } else if (/^0[0-7]+$/.test(t)) v = BigInt("0o" + t.slice(1));
  else if (/^(0|[1-9][0-9]*)$/.test(t)) v = BigInt(t);
  else return undefined;
  return v <= MAX_U64 ? v : undefined;
}

/**
 * The path (the key, as sent: like raftexample's `RequestURI`, not
 * normalized) and the query of a request URL, without the cost of `new URL`
 * on every request.
 */
export function splitUrl(url: string): { path: string; query: string } {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return { path: "/", query: "" };
  const q = url.indexOf("?", start);
  return q < 0
    ? { path: url.slice(start), query: "" }
    : { path: url.slice(start, q), query: url.slice(q + 1) };
}

/**
 * 503 for what may be retried: not done by the deadline, lost in a leader
 * change (outcome unknown), no leader, the member stopping or removed.
 */
function errorResponse(e: unknown): Response {
  const retry = e instanceof RequestTimeoutError || e instanceof NoLeaderError ||
    e instanceof OutcomeUnknownError || e instanceof ReplicaStoppedError;
  if (retry) return text(503, `${e.message}\n`, { "retry-after": "1" });
  if (e instanceof ProposalTooLargeError) return text(413, `${e.message}\n`);
  return text(500, `internal error: ${(e as Error).message ?? e}\n`);
}

async function readBody(req: Request, max: number): Promise<Uint8Array | Response> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > max) return text(413, `body larger than ${max} bytes\n`);
  const bytes = new Uint8Array(await req.arrayBuffer());
  if (bytes.length > max) return text(413, `body larger than ${max} bytes\n`);
  return bytes;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

async function membership(
  req: Request,
  path: string,
  service: KvService,
  max: number,
  signal: AbortSignal,
): Promise<Response> {
  const id = parseMemberId(path.slice(1));
  if (id === undefined || id === 0n) {
    return text(400, `"${path.slice(1)}" is not a member id (a positive integer)\n`);
  }
  if (req.method === "DELETE") {
    await service.removeMember(id, signal);
    return text(204, "");
  }
  const body = await readBody(req, max);
  if (body instanceof Response) return body;
  const url = decodeUtf8(body)?.trim() ?? "";
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    return text(
      400,
      `the body must be the new member's peer URL (http://host:port), got "${url}"\n`,
    );
  }
  await service.addMember(id, url, signal);
  return text(204, "");
}

/** A request still waiting after this long starts to watch its client, ms. */
const WATCH_AFTER_MS = 50;

/**
 * Ends the wait of a request whose client went away, for the requests that
 * wait: Deno's `req.signal` costs about 0.1 ms of CPU a request (measured
 * on the KV's PUTs), more than the rest of a PUT's work on its member, so a
 * request gets a signal of its own, and one still waiting after
 * {@link WATCH_AFTER_MS} (a leader change, no quorum) ties it to
 * `req.signal`, on one timer for all.
 */
class ClientWatch {
  readonly #waiting = new Map<Request, { ac: AbortController; at: number }>();
  #timer: ReturnType<typeof setInterval> | undefined;

  /** The signal of `req`'s wait; call {@link done} when it has its answer. */
  track(req: Request): AbortSignal {
    const ac = new AbortController();
    this.#waiting.set(req, { ac, at: performance.now() + WATCH_AFTER_MS });
    this.#timer ??= setInterval(() => this.#sweep(), WATCH_AFTER_MS);
    return ac.signal;
  }

  done(req: Request): void {
    this.#waiting.delete(req);
  }

  #sweep(): void {
    if (this.#waiting.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    const now = performance.now();
    for (const [req, w] of this.#waiting) {
      if (w.at > now) continue;
      this.#waiting.delete(req);
      const client = req.signal;
      if (client.aborted) w.ac.abort(client.reason);
      else client.addEventListener("abort", () => w.ac.abort(client.reason), { once: true });
    }
  }
}

/**
 * Builds the key-value API handler on top of a member.
 *
 * @example
 * ```ts
 * import { createKvHandler } from "./http_api.ts";
 * const map = new Map<string, string>();
 * const handler = createKvHandler({
 *   put: async (k, v) => void map.set(k, v),
 *   get: async (k) => map.get(k),
 *   addMember: async () => {},
 *   removeMember: async () => {},
 * });
 * await handler(new Request("http://kv/a", { method: "PUT", body: "1" }));
 * console.log(await (await handler(new Request("http://kv/a"))).text()); // 1
 * ```
 */
export function createKvHandler(
  service: KvService,
  options: KvHandlerOptions = {},
): (req: Request) => Promise<Response> {
  const max = options.maxValueBytes ?? 1 << 20;
  const watch = new ClientWatch();
  const trace = options.trace;
  return async (req) => {
    const { path: key, query } = splitUrl(req.url);
    if (trace !== undefined && req.method === "PUT") trace.request("httpIn", key);
    const signal = watch.track(req);
    try {
      if (options.hooks !== undefined && key.startsWith("/_test/")) {
        return await testHook(req, key, options.hooks, signal);
      }
      switch (req.method) {
        case "PUT": {
          const body = await readBody(req, max);
          if (body instanceof Response) return body;
          const value = decodeUtf8(body);
          if (value === undefined) return text(400, "the value must be UTF-8 text\n");
          await service.put(key, value, signal);
          if (trace !== undefined) trace.request("reply", key);
          return text(204, "");
        }
        case "GET": {
          const stale = query !== "" && new URLSearchParams(query).has("stale");
          const value = await service.get(key, stale, signal);
          return value === undefined ? text(404, "Failed to GET\n") : text(200, value);
        }
        case "POST":
        case "DELETE":
          return await membership(req, key, service, max, signal);
        default:
          return text(405, "Method not allowed\n", { allow: "PUT, GET, POST, DELETE" });
      }
    } catch (e) {
      return errorResponse(e);
    } finally {
      watch.done(req);
    }
  };
}
