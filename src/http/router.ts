/**
 * The HTTP side: a web-standard `(Request) => Promise<Response>` serving
 * everything under `/raft`, with etcd's routes, checks (in etcd's order) and
 * status codes, plus bounds etcd lacks. It never throws: every failure is a
 * response.
 *
 * @module
 */

import type { Message } from "../raftpb/raft_pb.ts";
import { MessageType } from "../raftpb/raft_pb.ts";
import type { Config } from "../options.ts";
import type { RateLimitedLog } from "../logger.ts";
import type { TransportPeer } from "../peer/peer.ts";
import type { PeerStats } from "../peer/stats.ts";
import type { StreamType } from "../stream/writer.ts";
import { checkVersionCompatibility, formatId, H, parseId } from "./headers.ts";
import { decodeMessage, decodeMessageAt } from "../codec/protobuf.ts";
import { ChunkQueue } from "../codec/chunk_queue.ts";
import { BodyTooLargeError, readLimited } from "./body.ts";
import { DecodeError, FrameTooLargeError, TruncatedFrameError } from "../errors.ts";
import { probingBody } from "./probing.ts";
import { spool } from "../snapshot/spool.ts";

/** What the handler needs from the transport. */
export interface HandlerContext {
  cfg: Config;
  log: RateLimitedLog;
  /** The peer with this id, if it is one. */
  peer(id: bigint): TransportPeer | undefined;
  /** etcd's addRemote: a no-op for known peers and remotes. Throws TypeError on bad URLs. */
  addRemote(id: bigint, urls: string[]): void;
  /** The counters of peer `from`, if it is one (POSTs are counted there). */
  stats(from: bigint): PeerStats | undefined;
  /** Aborts when the transport stops. */
  signal: AbortSignal;
}

/** An error reply as Go's `http.Error` writes it. */
function httpError(status: number, text: string, headers: Record<string, string> = {}): Response {
  return new Response(text + "\n", {
    status,
    headers: {
      ...headers,
      "Content-Type": "text/plain; charset=utf-8",
      "X-Content-Type-Options": "nosniff",
    },
  });
}

const STREAM_TYPES: Record<string, StreamType> = {
  "/raft/stream/message": "message",
  "/raft/stream/msgapp": "msgappv2",
};

