/**
 * RaftConfig: the settings of one Raft member, their defaults, and their
 * validation.
 *
 * @module
 */

import type { Logger } from "../raftpb/mod.ts";
import { ConfigError } from "./errors.ts";
import type { Storage } from "./storage.ts";

/**
 * The settings of one member (etcd's raft.Config).
 *
 * @example
 * ```ts
 * import { MemoryStorage, type RaftConfig } from "@rafthttp/rafthttp/raft";
 * const cfg: RaftConfig = { id: 1n, storage: new MemoryStorage(), preVote: true, checkQuorum: true };
 * console.log(cfg.electionTick ?? 10); // 10
 * ```
 */
export interface RaftConfig {
  /** This member's id, not 0. */
  id: bigint;
  /** The log raft reads. */
  storage: Storage;
  /** Ticks without a leader before campaigning (randomized in [electionTick, 2*electionTick)). Default 10. */
  electionTick?: number;
  /** Ticks between leader heartbeats. Default 1. */
  heartbeatTick?: number;
  /** The last index the application applied (on restart). Default: the snapshot index. */
  applied?: bigint;
  /** Most bytes of entries per MsgApp. Default 1 MiB. */
  maxSizePerMsg?: number;
  /** Most bytes of committed entries per Ready. Default: unlimited. */
  maxCommittedSizePerReady?: number;
  /** Most unacknowledged MsgApp per follower. Default 256. */
  maxInflightMsgs?: number;
  /** Run a pre-election first so that a partitioned member does not disrupt the cluster. */
  preVote?: boolean;
  /** The leader steps down without contact from a quorum within an election timeout. */
  checkQuorum?: boolean;
  /**
   * How the leader confirms a ReadIndex (etcd's `ReadOnlyOption`). "safe"
   * (default): a heartbeat round that a quorum answers proves it still leads.
   * "lease-based": no round; it answers at once from its commit index,
   * trusting its lease. That needs `checkQuorum` (a leader cut off steps
   * down within an election timeout, and followers ignore votes while they
   * heard from it within one) and clocks whose rates agree: a member whose
   * ticks run slow can still believe it leads after the others elected
   * another leader, and a read it serves then may be stale.
   */
  readOnlyOption?: "safe" | "lease-based";
  /** A source of uniform numbers in [0, 1); inject one to make runs reproducible. */
  random?: () => number;
  /** Where raft logs elections and warnings. Default: silent. */
  logger?: Logger;
}

/** RaftConfig with every default filled in. */
export type ResolvedConfig = Required<Omit<RaftConfig, "applied">> & { applied: bigint };

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Fills defaults and throws ConfigError for invalid settings. */
export function resolveConfig(c: RaftConfig): ResolvedConfig {
  const r: ResolvedConfig = {
    id: c.id,
    storage: c.storage,
    electionTick: c.electionTick ?? 10,
    heartbeatTick: c.heartbeatTick ?? 1,
    applied: c.applied ?? 0n,
    maxSizePerMsg: c.maxSizePerMsg ?? 1024 * 1024,
    maxCommittedSizePerReady: c.maxCommittedSizePerReady ?? Number.MAX_SAFE_INTEGER,
    maxInflightMsgs: c.maxInflightMsgs ?? 256,
    preVote: c.preVote ?? false,
    checkQuorum: c.checkQuorum ?? false,
    readOnlyOption: c.readOnlyOption ?? "safe",
    random: c.random ?? Math.random,
    logger: c.logger ?? silent,
  };
  if (r.id === 0n) throw new ConfigError("id must not be 0 (0 means 'none' in raft)");
  if (!r.storage) throw new ConfigError("storage is required");
  if (!(r.heartbeatTick > 0)) throw new ConfigError("heartbeatTick must be greater than 0");
  if (!(r.electionTick > r.heartbeatTick)) {
    throw new ConfigError("electionTick must be greater than heartbeatTick");
  }
  if (!(r.maxInflightMsgs > 0)) throw new ConfigError("maxInflightMsgs must be greater than 0");
  if (r.readOnlyOption !== "safe" && r.readOnlyOption !== "lease-based") {
    throw new ConfigError(
      `readOnlyOption must be "safe" or "lease-based", got ${r.readOnlyOption}`,
    );
  }
  if (r.readOnlyOption === "lease-based" && !r.checkQuorum) {
    throw new ConfigError(
      'readOnlyOption "lease-based" needs checkQuorum: the lease is what it keeps',
    );
  }
  return r;
}
