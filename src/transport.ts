/**
 * The Transport: the table of peers and remotes, message routing, the HTTP
 * handler, and the lifecycle that owns them all.
 *
 * @module
 */

import type { Message } from "../raftpb/raft_pb.ts";
import { type Config, resolveOptions, type TransportOptions } from "./options.ts";
import { F, RateLimitedLog } from "./logger.ts";
import { Registry } from "./metrics/registry.ts";
import { INSTRUMENTS } from "./metrics/etcd.ts";
import { EXPOSITION_CONTENT_TYPE, writeExposition } from "./metrics/exposition.ts";
import { OtelBridge } from "./metrics/otel.ts";
import { type PeerStatusReport, TransportPeer } from "./peer/peer.ts";
import { Remote } from "./peer/remote.ts";
import type { SnapshotMessage } from "./snapshot/message.ts";
import { createHandler } from "./http/router.ts";
import { Admission } from "./http/admission.ts";
import { formatId, H, parseId, requestHeaders } from "./http/headers.ts";
import { HttpError } from "./http/http_error.ts";
import { StoppedError } from "./errors.ts";
import type { MemberInfo } from "./http/member_info.ts";
import { ExtensionHost } from "./extension/host.ts";
import type { ExtensionContext } from "./extension/extension.ts";
import { defaultExtensions } from "./extensions/defaults.ts";
import { errorMessage } from "./util/error_message.ts";

/**
 * What a raft node needs from its network layer (etcd's `Transporter`).
 *
 * @example
 * ```ts
 * import type { Message, Transporter } from "@rafthttp/rafthttp";
 * function deliver(t: Transporter, msgs: Message[]) {
 *   t.send(msgs); // never blocks; undeliverable messages are reported to raft
 * }
 * console.log(typeof deliver); // "function"
 * ```
 */
export interface Transporter {
  /** Starts the transport: peers added so far begin dialling. */
  start(): void;
  /** The HTTP handler of the peer port: everything under `/raft`, `GET /version`, `GET /members`. */
  handler(): (req: Request) => Promise<Response>;
  /** Sends messages to their `to` members without blocking; `to == 0` is skipped. */
  send(msgs: Message[]): void;
  /** Sends a snapshot (MsgSnap + data) to `m.message.to`. */
  sendSnapshot(m: SnapshotMessage): void;
  /** Adds a pipeline-only member (not yet a peer); a no-op if known. */
  addRemote(id: bigint, urls: string[]): void;
  /** Adds a peer; a no-op if it exists. Throws TypeError on invalid URLs. */
  addPeer(id: bigint, urls: string[]): void;
  /** Removes a peer, closing its streams and requests. */
  removePeer(id: bigint): Promise<void>;
  /** Removes every peer. */
  removeAllPeers(): Promise<void>;
  /** Replaces a peer's URLs. */
  updatePeer(id: bigint, urls: string[]): void;
  /** When peer `id` became active, or undefined if it is not active (or unknown). */
  activeSince(id: bigint): Date | undefined;
  /** How many peers are active. */
  activePeers(): number;
  /** Stops everything; resolves when all streams, requests and timers are released. */
  stop(): Promise<void>;
}

/**
 * The network layer of one raft member: etcd's rafthttp transport over
 * fetch and Web streams. Serve {@link Transport.handler} on the member's
 * peer URLs (or use `serve`), add the other members with `addPeer`, and
 * hand it raft's outgoing messages with `send`.
 *
 * @example
 * ```ts
 * import { create } from "@rafthttp/rafthttp";
 * import { MessageSchema, MessageType, Transport } from "@rafthttp/rafthttp";
 *
 * await using transport = new Transport({
 *   id: 1n,
 *   clusterId: 0xc1n,
 *   urls: ["http://127.0.0.1:12380"],
 *   raft: { process(m) { console.log("got", m.type); }, isIDRemoved: () => false, reportUnreachable() {}, reportSnapshot() {} },
 *   probeIntervalMs: 0,
 * });
 * transport.start();
 * transport.addPeer(2n, ["http://127.0.0.1:12381"]);
 * transport.send([create(MessageSchema, { type: MessageType.MsgHeartbeat, from: 1n, to: 2n })]);
 * console.log(transport.activePeers()); // 0 until peer 2 answers
 * ```
 */
export class Transport implements Transporter, AsyncDisposable {
  readonly #cfg: Config;
  readonly #log: RateLimitedLog;
  readonly #admission: Admission;
  readonly #extensions: ExtensionHost;
  readonly #peers = new Map<bigint, TransportPeer>();
  readonly #remotes = new Map<bigint, Remote>();
  readonly #stop = new AbortController();
  #handler: ((req: Request) => Promise<Response>) | undefined;
  #started = false;
  #stopping: Promise<void> | undefined;
  readonly #registry: Registry;
  readonly #otel: OtelBridge;

