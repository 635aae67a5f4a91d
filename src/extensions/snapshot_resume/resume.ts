/**
 * The negotiation of the snapshot extension. Before a send, the sender asks
 * `GET /raft/snapshot/resume?transfer=&index=&term=&size=&window=&digest=`;
 * a member of this library answers 200 `{"offset":N,"digest":"sha256"}` (the
 * data bytes it already holds of that transfer), an etcd member 404 (its
 * peer port has no such route) and the sender then speaks etcd's protocol
 * unchanged. Only after a 200 does the `POST /raft/snapshot` carry the
 * `X-Rafthttp-Snapshot-*` headers and the framed body of `framing.ts`.
 *
 * @module
 */

import type { Message } from "../../../raftpb/raft_pb.ts";
import type { ExtensionContext, ExtensionRoute } from "../../extension/extension.ts";
import { HttpError } from "../../http/http_error.ts";
import { loadDigests } from "./digest.ts";
import type { ResumeKey, ResumeStore } from "./resume_store.ts";

/** The path of the resume query. */
export const RESUME_PATH = "/raft/snapshot/resume";

/** The headers of an extended `POST /raft/snapshot`. */
export const SNAP_H = {
  transfer: "X-Rafthttp-Snapshot-Transfer",
  size: "X-Rafthttp-Snapshot-Size",
  offset: "X-Rafthttp-Snapshot-Offset",
  window: "X-Rafthttp-Snapshot-Window",
  digest: "X-Rafthttp-Snapshot-Digest",
  /** "1": the sender will not resume this transfer (no `reopen`, or no retry left). */
  final: "X-Rafthttp-Snapshot-Final",
} as const;

/** What both sides agree on for one attempt. */
export interface TransferParams {
  transfer: string;
  index: bigint;
  term: bigint;
  size: number;
  window: number;
  digest: string;
}

const TRANSFER_RE = /^[0-9a-zA-Z-]{1,64}$/;
const MIN_WINDOW = 4096;
const MAX_WINDOW = 64 << 20;

/** The query string of the resume query (`digest`: the names offered, best first, comma-separated). */
export function resumeQuery(p: TransferParams): string {
  const q = new URLSearchParams({
    transfer: p.transfer,
    index: String(p.index),
    term: String(p.term),
    size: String(p.size),
    window: String(p.window),
    digest: p.digest,
  });
  return `${RESUME_PATH}?${q}`;
}

/**
 * The headers of an extended POST starting at `offset`; `final`: the sender
 * will not resume it, so a receiver keeps nothing if it breaks.
 */
export function extensionHeaders(
  p: TransferParams,
  offset: number,
  final = false,
): Record<string, string> {
  return {
    [SNAP_H.transfer]: p.transfer,
    [SNAP_H.size]: String(p.size),
    [SNAP_H.offset]: String(offset),
    [SNAP_H.window]: String(p.window),
    [SNAP_H.digest]: p.digest,
    ...(final ? { [SNAP_H.final]: "1" } : {}),
  };
}

function integer(name: string, v: string | null, max = Number.MAX_SAFE_INTEGER): number {
  const n = v === null || !/^\d{1,16}$/.test(v) ? NaN : Number(v);
  if (!Number.isSafeInteger(n) || n > max) {
    throw new HttpError(400, `invalid snapshot ${name} ${JSON.stringify(v)}`);
  }
  return n;
}

function bigint(name: string, v: string | null): bigint {
  if (v === null || !/^\d{1,20}$/.test(v)) {
    throw new HttpError(400, `invalid snapshot ${name} ${JSON.stringify(v)}`);
  }
  return BigInt(v);
}

function transferAndWindow(transfer: string | null, window: string | null) {
  if (transfer === null || !TRANSFER_RE.test(transfer)) {
    throw new HttpError(400, `invalid snapshot transfer id ${JSON.stringify(transfer)}`);
  }
  const w = integer("window", window, MAX_WINDOW);
  if (w < MIN_WINDOW) throw new HttpError(400, `snapshot window ${w} is below ${MIN_WINDOW}`);
  return { transfer, window: w };
}

/**
 * The extension headers of an extended POST, checked (400 if malformed), or
 * undefined for etcd's plain POST.
 */
export function parseExtension(
  headers: Headers,
  m: Message,
): { params: TransferParams; offset: number; final: boolean } | undefined {
  const window = headers.get(SNAP_H.window);
  if (window === null) return undefined;
  const tw = transferAndWindow(headers.get(SNAP_H.transfer), window);
  const size = integer("size", headers.get(SNAP_H.size));
  const offset = integer("offset", headers.get(SNAP_H.offset));
  if (offset > size) {
    throw new HttpError(400, `snapshot offset ${offset} is beyond its size ${size}`);
  }
  const meta = m.snapshot?.metadata;
  return {
    params: {
      ...tw,
      size,
      index: meta?.index ?? 0n,
      term: meta?.term ?? 0n,
      digest: headers.get(SNAP_H.digest) ?? "",
    },
    offset,
    final: headers.get(SNAP_H.final) === "1",
  };
}

/** The store key of a transfer from `from`. */
export function keyOf(from: bigint, p: TransferParams): ResumeKey {
  return {
    from,
    index: p.index,
    term: p.term,
    size: p.size,
    window: p.window,
    transfer: p.transfer,
    digest: p.digest,
  };
}

/**
 * The route of the resume query. It passes the same checks as
 * `POST /raft/snapshot` (the router's authentication, versions, cluster id,
 * the cut hook, a sender that is not removed); where the digest is unknown
 * it answers 404, as etcd does.
 */
export function resumeRoute(ctx: ExtensionContext, store: ResumeStore): ExtensionRoute {
  return {
    method: "GET",
    async handle(req) {
      const from = ctx.checkRequest(req);
      const q = new URL(req.url).searchParams;
      // The first of the sender's digests (best first) that we have.
      const ours = await loadDigests();
      const offered = (q.get("digest") ?? "").split(",");
      const digest = offered.map((n) => ours.find((d) => d.name === n)).find((d) => !!d);
      if (digest === undefined) throw new HttpError(404, "404 page not found");
      const sender = ctx.checkSender(from);
      const tw = transferAndWindow(q.get("transfer"), q.get("window"));
      const params: TransferParams = {
        ...tw,
        index: bigint("index", q.get("index")),
        term: bigint("term", q.get("term")),
        size: integer("size", q.get("size")),
        digest: digest.name,
      };
      const offset = store.offset(keyOf(sender, params));
      return new Response(JSON.stringify({ offset, digest: digest.name }), {
        status: 200,
        headers: { "Content-Type": "application/json" },
      });
    },
  };
}