/** Builds the handler for a transport. */
export function createHandler(ctx: HandlerContext): (req: Request) => Promise<Response> {
  const { cfg } = ctx;
  const localId = formatId(cfg.id);
  const clusterId = formatId(cfg.clusterId);
  let snapshotsInFlight = 0;

  /** etcd's version and cluster checks; a response when they fail. */
  function compatibility(req: Request, headers: Record<string, string>): Response | undefined {
    const v = checkVersionCompatibility(req.headers, cfg.serverVersion, cfg.minClusterVersion);
    if (v === "malformed") {
      return httpError(400, "malformed X-Server-Version or X-Min-Cluster-Version header", headers);
    }
    if (v === "incompatible") {
      ctx.log.event(`refused:version`, "warn", "refused a peer request: incompatible version", {
        from: req.headers.get(H.from),
        version: req.headers.get(H.serverVersion),
        minClusterVersion: req.headers.get(H.minClusterVersion),
      });
      return httpError(412, "incompatible version", headers);
    }
    const gotCluster = req.headers.get(H.clusterId);
    if (gotCluster !== clusterId) {
      ctx.log.event(`refused:cluster`, "error", "refused a peer request: cluster ID mismatch", {
        from: req.headers.get(H.from),
        remoteClusterId: gotCluster,
        localClusterId: clusterId,
      });
      return httpError(412, "cluster ID mismatch", headers);
    }
    return undefined;
  }

  /** etcd's addRemoteFromRequest; a response when the URLs are invalid. */
  function addRemoteFromRequest(
    req: Request,
    headers: Record<string, string>,
  ): Response | undefined {
    const from = parseId(req.headers.get(H.from));
    const urls = req.headers.get(H.peerUrls);
    if (from === undefined || !urls) return undefined;
    try {
      ctx.addRemote(from, urls.split(","));
    } catch (e) {
      return httpError(400, `invalid X-PeerURLs: ${(e as Error).message}`, headers);
    }
    return undefined;
  }

  /** A response if the sender is cut off by the test hook, as if the network were. */
  function cutOff(from: bigint | undefined, headers: Record<string, string>): Response | undefined {
    if (from === undefined || ctx.peer(from)?.isCut !== true) return undefined;
    return httpError(503, "this peer is cut off (test hook)", headers);
  }

  /**
   * The checks both POST endpoints make before reading a body, in etcd's
   * order: method, versions and cluster id, then learning a remote from the
   * headers. A refused request's body is discarded.
   */
  async function checkPost(req: Request, headers: Record<string, string>) {
    const refused = req.method !== "POST"
      ? httpError(405, "Method Not Allowed", { Allow: "POST" })
      : compatibility(req, headers) ?? addRemoteFromRequest(req, headers) ??
        cutOff(parseId(req.headers.get(H.from)), headers);
    if (refused !== undefined) await req.body?.cancel().catch(() => {});
    return refused;
  }

  /** Turns an error from `Raft.process` into etcd's reply. */
  function processError(e: unknown, fallback: string, headers: Record<string, string>): Response {
    const status = (e as { status?: unknown })?.status;
    const msg = e instanceof Error ? e.message : String(e);
    if (typeof status === "number" && status >= 400 && status < 600) {
      return httpError(status, msg, headers);
    }
    return httpError(500, fallback.replace("%s", msg), headers);
  }

  async function pipeline(req: Request): Promise<Response> {
    const headers = { [H.clusterId]: clusterId };
    const refused = await checkPost(req, headers);
    if (refused !== undefined) return refused;
    let body: Uint8Array;
    try {
      body = await readLimited(
        req.body,
        req.headers.get("Content-Length"),
        cfg.maxPipelineBodySize,
      );
    } catch (e) {
      if (e instanceof BodyTooLargeError) return httpError(413, e.message, headers);
      return httpError(400, "error reading raft message", headers);
    }
    let m: Message;
    try {
      m = decodeMessage(body);
    } catch (e) {
      ctx.log.event(
        "refused:garbage",
        "warn",
        "refused a POST /raft body that is not a raft message",
        {
          from: req.headers.get(H.from),
          error: (e as Error).message,
        },
      );
      return httpError(400, "error unmarshalling raft message", headers);
    }
    const bad = checkSender(req, m);
    if (bad !== undefined) return httpError(bad.status, bad.text, headers);
    const st = ctx.stats(m.from);
    if (st !== undefined) {
      st.receivedMessages++;
      st.receivedOn.pipeline++;
      st.receivedBytes += body.length;
    }
    try {
      await cfg.raft.process(m, ctx.signal);
    } catch (e) {
      return processError(e, "error processing raft message", headers);
    }
    return new Response(null, { status: 204, headers });
  }

  /**
   * Checks that a POSTed message is for us and from whom the headers say,
   * and not from a removed member (etcd intends 403 for those).
   */
  function checkSender(req: Request, m: Message): { status: number; text: string } | undefined {
    if (m.to !== cfg.id) {
      return { status: 400, text: `message is for member ${formatId(m.to)}, not ${localId}` };
    }
    const from = parseId(req.headers.get(H.from));
    if (from !== undefined && from !== m.from) {
      return { status: 400, text: "message from field does not match X-Server-From" };
    }
    if (cfg.raft.isIDRemoved(m.from)) {
      return { status: 403, text: "cannot process message from removed member" };
    }
    return undefined;
  }

  function stream(req: Request, path: string): Response {
    if (req.method !== "GET") return httpError(405, "Method Not Allowed", { Allow: "GET" });
    const headers = { [H.serverVersion]: cfg.serverVersion, [H.clusterId]: clusterId };
    const refused = compatibility(req, headers);
    if (refused !== undefined) return refused;
    const slash = path.lastIndexOf("/");
    const type = STREAM_TYPES[path.slice(0, slash)];
    if (type === undefined) return httpError(404, "invalid path", headers);
    const from = parseId(path.slice(slash + 1));
    if (from === undefined) return httpError(404, "invalid from", headers);
    if (cfg.raft.isIDRemoved(from)) {
      ctx.log.event(`removed:${from}`, "warn", "refused a stream from a removed member", { from });
      return httpError(410, "removed member", headers);
    }
    const peer = ctx.peer(from);
    if (peer === undefined) {
      const urls = req.headers.get(H.peerUrls);
      if (urls) {
        try {
          ctx.addRemote(from, urls.split(","));
        } catch (e) {
          return httpError(400, `invalid X-PeerURLs: ${(e as Error).message}`, headers);
        }
      }
      ctx.log.event(`unknown:${from}`, "warn", "refused a stream from an unknown member", { from });
      return httpError(404, "error sender not found", headers);
    }
    if (req.headers.get(H.raftTo) !== localId) {
      return httpError(412, "to field mismatch", headers);
    }
    if (peer.isCut) return httpError(503, "this peer is cut off (test hook)", headers);
    const sender = req.headers.get(H.from);
    if (sender !== null && parseId(sender) !== from) {
      return httpError(400, "X-Server-From does not match the path", headers);
    }
    return new Response(peer.attachOutgoingConn(type), { status: 200, headers });
  }

  async function snapshot(req: Request): Promise<Response> {
    const headers = { [H.clusterId]: clusterId };
    const refused = await checkPost(req, headers);
    if (refused !== undefined) return refused;
    if (req.body === null) {
      return httpError(400, "failed to decode raft message (empty body)", headers);
    }
    if (snapshotsInFlight >= cfg.maxConcurrentSnapshotReceives) {
      await req.body.cancel().catch(() => {});
      return httpError(
        503,
        `too many snapshots in flight (limit ${cfg.maxConcurrentSnapshotReceives}); retry later`,
        headers,
      );
    }
    snapshotsInFlight++;
    const reader = req.body.getReader();
    let spooled = false;
    try {
      let envelope: { m: Message; rest: Uint8Array };
      try {
        envelope = await readEnvelope(reader, cfg.maxSnapshotEnvelopeSize);
      } catch (e) {
        return httpError(400, `failed to decode raft message (${(e as Error).message})`, headers);
      }
      const { m, rest } = envelope;
      if (m.type !== MessageType.MsgSnap) return httpError(400, "wrong raft message type", headers);
      const bad = checkSender(req, m);
      if (bad !== undefined) return httpError(bad.status, bad.text, headers);
      const index = m.snapshot?.metadata?.index ?? 0n;
      // Counted as they arrive, so that rates show a snapshot in progress.
      const st = ctx.stats(m.from);
      let bytes = 0;
      const count = (n: number) => {
        bytes += n;
        if (st !== undefined) st.receivedBytes += n;
      };
      spooled = true;
      reader.releaseLock();
      const body = spool(req.body, {
        limit: cfg.snapshotSpoolSize,
        progressTimeoutMs: cfg.snapshotProgressTimeoutMs,
        onBytes: count,
      });
      // The bytes that came in the envelope's last chunk go first.
      if (rest.length > 0) count(rest.length);
      const data = rest.length === 0 ? body.stream : prepend(rest, body.stream);
      try {
        // If the sender goes away, `data` errors; the signal covers our own stop.
        await cfg.snapshotSink.save(m, data, ctx.signal);
        if (!body.complete()) {
          throw new Error("the snapshot sink returned before reading all the data");
        }
      } catch (e) {
        await data.cancel().catch(() => {});
        ctx.log.event(
          `snapshot-recv:${m.from}`,
          "warn",
          "failed to receive a snapshot; partial data discarded",
          {
            from: m.from,
            index,
            bytes,
            error: (e as Error).message,
          },
        );
        return httpError(500, `failed to save KV snapshot (${(e as Error).message})`, headers);
      }
      if (st !== undefined) {
        st.receivedMessages++;
        st.receivedOn.pipeline++;
      }
      ctx.log.event(`snapshot-recv:${m.from}`, "info", "received a snapshot", {
        from: m.from,
        index,
        bytes,
      });
      try {
        await cfg.raft.process(m, ctx.signal);
      } catch (e) {
        return processError(e, "failed to process raft message (%s)", headers);
      }
      return new Response(null, { status: 204, headers });
    } finally {
      snapshotsInFlight--;
      if (!spooled) await reader.cancel().catch(() => {});
    }
  }

  return async (req: Request): Promise<Response> => {
    try {
      const path = new URL(req.url).pathname;
      if (cfg.auth !== undefined) {
        const refused = await cfg.auth.verify(req, path);
        if (refused !== undefined) {
          ctx.log.event("refused:auth", "warn", "refused an unauthenticated request", {
            path,
            from: req.headers.get(H.from),
            reason: refused,
          });
          await req.body?.cancel().catch(() => {});
          return httpError(401, `unauthorized: ${refused}`);
        }
      }
      if (path === "/raft") return await pipeline(req);
      if (path.startsWith("/raft/stream/")) return stream(req, path);
      if (path === "/raft/snapshot") return await snapshot(req);
      if (path === "/raft/probing") {
        return new Response(probingBody(), {
          status: 200,
          headers: { "Content-Type": "text/plain; charset=utf-8" },
        });
      }
      return httpError(404, "404 page not found");
    } catch (e) {
      ctx.log.event("handler", "error", "unexpected error in the raft handler", {
        error: e instanceof Error ? e.stack : String(e),
      });
      return httpError(500, "internal error");
    }
  };
}

