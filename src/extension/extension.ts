/**
 * The seam for protocol extensions between members of this library: what
 * an extension implements and what the transport hands it. The transport
 * consults extensions at a few points only (building the peer-port handler,
 * a stream dial and its answer, a snapshot send, a snapshot receive, stop),
 * never per message, so that an etcd peer, which never negotiates one, sees
 * etcd's protocol byte for byte.
 *
 * @module
 */

import type { Message } from "../../raftpb/raft_pb.ts";
import type { Logger } from "../logger.ts";
import type { Dialer } from "../http/dialer.ts";
import type { SnapshotMessage } from "../snapshot/message.ts";
import type { SnapshotProgress } from "../snapshot/progress.ts";
import type { SnapshotSink } from "../snapshot/sink.ts";

/**
 * A protocol extension between members of this library, enabled with
 * `TransportOptions.extensions`. The value is a description: one may be
 * shared by the options of several transports, each of which calls
 * {@link TransportExtension.start} once and uses the hooks it returns.
 *
 * @example
 * ```ts
 * import type { TransportExtension } from "@rafthttp/rafthttp";
 * // Answers GET /raft/hello to members that ask, and does nothing else.
 * const hello: TransportExtension = {
 *   name: "hello",
 *   start: () => ({
 *     routes: { "/raft/hello": { method: "GET", handle: () => new Response("hello") } },
 *   }),
 * };
 * console.log(hello.name); // "hello"
 * ```
 */
export interface TransportExtension {
  /** A short name, for errors and logs; unique among one transport's extensions. */
  readonly name: string;
  /**
   * Starts the extension for one transport, when the transport is
   * created: before its handler answers anything and before any send.
   */
  start(ctx: ExtensionContext): ExtensionHooks;
}

/**
 * What the transport gives an extension when it starts it.
 *
 * @example
 * ```ts
 * import type { ExtensionContext, ExtensionHooks } from "@rafthttp/rafthttp";
 * function start(ctx: ExtensionContext): ExtensionHooks {
 *   const timer = setInterval(() => ctx.logger.debug("still here"), 60_000);
 *   return { stop: () => Promise.resolve(clearInterval(timer)) };
 * }
 * console.log(typeof start); // "function"
 * ```
 */
export interface ExtensionContext {
  /** This member's id. */
  readonly id: bigint;
  /** What sends the transport's requests to peers. */
  readonly dialer: Dialer;
  /** The transport's logger (every line carries this member's id). */
  readonly logger: Logger;
  /** Where the transport stores received snapshots. */
  readonly snapshotSink: SnapshotSink;
  /** Aborts when the transport stops. */
  readonly signal: AbortSignal;
  /**
   * The headers of a request to a peer: etcd's identity headers, `extra`,
   * and the signature when request signing is on.
   */
  headers(
    method: string,
    url: string,
    extra?: Record<string, string>,
  ): Promise<Record<string, string>>;
  /**
   * The checks every peer request passes (versions and cluster id: 400 or
   * 412; a peer cut off by the test hook: 503), in etcd's order. Returns
   * the id in `X-Server-From`, undefined when it is absent or malformed.
   * Throws the refusal, which a route lets propagate.
   */
  checkRequest(req: Request): bigint | undefined;
  /**
   * The sender as etcd's POST endpoints require it: 400 without one, 403
   * if it was removed, 404 if it is not a peer. Throws the refusal.
   */
  checkSender(from: bigint | undefined): bigint;
}

/**
 * The hooks of a started extension; every one is optional.
 *
 * @example
 * ```ts
 * import type { ExtensionHooks } from "@rafthttp/rafthttp";
 * // Offers a feature on stream dials and notes who accepted it.
 * const accepted = new Set<bigint>();
 * const hooks: ExtensionHooks = {
 *   requestHeaders: () => ({ "X-Rafthttp-Example": "1" }),
 *   responseHeaders(from, _path, headers) {
 *     if (headers.get("X-Rafthttp-Example") === "1") accepted.add(from);
 *   },
 *   answerHeaders: (req) =>
 *     req.headers.get("X-Rafthttp-Example") === "1" ? { "X-Rafthttp-Example": "1" } : undefined,
 * };
 * console.log(Object.keys(hooks).length); // 3
 * ```
 */
