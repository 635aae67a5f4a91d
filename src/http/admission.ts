/**
 * The checks a peer's request passes before a receiver reads it, in etcd's
 * order: versions, cluster id, learning the sender's URLs, the test hook
 * that cuts a peer off, and, once the message is decoded, whether it is for
 * us and from whom the headers say. Each check throws the {@link HttpError}
 * etcd answers with.
 *
 * @module
 */

import type { Message } from "../../raftpb/raft_pb.ts";
import type { Config } from "../options.ts";
import { F, type RateLimitedLog } from "../logger.ts";
import { formatId, H, parseId } from "./headers.ts";
import { checkVersionCompatibility } from "./version.ts";
import { HttpError } from "./http_error.ts";
import { forwardedWithOthersFrom } from "./provenance.ts";
import { errorMessage } from "../util/error_message.ts";

/** The options the checks read. */
export type AdmissionConfig = Pick<
  Config,
  "id" | "clusterId" | "serverVersion" | "minClusterVersion" | "raft"
>;

/** What the checks need from the transport. */
export interface AdmissionHooks {
  /** etcd's addRemote: a no-op for known members. Throws TypeError on bad URLs. */
  addRemote(id: bigint, urls: string[]): void;
  /** True while peer `id` is cut off by the test hook. */
  isCut(id: bigint): boolean;
}

/** The admission checks of one transport. */
export class Admission {
  /** Our id as it appears in headers. */
  readonly localId: string;
  /** Our cluster id as it appears in headers. */
  readonly clusterId: string;
  #cfg: AdmissionConfig;
  #log: RateLimitedLog;
  #hooks: AdmissionHooks;

  /** Creates the checks. */
  constructor(cfg: AdmissionConfig, log: RateLimitedLog, hooks: AdmissionHooks) {
    this.#cfg = cfg;
    this.#log = log;
    this.#hooks = hooks;
    this.localId = formatId(cfg.id);
    this.clusterId = formatId(cfg.clusterId);
  }

  /** etcd's version and cluster checks: 400 for malformed versions, 412 otherwise. */
  compatible(req: Request): void {
    const cfg = this.#cfg;
    const v = checkVersionCompatibility(req.headers, cfg.serverVersion, cfg.minClusterVersion);
    if (v === "malformed") {
      throw new HttpError(400, "malformed X-Server-Version or X-Min-Cluster-Version header");
    }
    if (v === "incompatible") {
      this.#log.event(`refused:version`, "warn", "refused a peer request: incompatible version", {
        [F.remote]: req.headers.get(H.from),
        version: req.headers.get(H.serverVersion),
        minClusterVersion: req.headers.get(H.minClusterVersion),
      });
      throw new HttpError(412, "incompatible version");
    }
    const gotCluster = req.headers.get(H.clusterId);
    if (gotCluster !== this.clusterId) {
      this.#log.event(`refused:cluster`, "error", "refused a peer request: cluster ID mismatch", {
        [F.remote]: req.headers.get(H.from),
        remoteClusterId: gotCluster,
        localClusterId: this.clusterId,
      });
      throw new HttpError(412, "cluster ID mismatch");
    }
  }

  /** etcd's addRemoteFromRequest: learns `from`'s URLs from `X-PeerURLs`; 400 if invalid. */
  learnRemote(req: Request, from = parseId(req.headers.get(H.from))): void {
    const urls = req.headers.get(H.peerUrls);
    if (from === undefined || !urls) return;
    try {
      this.#hooks.addRemote(from, urls.split(","));
    } catch (e) {
      throw new HttpError(400, `invalid X-PeerURLs: ${errorMessage(e)}`);
    }
  }

  /** 503 while `from` is cut off by the test hook, as if the network were. */
  notCut(from: bigint | undefined): void {
    if (from !== undefined && this.#hooks.isCut(from)) {
      throw new HttpError(503, "this peer is cut off (test hook)");
    }
  }

  /** The checks both POST endpoints make before reading a body, in etcd's order. */
  admitPost(req: Request): void {
    this.compatible(req);
    this.learnRemote(req);
    this.notCut(parseId(req.headers.get(H.from)));
  }

  /**
   * A POSTed message must be for us and from whom the headers say, and not
   * from a removed member (etcd intends 403 for those).
   */
  checkSender(req: Request, m: Message): void {
    if (m.to !== this.#cfg.id) {
      throw new HttpError(400, `message is for member ${formatId(m.to)}, not ${this.localId}`);
    }
    const from = parseId(req.headers.get(H.from));
    if (from !== undefined && from !== m.from && !forwardedWithOthersFrom(m.type)) {
      throw new HttpError(400, "message from field does not match X-Server-From");
    }
    this.notRemoved(m.from);
  }

  /** 403 for a member that was removed (etcd intends 403 for those). */
  notRemoved(id: bigint): void {
    if (this.#cfg.raft.isIDRemoved(id)) {
      throw new HttpError(403, "cannot process message from removed member");
    }
  }

  /**
   * Steps `m` into raft; an error becomes etcd's reply: its own status if it
   * carries one (4xx or 5xx), else 500 with `fallback` ("%s" is the message).
   */
  async process(m: Message, signal: AbortSignal, fallback: string): Promise<void> {
    try {
      await this.#cfg.raft.process(m, signal);
    } catch (e) {
      const status = (e as { status?: unknown })?.status;
      if (typeof status === "number" && status >= 400 && status < 600) {
        throw new HttpError(status, errorMessage(e));
      }
      throw new HttpError(500, fallback.replace("%s", errorMessage(e)));
    }
  }
}
