/**
 * The receiving half of the pipeline: `POST /raft`, one message per
 * request, answered 204 once raft has processed it.
 *
 * @module
 */

import type { Message } from "../../raftpb/raft_pb.ts";
import type { Config } from "../options.ts";
import type { Receiver, ReceiverContext } from "../http/receiver.ts";
import { H } from "../http/headers.ts";
import { HttpError } from "../http/http_error.ts";
import { BodyTooLargeError, readLimited } from "../http/body.ts";
import { bodySource } from "../http/body_source.ts";
import { decodeMessage } from "../codec/protobuf.ts";
import { errorMessage } from "../util/error_message.ts";
import { F } from "../logger.ts";
import { CH } from "../metrics/peer_metrics.ts";
import { isLocalOnly, refuseLocalOnly } from "../http/local_only.ts";

/** The options the pipeline receiver reads. */
export type PipelineReceiverConfig = Pick<Config, "maxPipelineBodySize">;

/** Builds the `POST /raft` receiver. */
export function pipelineReceiver(ctx: ReceiverContext, cfg: PipelineReceiverConfig): Receiver {
  const { admission } = ctx;
  return async (req) => {
    admission.admitPost(req);
    const body = await readBody(req, cfg.maxPipelineBodySize);
    let m: Message;
    try {
      m = decodeMessage(body);
    } catch (e) {
      ctx.log.event(
        "refused:garbage",
        "warn",
        "refused a POST /raft body that is not a raft message",
        { [F.remote]: req.headers.get(H.from), [F.error]: errorMessage(e) },
      );
      throw new HttpError(400, "error unmarshalling raft message");
    }
    if (isLocalOnly(m.type)) {
      // etcd's node.Step drops these without an error, so etcd answers 204; so do we.
      refuseLocalOnly(ctx, req, m, "POST /raft");
      return new Response(null, { status: 204 });
    }
    admission.checkSender(req, m);
    const p = ctx.peer(m.from);
    if (p !== undefined) {
      p.stats.receivedMessages++;
      p.stats.receivedOn.pipeline++;
      p.stats.receivedBytes += body.length;
      p.metrics.receivedBytes[CH.pipeline] += body.length;
    }
    await admission.process(m, ctx.signal, "error processing raft message");
    return new Response(null, { status: 204 });
  };
}

/** The whole body, within the limit: 413 above it, 400 if it breaks off. */
async function readBody(req: Request, limit: number): Promise<Uint8Array> {
  try {
    return await readLimited(bodySource(req), req.headers.get("Content-Length"), limit);
  } catch (e) {
    if (e instanceof BodyTooLargeError) throw new HttpError(413, e.message);
    throw new HttpError(400, "error reading raft message");
  }
}