/** `first`, then everything `rest` yields. */
function prepend(first: Uint8Array, rest: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = rest.getReader();
  let sentFirst = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!sentFirst) {
        sentFirst = true;
        controller.enqueue(first);
        return;
      }
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/**
 * Reads the 8-byte length and the MsgSnap at the head of a snapshot body;
 * returns it and the bytes of the same chunk that already belong to the
 * data.
 */
async function readEnvelope(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  limit: number,
): Promise<{ m: Message; rest: Uint8Array }> {
  const q = new ChunkQueue();
  let size = -1;
  for (;;) {
    if (size < 0 && q.length >= 8) {
      size = q.u64At(0);
      if (size > limit) throw new FrameTooLargeError(0, size, limit);
    }
    if (size >= 0 && q.length >= 8 + size) break;
    const { done, value } = await reader.read();
    if (done) throw new TruncatedFrameError(0, size < 0 ? 8 : 8 + size, q.length);
    q.push(value);
  }
  q.contiguous(8 + size);
  const buf = q.parts[0];
  const start = q.head + 8;
  let m: Message;
  try {
    m = decodeMessageAt(buf, start, start + size, -q.head);
  } catch (e) {
    if (e instanceof DecodeError) throw e;
    throw new DecodeError(String(e), 8);
  }
  q.skip(8 + size);
  if (q.length === 0) return { m, rest: new Uint8Array(0) };
  q.contiguous(q.length);
  return { m, rest: q.parts[0].subarray(q.head) };
}
