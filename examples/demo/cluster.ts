/**
 * One member of the demo cluster: a `Transport` served with `serve` on
 * 127.0.0.1, which can be stopped and started again on the same port (a
 * fresh Transport each time, as a restarted process would have).
 *
 * @module
 */

import {
  type Logger,
  newPeerStats,
  type PeerServer,
  type PeerStats,
  type Raft,
  serve,
  snapshotResume,
  type SnapshotSink,
  Transport,
} from "@rafthttp/rafthttp";

/** The demo's cluster id. */
export const CLUSTER_ID = 0xde30n;
/** Every member listens on this address; nothing leaves the machine. */
export const HOST = "127.0.0.1";

/** A port of the demo is in use by another process. */
export class PortTakenError extends Error {
  /** The port that is taken. */
  readonly port: number;
  constructor(port: number) {
    super(`port ${port} on ${HOST} is taken; run with --base-port <another>`);
    this.name = "PortTakenError";
    this.port = port;
  }
}

/** Adds `b`'s counters into `a`. */
export function addStats(a: PeerStats, b: PeerStats): void {
  a.sentMessages += b.sentMessages;
  a.sentBytes += b.sentBytes;
  a.sendDrops += b.sendDrops;
  a.receivedMessages += b.receivedMessages;
  a.receivedBytes += b.receivedBytes;
  a.receiveDrops += b.receiveDrops;
  for (const c of ["message", "msgappv2", "pipeline"] as const) {
    a.sentOn[c] += b.sentOn[c];
    a.receivedOn[c] += b.receivedOn[c];
  }
}

/** One member: id, port, and while it runs, its transport and server. */
export class Member {
  readonly id: bigint;
  readonly port: number;
  readonly url: string;
  /** The other members (set once the cluster is known). */
  peers: Member[] = [];
  transport: Transport | undefined;
  server: PeerServer | undefined;
  /** Counters of earlier runs of this member (before a restart), summed over its peers. */
  readonly earlier: PeerStats = newPeerStats();
  /** Times this member was started. */
  starts = 0;

  constructor(id: bigint, port: number) {
    this.id = id;
    this.port = port;
    this.url = `http://${HOST}:${port}`;
  }

  /** True while it runs. */
  get up(): boolean {
    return this.transport !== undefined;
  }

  /**
   * Starts the member with `raft`: listens on its port (throws
   * {@link PortTakenError} if another process has it) and starts a new
   * transport, with no peers yet (see {@link connect}).
   */
  async start(raft: Raft, sink: SnapshotSink, logger: Logger): Promise<void> {
    const transport = new Transport({
      id: this.id,
      clusterId: CLUSTER_ID,
      urls: [this.url],
      raft,
      snapshot: { sink },
      logger,
      probeIntervalMs: 1000,
      // The demo runs with network permission only: broken snapshot
      // transfers are kept in memory (at most 128 MiB) for their resumption.
      extensions: [snapshotResume({ memory: true, maxBytes: 128 * 1024 * 1024 })],
    });
    try {
      this.server = await serve(transport, { hostname: HOST, port: this.port });
    } catch (e) {
      await transport.stop();
      if (e instanceof Deno.errors.AddrInUse) throw new PortTakenError(this.port);
      throw e;
    }
    this.transport = transport;
    this.starts++;
    transport.start();
  }

  /** Adds the other members as peers: the transport starts dialling their streams. */
  connect(): void {
    for (const p of this.peers) this.transport?.addPeer(p.id, [p.url]);
  }

  /** This member's counters toward all its peers, this run and earlier ones. */
  totals(): PeerStats {
    const sum = newPeerStats();
    addStats(sum, this.earlier);
    const t = this.transport;
    if (t !== undefined) {
      for (const id of t.peers()) {
        const s = t.peerStatus(id);
        if (s !== undefined) addStats(sum, s.stats);
      }
    }
    return sum;
  }

  /** Stops the transport, then the server (a no-op when not running). Keeps the counters. */
  async stop(): Promise<void> {
    const t = this.transport;
    const server = this.server;
    if (t === undefined) return;
    const final = this.totals();
    this.transport = undefined;
    this.server = undefined;
    await t.stop();
    await server?.shutdown();
    Object.assign(this.earlier, final);
  }
}