export interface ExtensionHooks {
  /**
   * Endpoints on the peer port, by path: under `/raft/`, none of etcd's.
   * The transport authenticates the request (when signing is on), checks
   * the method, and adds the cluster id header to the answer, as for its
   * own POST endpoints; the route makes the peer checks it needs
   * ({@link ExtensionContext.checkRequest}). Read once, at start.
   */
  readonly routes?: Readonly<Record<string, ExtensionRoute>>;
  /**
   * Headers added to our stream dial to peer `to` (negotiation; name them
   * `X-Rafthttp-*`: etcd's own headers are never replaced). `path` is the
   * stream's path.
   */
  requestHeaders?(to: bigint, path: string): Record<string, string> | undefined;
  /** The headers of peer `from`'s answer to our stream dial, before the stream is read. */
  responseHeaders?(from: bigint, path: string, headers: Headers): void;
  /** Headers added to our answer (200) to a peer's stream dial, as `req` asks. */
  answerHeaders?(req: Request, path: string): Record<string, string> | undefined;
  /**
   * May take over sending a snapshot: the promise of the outcome, or
   * undefined (decided at once) to leave it to the next extension and, in
   * the end, to etcd's single `POST /raft/snapshot`.
   */
  sendSnapshot?(send: SnapshotSend): Promise<SnapshotSendOutcome> | undefined;
  /**
   * May take over receiving a snapshot whose MsgSnap passed the checks:
   * resolves undefined to leave it to the next extension and, in the end,
   * to etcd's protocol (whose body is the data as it is). Rejecting refuses
   * the request; the transport then cancels the body.
   */
  receiveSnapshot?(receive: SnapshotReceive): Promise<SnapshotIntake | undefined>;
  /** Releases the extension's timers and storage; the transport's `stop()` waits for it. */
  stop?(): Promise<void>;
}

/**
 * An endpoint of an extension on the peer port.
 *
 * @example
 * ```ts
 * import type { ExtensionContext, ExtensionRoute } from "@rafthttp/rafthttp";
 * function whoAmI(ctx: ExtensionContext): ExtensionRoute {
 *   return {
 *     method: "GET",
 *     handle(req) {
 *       const from = ctx.checkSender(ctx.checkRequest(req));
 *       return Response.json({ you: from.toString(16), me: ctx.id.toString(16) });
 *     },
 *   };
 * }
 * console.log(typeof whoAmI); // "function"
 * ```
 */
export interface ExtensionRoute {
  /** The method it answers; others get 405. Any method when absent. */
  readonly method?: string;
  /** Answers the request; a thrown refusal of the transport becomes etcd's reply, anything else 500. */
  handle(req: Request): Promise<Response> | Response;
}

/**
 * A snapshot send an extension may take over; see
 * {@link ExtensionHooks.sendSnapshot}.
 *
 * @example
 * ```ts
 * import type { SnapshotSend, SnapshotSendOutcome } from "@rafthttp/rafthttp";
 * // etcd's protocol, tried twice: what an extension's send looks like.
 * async function twice(send: SnapshotSend): Promise<SnapshotSendOutcome> {
 *   let bytes = 0;
 *   for (let attempt = 0;; attempt++) {
 *     const url = send.url();
 *     const data = attempt === 0 ? send.snapshot.body : send.snapshot.reopen?.(0);
 *     if (data === undefined) return { error: new Error("cannot read it again"), url, bytes };
 *     send.progress.attempt(0);
 *     const r = await send.post(url, send.plainBody(data), {});
 *     send.progress.flush();
 *     bytes += r.bytes;
 *     if (r.error === undefined || attempt === 1) return { error: r.error, url, bytes };
 *     send.retrying(attempt + 1, 0, r.error);
 *   }
 * }
 * console.log(typeof twice); // "function"
 * ```
 */
export interface SnapshotSend {
  /** The snapshot (its `reopen` reads the data again, when given). */
  readonly snapshot: SnapshotMessage;
  /** The peer it goes to. */
  readonly to: bigint;
  /** Aborts when the send is to stop (the peer removed, the transport stopped). */
  readonly signal: AbortSignal;
  /** Its progress reports (`snapshot.progress`, `onProgress`): data bytes, per attempt. */
  readonly progress: SendProgress;
  /** The peer's URL to use now (the transport's channels fail over between its URLs). */
  url(): string;
  /**
   * One `POST /raft/snapshot` to `url`: the MsgSnap frame, then what `body`
   * yields, with `headers` added to etcd's; bounded by the snapshot
   * progress and answer timeouts. Resolves the error if it failed (never
   * rejects) and the bytes put on the wire.
   */
  post(
    url: string,
    body: SnapshotBody,
    headers: Record<string, string>,
  ): Promise<{ error?: Error; bytes: number }>;
  /** etcd's body: `data` as it is, exactly `snapshot.totalSize` bytes, counted in `progress`. */
  plainBody(data: ReadableStream<Uint8Array>): SnapshotBody;
  /** Counts and logs that a broken attempt will be retried (attempt `attempt`, in `delayMs`). */
  retrying(attempt: number, delayMs: number, error: Error): void;
}

