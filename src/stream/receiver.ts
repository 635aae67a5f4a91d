/**
 * The server half of a stream: `GET /raft/stream/{message|msgapp}/<from>`.
 * A peer's reader dials it; the answer is an endless body that our writer
 * for that peer and stream type fills.
 *
 * @module
 */

import type { Config } from "../options.ts";
import type { Receiver, ReceiverContext } from "../http/receiver.ts";
import { formatId, H, parseId } from "../http/headers.ts";
import { F } from "../logger.ts";
import { HttpError } from "../http/http_error.ts";
import { parseStreamPath } from "./types.ts";

/** The options the stream receiver reads. */
export type StreamReceiverConfig = Pick<Config, "raft">;

/** Builds the stream receiver, with etcd's checks in etcd's order. */
export function streamReceiver(ctx: ReceiverContext, cfg: StreamReceiverConfig): Receiver {
  const { admission } = ctx;
  return (req, path) => {
    admission.compatible(req);
    const { type, from: fromText } = parseStreamPath(path);
    if (type === undefined) throw new HttpError(404, "invalid path");
    const from = parseId(fromText);
    if (from === undefined) throw new HttpError(404, "invalid from");
    if (cfg.raft.isIDRemoved(from)) {
      ctx.log.event(`removed:${from}`, "warn", "refused a stream from a removed member", {
        [F.remote]: formatId(from),
        [F.stream]: type,
      });
      throw new HttpError(410, "removed member");
    }
    const peer = ctx.peer(from);
    if (peer === undefined) {
      admission.learnRemote(req, from);
      ctx.log.event(`unknown:${from}`, "warn", "refused a stream from an unknown member", {
        [F.remote]: formatId(from),
        [F.stream]: type,
      });
      throw new HttpError(404, "error sender not found");
    }
    if (req.headers.get(H.raftTo) !== admission.localId) {
      throw new HttpError(412, "to field mismatch");
    }
    admission.notCut(from);
    const sender = req.headers.get(H.from);
    if (sender !== null && parseId(sender) !== from) {
      throw new HttpError(400, "X-Server-From does not match the path");
    }
    return new Response(peer.attachOutgoingConn(type), { status: 200 });
  };
}
