// One peer's channel context for unit tests: the real options (defaults
// filled in), a fake clock and dialer, and a raft and logger that record.
import { NO_EXTENSIONS } from "../extension/host.ts";
import type { Message } from "../../raftpb/raft_pb.ts";
import { type Config, resolveOptions, type TransportOptions } from "../options.ts";
import { RateLimitedLog } from "../logger.ts";
import type { Raft } from "../raft_node.ts";
import type { SnapshotStatus } from "../../raftpb/snapshot_status.ts";
import type { PeerContext } from "../peer/context.ts";
import { Link } from "../peer/link.ts";
import { PeerStatus } from "../peer/status.ts";
import { newPeerStats } from "../peer/stats.ts";
import { UrlPicker } from "../peer/url_picker.ts";
import { PeerMetrics } from "../metrics/peer_metrics.ts";
import { formatId } from "../http/headers.ts";
import { type Line, recordingLogger } from "./recording_logger.ts";
import { FakeClock } from "./fake_clock.ts";
import { FakeDialer } from "./fake_dialer.ts";

/**
 * This member's id in the channel tests.
 *
 * @example
 * ```ts
 * import { LOCAL, testPeer } from "./peer_context.ts";
 * using t = testPeer();
 * console.log(t.ctx.cfg.id === LOCAL); // true
 * ```
 */
export const LOCAL = 0xaaan;
/**
 * The peer's id in the channel tests.
 *
 * @example
 * ```ts
 * import { PEER, testPeer } from "./peer_context.ts";
 * using t = testPeer();
 * console.log(t.ctx.peer === PEER, t.ctx.peerId); // true bbb
 * ```
 */
export const PEER = 0xbbbn;
/**
 * The cluster's id in the channel tests.
 *
 * @example
 * ```ts
 * import { CLUSTER, testPeer } from "./peer_context.ts";
 * using t = testPeer();
 * console.log(t.ctx.cfg.clusterId === CLUSTER); // true
 * ```
 */
export const CLUSTER = 0xc1n;

/**
 * A {@link Raft} that records what the transport tells it.
 *
 * @example
 * ```ts
 * import { RecordingRaft } from "./peer_context.ts";
 * const raft = new RecordingRaft();
 * raft.reportUnreachable(2n);
 * console.log(raft.unreachable); // [ 2n ]
 * ```
 */
export class RecordingRaft implements Raft {
  /** Messages given to `process`, in order. */
  received: Message[] = [];
  /** Ids given to `reportUnreachable`, in order. */
  unreachable: bigint[] = [];
  /** Snapshot outcomes reported, in order. */
  snapshots: [bigint, SnapshotStatus][] = [];
  /** Ids `isIDRemoved` says yes to. */
  removed = new Set<bigint>();
  /** What `process` does beyond recording (a test sets it to throw or wait). */
  onProcess: (m: Message) => Promise<void> | void = () => {};

  /** Records `m`, then runs `onProcess`. */
  process(m: Message): Promise<void> | void {
    this.received.push(m);
    return this.onProcess(m);
  }
  /** True for ids in `removed`. */
  isIDRemoved(id: bigint): boolean {
    return this.removed.has(id);
  }
  /** Records `id`. */
  reportUnreachable(id: bigint): void {
    this.unreachable.push(id);
  }
  /** Records the outcome. */
  reportSnapshot(id: bigint, status: SnapshotStatus): void {
    this.snapshots.push([id, status]);
  }
}

/**
 * What {@link testPeer} builds.
 *
 * @example
 * ```ts
 * import { type TestPeer, testPeer } from "./peer_context.ts";
 * // The warnings a test saw.
 * const warnings = (t: TestPeer) => t.lines.filter((l) => l.level === "warn");
 * using t = testPeer();
 * t.ctx.log.event("k", "warn", "something failed");
 * console.log(warnings(t).length); // 1
 * ```
 */
export interface TestPeer extends Disposable {
  /** The context to hand to the channel under test. */
  ctx: PeerContext<Config>;
  /** The fake clock in `ctx`. */
  clock: FakeClock;
  /** The fake dialer in `ctx.cfg`. */
  dialer: FakeDialer;
  /** The recording raft in `ctx.cfg`. */
  raft: RecordingRaft;
  /** Every log line, the rate limit off. */
  lines: Line[];
  /** What `onError` got (the errors the application must hear about). */
  errors: Error[];
}

/**
 * A peer context for `PEER`, seen from `LOCAL`, at `urls` (default two, so
 * that failover shows), with `options` over the transport's defaults.
 * `using` closes its log.
 *
 * @example
 * ```ts
 * import { PEER, testPeer } from "./peer_context.ts";
 * using t = testPeer({ pipeline: { queueSize: 2 } });
 * t.ctx.cfg.raft.reportUnreachable(PEER);
 * console.log(t.ctx.cfg.pipelineQueueSize, t.raft.unreachable.length, t.ctx.picker.pick());
 * // 2 1 http://peer-a:2380
 * ```
 */
export function testPeer(
  options: Partial<TransportOptions> = {},
  urls = ["http://peer-a:2380", "http://peer-b:2380"],
): TestPeer {
  const raft = new RecordingRaft();
  const logger = recordingLogger();
  const dialer = new FakeDialer();
  const errors: Error[] = [];
  const clock = new FakeClock();
  const cfg = resolveOptions({
    id: LOCAL,
    clusterId: CLUSTER,
    urls: ["http://local:2380"],
    raft,
    logger,
    dialer,
    onError: (e) => void errors.push(e),
    probeIntervalMs: 0,
    ...options,
    snapshot: {
      sink: { save: () => Promise.reject(new Error("no sink in this test")) },
      ...options.snapshot,
    },
  });
  // Interval 0: every event is logged, and the limiter sets no timer.
  const log = new RateLimitedLog(cfg.logger, 0);
  const peerId = formatId(PEER);
  const ctx: PeerContext<Config> = {
    peer: PEER,
    peerId,
    cfg,
    picker: new UrlPicker(urls),
    status: new PeerStatus(peerId, cfg.logger),
    stats: newPeerStats(),
    metrics: new PeerMetrics(peerId),
    log,
    link: new Link(),
    clock,
    // etcd's protocol only: a unit test of a channel tests the channel.
    extensions: NO_EXTENSIONS,
  };
  return {
    ctx,
    clock,
    dialer: (options.dialer as FakeDialer | undefined) ?? dialer,
    raft: options.raft instanceof RecordingRaft ? options.raft : raft,
    lines: logger.lines,
    errors,
    [Symbol.dispose]: () => log.close(),
  };
}