/**
 * How a taken-over send ended: the error if it failed, the URL of its last
 * attempt, the bytes put on the wire in all.
 *
 * @example
 * ```ts
 * import type { SnapshotSendOutcome } from "@rafthttp/rafthttp";
 * const ok: SnapshotSendOutcome = { url: "http://10.0.0.2:2380", bytes: 4096 };
 * console.log(ok.error === undefined); // true
 * ```
 */
export interface SnapshotSendOutcome {
  /** Why it failed; undefined when the peer accepted the snapshot. */
  error?: Error;
  /** The URL of the last attempt. */
  url: string;
  /** Bytes put on the wire over all attempts. */
  bytes: number;
}

/**
 * What a `POST /raft/snapshot` body pulls after the MsgSnap frame.
 *
 * @example
 * ```ts
 * import type { SnapshotBody } from "@rafthttp/rafthttp";
 * function once(bytes: Uint8Array): SnapshotBody {
 *   let sent = false;
 *   return {
 *     next: () => Promise.resolve(sent ? undefined : (sent = true, bytes)),
 *     cancel: () => Promise.resolve(),
 *   };
 * }
 * console.log(await once(new Uint8Array(3)).next()); // Uint8Array(3) [ 0, 0, 0 ]
 * ```
 */
export interface SnapshotBody {
  /** The next bytes to send; undefined at the end. A rejection fails the POST. */
  next(): Promise<Uint8Array | undefined>;
  /** Releases what the body reads from. */
  cancel(reason?: unknown): Promise<void>;
}

/**
 * The progress reports of a send, in data bytes.
 *
 * @example
 * ```ts
 * import type { SendProgress } from "@rafthttp/rafthttp";
 * function count(p: SendProgress, chunks: Uint8Array[]) {
 *   p.attempt(0);
 *   for (const c of chunks) p.add(c.length);
 *   p.flush();
 *   return p.current.sent;
 * }
 * console.log(typeof count); // "function"
 * ```
 */
export interface SendProgress {
  /** A new attempt starting at data byte `from` (bytes the receiver already holds). */
  attempt(from: number): void;
  /** `n` more data bytes went out. */
  add(n: number): void;
  /** Reports the attempt's figures now (at its end). */
  flush(): void;
  /** The latest figures. */
  readonly current: SnapshotProgress;
}

/**
 * A snapshot receive an extension may take over; see
 * {@link ExtensionHooks.receiveSnapshot}.
 *
 * @example
 * ```ts
 * import type { SnapshotIntake, SnapshotReceive } from "@rafthttp/rafthttp";
 * // Takes only requests that say so, and passes their data through as it is.
 * function take(r: SnapshotReceive): Promise<SnapshotIntake | undefined> {
 *   if (r.request.headers.get("X-Rafthttp-Example") !== "1") return Promise.resolve(undefined);
 *   let done = false;
 *   const data = r.body.pipeThrough(new TransformStream({ flush: () => { done = true; } }));
 *   return Promise.resolve({
 *     data, offset: 0, size: 0, complete: () => done, corrupt: () => false, settle: () => Promise.resolve(),
 *   });
 * }
 * console.log(typeof take); // "function"
 * ```
 */
export interface SnapshotReceive {
  /** The `POST /raft/snapshot` request: its headers (its body is the transport's to read). */
  readonly request: Request;
  /** The MsgSnap at the head of the body, checked. */
  readonly message: Message;
  /** The bytes after the MsgSnap, as they arrive. */
  readonly body: ReadableStream<Uint8Array>;
}

/**
 * A receive an extension took over: what the sink reads, and how the
 * transport learns how it went.
 *
 * @example
 * ```ts
 * import type { SnapshotIntake } from "@rafthttp/rafthttp";
 * const intake: SnapshotIntake = {
 *   data: ReadableStream.from([new Uint8Array(4)]),
 *   offset: 0,
 *   size: 4,
 *   complete: () => true,
 *   corrupt: () => false,
 *   settle: () => Promise.resolve(),
 * };
 * console.log(intake.size); // 4
 * ```
 */
export interface SnapshotIntake {
  /** The snapshot data as the sink is to read it. */
  readonly data: ReadableStream<Uint8Array>;
  /** Data bytes held from before this request (an earlier request of the same transfer). */
  readonly offset: number;
  /** The data's size in all, as announced (0 if unknown). */
  readonly size: number;
  /** True once all of `data` arrived and checked out. */
  complete(): boolean;
  /** True if the data failed the extension's check: the transport answers 400, keeping nothing. */
  corrupt(): boolean;
  /** Called once when the receive ends: `ok` when the snapshot was stored. */
  settle(ok: boolean): Promise<void>;
  /** Stores the data itself (reading `data` to its end) instead of the sink's `save`. */
  save?(signal: AbortSignal): Promise<void>;
}