  /** Creates a transport; see {@link TransportOptions}. Nothing runs until {@link start}. */
  constructor(options: TransportOptions) {
    this.#cfg = resolveOptions(options);
    this.#log = new RateLimitedLog(this.#cfg.logger, this.#cfg.logIntervalMs);
    this.#admission = new Admission(this.#cfg, this.#log, {
      addRemote: (id, urls) => this.addRemote(id, urls),
      isCut: (id) => this.#peers.get(id)?.isCut === true,
    });
    try {
      this.#extensions = new ExtensionHost(
        options.extensions ?? defaultExtensions(),
        this.#extensionContext(),
      );
    } catch (e) {
      this.#cfg.closeDialer(); // nothing else was started
      throw e;
    }
    const peers = this.#peers;
    const remotes = this.#remotes;
    this.#registry = new Registry(INSTRUMENTS, {
      local: formatId(this.#cfg.id),
      peers: () => peers.values(),
      remotes: () => [...remotes.values()].filter((r) => !peers.has(r.id)),
    });
    this.#otel = new OtelBridge(INSTRUMENTS, this.#registry, options.meterProvider);
  }

  /** What extensions get: the transport's identity, dialer, sink, and its peer checks. */
  #extensionContext(): ExtensionContext {
    const cfg = this.#cfg;
    const admission = this.#admission;
    return {
      id: cfg.id,
      dialer: cfg.dialer,
      logger: cfg.logger,
      snapshotSink: cfg.snapshotSink,
      signal: this.#stop.signal,
      headers: (method, url, extra) => requestHeaders(cfg, method, url, extra),
      checkRequest(req) {
        admission.compatible(req);
        const from = parseId(req.headers.get(H.from));
        admission.notCut(from);
        return from;
      },
      checkSender: (from) => {
        if (from === undefined) throw new HttpError(400, "missing X-Server-From");
        admission.notRemoved(from);
        if (!this.#peers.has(from)) throw new HttpError(404, "404 page not found");
        return from;
      },
    };
  }

  /** This member's id. */
  get id(): bigint {
    return this.#cfg.id;
  }

  /** Starts the transport; peers added before begin dialling now. */
  start(): void {
    if (this.#started || this.#stop.signal.aborted) return;
    this.#started = true;
    for (const p of this.#peers.values()) p.start();
  }

  /**
   * The handler of the peer port (the same function on every call): every
   * endpoint under `/raft`, plus `GET /version` and `GET /members` as an etcd
   * member serves them (see `clusterVersion` and `members` in the options);
   * any other path gets etcd's 404. Serve it on any server that speaks
   * fetch's types (`Deno.serve`, `Bun.serve`, a Worker's `fetch`).
   */
  handler(): (req: Request) => Promise<Response> {
    this.#handler ??= createHandler(
      {
        admission: this.#admission,
        log: this.#log,
        peer: (id) => this.#peers.get(id),
        members: this.#cfg.members ?? (() => this.#members()),
        signal: this.#stop.signal,
        extensions: this.#extensions,
      },
      this.#cfg,
      this.#log,
    );
    return this.#handler;
  }

  /** The default member list of `GET /members`: this member and the peers. */
  #members(): MemberInfo[] {
    const self = { id: this.#cfg.id, peerURLs: this.#cfg.urls };
    return [self, ...[...this.#peers.values()].map((p) => ({ id: p.id, peerURLs: p.urls }))];
  }

  /** Routes each message to its peer (or remote); see {@link Transporter.send}. */
  send(msgs: Message[]): void {
    for (const m of msgs) {
      if (m.to === 0n) continue;
      const p = this.#peers.get(m.to);
      if (p !== undefined) {
        p.send(m);
        continue;
      }
      const r = this.#remotes.get(m.to);
      if (r !== undefined) {
        r.send(m);
        continue;
      }
      this.#log.event(`unknown-to:${m.to}`, "debug", "ignored a message to an unknown member", {
        [F.remote]: formatId(m.to),
      });
    }
  }

  /** Sends a snapshot; an unknown target fails it at once (`done` resolves false). */
  sendSnapshot(m: SnapshotMessage): void {
    const p = this.#peers.get(m.message.to);
    if (p === undefined) {
      this.#log.event(
        `snap-unknown:${m.message.to}`,
        "warn",
        "cannot send a snapshot: member not found",
        { [F.remote]: formatId(m.message.to) },
      );
      m.close(false);
      return;
    }
    p.sendSnap(m);
  }

  /** Adds a pipeline-only member; a no-op if it is a peer or remote, or after stop. */
  addRemote(id: bigint, urls: string[]): void {
    if (this.#stop.signal.aborted || this.#peers.has(id) || this.#remotes.has(id)) return;
    if (this.#remotes.size >= this.#cfg.maxRemotes) {
      this.#log.event(
        "remote-limit",
        "warn",
        "not adding a remote: the limit of remotes is reached",
        { [F.remote]: formatId(id), limit: this.#cfg.maxRemotes },
      );
      return;
    }
    this.#remotes.set(id, new Remote(id, urls, this.#cfg, this.#log));
    this.#log.event(`remote:${id}`, "info", "added a remote member (pipeline only)", {
      [F.remote]: formatId(id),
      urls,
    });
  }

  /** Adds a peer and, once started, begins dialling it. Throws TypeError on invalid URLs. */
  addPeer(id: bigint, urls: string[]): void {
    if (this.#stop.signal.aborted) {
      throw new StoppedError("cannot add a peer: the transport was stopped");
    }
    if (this.#peers.has(id)) return;
    if (id === this.#cfg.id) {
      throw new TypeError(`cannot add this member (${formatId(id)}) as its own peer`);
    }
    const p = new TransportPeer(
      id,
      urls,
      this.#cfg,
      this.#log,
      this.#extensions,
      this.#otel.recorder,
    );
    this.#peers.set(id, p);
    if (this.#started) p.start();
    this.#log.event(`peer:${id}`, "info", "added a peer", { [F.remote]: formatId(id), urls });
  }

  /** Removes a peer, closing its streams, requests and timers. */
  async removePeer(id: bigint): Promise<void> {
    const p = this.#peers.get(id);
    if (p === undefined) return;
    this.#peers.delete(id);
    await p.stop();
    this.#log.event(`peer:${id}`, "info", "removed a peer", { [F.remote]: formatId(id) });
  }

  /** Removes every peer. */
  async removeAllPeers(): Promise<void> {
    await Promise.all([...this.#peers.keys()].map((id) => this.removePeer(id)));
  }

  /** Replaces a peer's URLs; throws TypeError on invalid ones. */
  updatePeer(id: bigint, urls: string[]): void {
    this.#peers.get(id)?.update(urls);
  }

  /** When peer `id` became active, or undefined. */
  activeSince(id: bigint): Date | undefined {
    return this.#peers.get(id)?.activeSince();
  }

  /** Number of active peers. */
  activePeers(): number {
    let n = 0;
    for (const p of this.#peers.values()) if (p.status.active) n++;
    return n;
  }

  /** Ids of the current peers. */
  peers(): bigint[] {
    return [...this.#peers.keys()];
  }

  /** State, queues and counters of one peer, for monitoring. */
  peerStatus(id: bigint): PeerStatusReport | undefined {
    return this.#peers.get(id)?.report();
  }

  /**
   * etcd's rafthttp metrics (and ours, under `rafthttp_`) in the Prometheus
   * text exposition format 0.0.4, for a `/metrics` endpoint. Series exist
   * for the current peers; a removed peer's series go with it.
   */
  metrics(): string {
    return writeExposition(this.#registry);
  }

  /**
   * A handler answering any request with {@link metrics} (content type
   * `text/plain; version=0.0.4`): mount it on `/metrics` in any runtime's
   * server; `serve(transport, { metrics: true })` does on Deno.
   */
  metricsHandler(): (req: Request) => Response {
    return (req) => {
      if (req.method !== "GET" && req.method !== "HEAD") {
        return new Response("Method Not Allowed\n", { status: 405, headers: { Allow: "GET" } });
      }
      const body = req.method === "HEAD" ? null : this.metrics();
      return new Response(body, { headers: { "Content-Type": EXPOSITION_CONTENT_TYPE } });
    };
  }

  /** Test hook (etcd's Pause): every peer drops what it sends and receives; links stay up. */
  pause(): void {
    for (const p of this.#peers.values()) p.pause(true);
    for (const r of this.#remotes.values()) r.pause(true);
  }

  /** Test hook (etcd's Resume): undoes {@link pause}. */
  resume(): void {
    for (const p of this.#peers.values()) p.pause(false);
    for (const r of this.#remotes.values()) r.pause(false);
  }

  /** Test hook (etcd's CutPeer): drops all traffic with one peer and stops dialling it. */
  cutPeer(id: bigint): void {
    this.#peers.get(id)?.cut(true);
    this.#remotes.get(id)?.pause(true);
  }

  /** Test hook (etcd's MendPeer): undoes {@link cutPeer}. */
  mendPeer(id: bigint): void {
    this.#peers.get(id)?.cut(false);
    this.#remotes.get(id)?.pause(false);
  }

  /** Stops everything; resolves once every stream, request, timer and loop is released. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#stop.abort(new StoppedError());
      const all = [...this.#peers.values(), ...this.#remotes.values()];
      this.#peers.clear();
      this.#remotes.clear();
      await Promise.all(all.map((p) => p.stop()));
      this.#cfg.closeDialer();
      await this.#extensions.stop().catch((e) =>
        this.#log.event("extension-stop", "warn", "an extension failed to stop", {
          [F.error]: errorMessage(e),
        })
      );
      this.#otel.close();
      this.#log.close();
    })();
    return this.#stopping;
  }

  /** `await using` support: stops the transport. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}
