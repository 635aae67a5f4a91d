/**
 * One member of the KV service: a Raft core (RawNode) on durable storage,
 * the rafthttp Transport to the other members, and the KV store it
 * applies to. Implements the transport's `Raft` interface (what arrives is
 * stepped into the core) and the API's `KvService` (what clients ask).
 *
 * @module
 */

import { fromBinary } from "npm:@bufbuild/protobuf@2.17.0";
import {
  type ConfChange,
  ConfChangeSchema,
  ConfChangeType,
  type ConfState,
  consoleLogger,
  type Entry,
  EntryType,
  type Logger,
  MemberRemovedError,
  type Message,
  MessageType,
  type PeerServer,
  type PeerServerAddr,
  type Raft,
  serve,
  type SnapshotStatus,
  Transport,
} from "../../mod.ts";
import { RawNode, type Ready, type StateType } from "../../raft/mod.ts";
import { DiskStorage } from "../../storage/mod.ts";
import type { KvArgs } from "./args.ts";
import { jsonCodec, type ProposalCodec, ProposalDecodeError } from "./codec.ts";
import { gobCodec } from "./gob.ts";
import { NodeStoppedError } from "./errors.ts";
import type { KvService } from "./http_api.ts";
import {
  bootstrapIfNew,
  compactIndexFor,
  Members,
  RaftLoop,
  sendMessages,
  SnapshotInbox,
} from "../../replica/mod.ts";
import { KvStore } from "./store.ts";
import { Requests } from "./requests.ts";

/** raftexample's cluster id. */
export const CLUSTER_ID = 0x1000n;

/** What a member needs: its command line, and optionally a codec and logger. */
export interface KvNodeOptions {
  /** The parsed command line (see `parseArgs`). */
  args: Omit<KvArgs, "port" | "host" | "testHooks" | "raftexampleCompat"> & {
    raftexampleCompat?: boolean;
  };
  /** Proposal encoding; default {@link jsonCodec}. */
  codec?: ProposalCodec;
  /** Logger of the member and its transport; default: the console from `warn`. */
  logger?: Logger;
  /** Called once when this member was removed from the cluster (it has stopped itself). */
  onRemoved?: () => void;
  /** Called once when the member hit an error it cannot go on from (it has stopped itself). */
  onFatal?: (e: Error) => void;
  /** PreVote and CheckQuorum (etcd options); default true. */
  preVote?: boolean;
  /** Snapshots with more data than this are streamed with `sendSnapshot`; default 1 MiB. */
  snapshotStreamBytes?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A running member; create it with {@link KvNode.start}, end it with `stop`.
 *
 * @example
 * ```ts ignore
 * const node = await KvNode.start({ args: parseArgs(Deno.args) });
 * await node.put("/a", "1");
 * console.log(await node.get("/a", false)); // 1
 * await node.stop();
 * ```
 */
export class KvNode implements KvService, Raft {
  readonly id: bigint;
  readonly #o: KvNodeOptions;
  readonly #log: Logger;
  readonly #codec: ProposalCodec;
  readonly #disk: DiskStorage;
  readonly #members: Members;
  readonly #store = new KvStore();
  readonly #inbox = new SnapshotInbox();
  readonly #requests: Requests;
  #lingering: ReturnType<typeof setTimeout> | undefined;
  readonly #peerRemovals = new Set<ReturnType<typeof setTimeout>>();
  #raft!: RawNode;
  #loop!: RaftLoop;
  #transport!: Transport;
  #server!: PeerServer;
  #ticker: ReturnType<typeof setInterval> | undefined;
  #applied = 0n;
  #snapshotIndex = 0n;
  #confState: ConfState | undefined;
  #snapshotsReceived = 0;
  #role: StateType = "follower";
  #term = 0n;
  #vote = 0n;
  #stopping: Promise<void> | undefined;

  private constructor(o: KvNodeOptions, disk: DiskStorage, members: Members) {
    this.id = o.args.id;
    this.#o = o;
    this.#log = o.logger ?? consoleLogger("warn");
    this.#codec = o.codec ?? (o.args.raftexampleCompat ? gobCodec : jsonCodec);
    this.#requests = new Requests({
      run: (action) => this.#loop.run(action),
      read: (key) => this.#store.get(key),
      codec: this.#codec,
      timeoutMs: o.args.requestTimeoutMs,
      id: o.args.id,
    });
    this.#disk = disk;
    this.#members = members;
  }

  /** Opens the data directory (recovering snapshot + WAL), joins the peers and starts ticking. */
  static async start(o: KvNodeOptions): Promise<KvNode> {
    const a = o.args;
    await Deno.mkdir(a.dataDir, { recursive: true });
    const disk = await DiskStorage.open(`${a.dataDir}/raft`, { logger: o.logger });
    try {
      const members = await Members.load(a.dataDir, a.cluster);
      const node = new KvNode(o, disk, members);
      await node.#init();
      return node;
    } catch (e) {
      await disk.close();
      throw e;
    }
  }

  async #init(): Promise<void> {
    const a = this.#o.args;
    const storage = this.#disk.storage;
    if (!a.join) await bootstrapIfNew(this.#disk, a.cluster.length);
    const { hardState } = storage.initialState();
    [this.#term, this.#vote] = [hardState.term, hardState.vote];
    const snap = storage.snapshot();
    const index = snap.metadata?.index ?? 0n;
    if (index > 0n) this.#store.restore(snap.data);
    this.#applied = this.#snapshotIndex = index;
    this.#confState = snap.metadata?.confState;
    this.#requests.appliedTo(index);
    const preVote = this.#o.preVote ?? !a.raftexampleCompat;
    this.#raft = new RawNode({
      id: this.id,
      storage,
      electionTick: 10,
      heartbeatTick: 1,
      maxSizePerMsg: 1 << 20,
      maxInflightMsgs: 256,
      applied: index,
      preVote,
      checkQuorum: preVote,
      logger: this.#log,
    });
    this.#loop = new RaftLoop(this.#raft, (rd) => this.#handleReady(rd), this.#log, (e) => {
      this.#fail(e);
    });
    await this.#startTransport();
    this.#ticker = setInterval(() => this.#loop.run((r) => r.tick()), a.tickMs);
    this.#loop.run(() => {}); // apply what the log has committed beyond the snapshot now
  }

  async #startTransport(): Promise<void> {
    const self = this.#members.url(this.id);
    if (self === undefined) throw new Error(`no peer URL for member ${this.id}`);
    this.#transport = new Transport({
      id: this.id,
      clusterId: CLUSTER_ID,
      urls: [self],
      raft: this,
      logger: this.#log,
      snapshot: { sink: this.#inbox },
      onError: (e) => {
        if (e instanceof MemberRemovedError) this.#removed("a peer says so");
        else this.#log.error(e.message, { error: e.name });
      },
    });
    const url = new URL(self);
    this.#server = await serve(this.#transport, {
      hostname: url.hostname.replace(/^\[|\]$/g, ""),
      port: Number(url.port),
    });
    this.#transport.start();
    this.#syncPeers();
  }

  /**
   * Adds the known members as peers: all of them on a fresh log, only the
   * snapshot's voters after one (later conf changes add the rest as they
   * are applied again); peers the snapshot no longer lists are dropped.
   */
  #syncPeers(): void {
    const voters = this.#confState?.voters ?? [];
    const inConf = (id: bigint) => voters.length === 0 || voters.includes(id);
    for (const [id, u] of this.#members.current()) {
      if (id !== this.id && inConf(id)) this.#transport.addPeer(id, [u]);
    }
    for (const id of this.#transport.peers()) {
      if (!inConf(id)) this.#transport.removePeer(id).catch(() => {});
    }
  }

  // ---- the transport's Raft interface ----

  /** Steps a message from a peer into the core (queued behind the Ready being handled). */
  process(m: Message): void {
    if (m.type === MessageType.MsgSnap) this.#inbox.fill(m);
    this.#loop.run((r) => r.step(m));
  }

  /**
   * True if `id` was removed: its requests are refused with 410, and it
   * stops. Not for the first election timeout after the removal was applied
   * here: a leader that removed itself hands over with a MsgTimeoutNow sent
   * just after, which would otherwise be refused by a member that applied
   * the removal first (the cluster then waits for an election timeout).
   */
  isIDRemoved(id: bigint): boolean {
    if (!this.#members.isRemoved(id)) return false;
    const at = this.#members.removedAt(id);
    return at === undefined || performance.now() - at > this.#removalGraceMs;
  }

  /** A message to `id` was not delivered: raft probes it again. */
  reportUnreachable(id: bigint): void {
    this.#loop.run((r) => r.reportUnreachable(id));
  }

  /** A snapshot to `id` finished or failed. */
  reportSnapshot(id: bigint, status: SnapshotStatus): void {
    this.#loop.run((r) => r.reportSnapshot(id, status));
  }

  // ---- the KV service ----

  /** Writes `key`; resolves once the entry is committed and applied on this member. */
  put(key: string, value: string): Promise<void> {
    return this.#requests.put(key, value);
  }

  /** Reads `key`: through ReadIndex (linearizable), or from the applied state if `stale`. */
  get(key: string, stale: boolean): Promise<string | undefined> {
    return this.#requests.get(key, stale);
  }

  /** Adds member `id` (its peer URL in the conf change's context); resolves once applied here. */
  addMember(id: bigint, url: string): Promise<void> {
    const context = encoder.encode(url);
    return this.#requests.confChange(ConfChangeType.ConfChangeAddNode, id, context);
  }

  /** Removes member `id`; resolves once applied here. */
  removeMember(id: bigint): Promise<void> {
    const none = new Uint8Array();
    return this.#requests.confChange(ConfChangeType.ConfChangeRemoveNode, id, none);
  }

  /** The test hooks: cut and mend the link to a peer, and the raft status. */
  cutPeer(id: bigint): void {
    this.#transport.cutPeer(id);
  }

  /** Undoes {@link cutPeer}. */
  mendPeer(id: bigint): void {
    this.#transport.mendPeer(id);
  }

  /** Asks the leader (this member, or through it) to hand leadership to `to`. */
  transferLeader(to: bigint): void {
    this.#loop.run((r) => r.transferLeader(to));
  }

  /** Raft status plus what this member applied. */
  status(): Record<string, unknown> {
    const s = this.#raft.status();
    return {
      id: s.id,
      term: s.term,
      lead: s.lead,
      state: s.state,
      commit: s.commit,
      applied: this.#applied,
      snapshotIndex: this.#snapshotIndex,
      snapshotsReceived: this.#snapshotsReceived,
      firstIndex: this.#disk.storage.firstIndex(),
      lastIndex: this.#disk.storage.lastIndex(),
      keys: this.#store.size,
      voters: this.#confState?.voters ?? [],
    };
  }

  /** The peer server's address. */
  get peerAddr(): PeerServerAddr {
    return this.#server.addr;
  }

  /**
   * Stops ticking, fails waiting requests, and releases the transport,
   * server and files. With `handOver`, a leader first hands leadership to
   * its most up-to-date follower (waiting up to an election timeout), so
   * that the others need not wait for an election: what `main` does on
   * Ctrl-C or SIGTERM.
   */
  stop(options: { handOver?: boolean } = {}): Promise<void> {
    this.#stopping ??= (async () => {
      if (options.handOver) await this.#handOver();
      clearInterval(this.#ticker);
      clearTimeout(this.#lingering);
      for (const t of this.#peerRemovals) clearTimeout(t);
      this.#requests.close(new NodeStoppedError());
      await this.#loop.stop();
      await this.#transport.stop();
      await this.#server.shutdown();
      await this.#disk.close();
    })();
    return this.#stopping;
  }

  async #handOver(): Promise<void> {
    if (this.#role !== "leader" || this.#lingering !== undefined) return;
    let best: bigint | undefined;
    let bestMatch = -1n;
    for (const [id, p] of this.#raft.status().progress ?? []) {
      if (id !== this.id && p.match > bestMatch) [best, bestMatch] = [id, p.match];
    }
    if (best === undefined) return;
    const to = best;
    this.#loop.run((r) => r.transferLeader(to));
    const deadline = performance.now() + this.#removalGraceMs;
    while (this.#role === "leader" && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  // ---- internals ----

  /**
   * Persist, then send, then apply (raftexample's order); `advance` follows.
   * A leader sends first and persists meanwhile (raft thesis 10.2.1, as
   * etcd's server does), so its fsync and the followers' overlap: safe,
   * since a leader's messages carry no new term or vote, and its entries
   * count for commit only in a later Ready, handled after this fsync.
   * Committed entries are durable on a quorum, so they are applied before
   * this fsync (answers do not wait for it), except after a snapshot and on
   * a leader whose commit covers entries only now being written (a
   * one-member cluster: then its own disk is the quorum).
   */
  async #handleReady(rd: Ready): Promise<void> {
    if (rd.softState !== undefined) this.#role = rd.softState.raftState;
    const hs = rd.hardState;
    const sameVote = hs === undefined || (hs.term === this.#term && hs.vote === this.#vote);
    const early = this.#role === "leader" && sameVote;
    const lastCommitted = rd.committedEntries.at(-1)?.index ?? 0n;
    const onDisk = lastCommitted <= this.#disk.storage.lastIndex();
    const applyEarly = rd.snapshot === undefined && (this.#role !== "leader" || onDisk);
    if (early) this.#send(rd);
    if (applyEarly) await this.#applyCommitted(rd);
    await this.#disk.save(rd);
    if (hs !== undefined) [this.#term, this.#vote] = [hs.term, hs.vote];
    this.#requests.appended(rd.entries);
    if (rd.snapshot !== undefined && (rd.snapshot.metadata?.index ?? 0n) > this.#applied) {
      this.#restoreSnapshot(rd);
    }
    if (!early) this.#send(rd);
    if (!applyEarly) await this.#applyCommitted(rd);
    await this.#maybeSnapshot();
  }

  #send(rd: Ready): void {
    const streamAbove = this.#o.args.raftexampleCompat ? Infinity : 1 << 20;
    sendMessages(this.#transport, rd.messages, this.#o.snapshotStreamBytes ?? streamAbove);
  }

  async #applyCommitted(rd: Ready): Promise<void> {
    this.#requests.readStates(rd.readStates);
    for (const e of rd.committedEntries) await this.#apply(e);
    this.#requests.appliedTo(this.#applied);
  }

  #restoreSnapshot(rd: Ready): void {
    const snap = rd.snapshot!;
    this.#store.restore(snap.data);
    this.#applied = this.#snapshotIndex = snap.metadata!.index;
    this.#confState = snap.metadata!.confState;
    this.#snapshotsReceived++;
    this.#syncPeers();
    this.#log.info("applied a snapshot from the leader", { index: this.#applied });
  }

  async #apply(e: Entry): Promise<void> {
    if (e.index <= this.#applied) return;
    if (e.type === EntryType.EntryNormal && e.data.length > 0) this.#applyWrite(e);
    else if (e.type === EntryType.EntryConfChange) await this.#applyConfChange(e);
    this.#applied = e.index;
  }

  #applyWrite(e: Entry): void {
    try {
      const p = this.#codec.decode(e.data);
      this.#store.apply(p);
      this.#requests.writeApplied(p);
    } catch (err) {
      if (!(err instanceof ProposalDecodeError)) throw err;
      this.#log.warn("skipped an entry that is not a proposal", {
        index: e.index,
        error: err.message,
      });
    }
  }

  async #applyConfChange(e: Entry): Promise<void> {
    const cc: ConfChange = fromBinary(ConfChangeSchema, e.data);
    this.#confState = this.#raft.applyConfChange(cc);
    if (cc.type === ConfChangeType.ConfChangeAddNode && cc.context.length > 0) {
      const url = decoder.decode(cc.context);
      await this.#members.add(cc.nodeId, url);
      if (cc.nodeId !== this.id) this.#transport.addPeer(cc.nodeId, [url]);
    } else if (cc.type === ConfChangeType.ConfChangeRemoveNode) {
      await this.#members.remove(cc.nodeId);
      if (cc.nodeId === this.id) this.#removed("the conf change was applied");
      else this.#removePeerSoon(cc.nodeId);
    }
    this.#requests.confChangeApplied(cc);
  }

  /**
   * Drops a removed member from the transport one election timeout later,
   * so that what it sends just after its removal still arrives: a leader
   * that removed itself hands leadership over with MsgTimeoutNow (see
   * isIDRemoved); without it, the others wait for an election timeout.
   */
  #removePeerSoon(id: bigint): void {
    const t = setTimeout(() => {
      this.#peerRemovals.delete(t);
      if (this.#members.isRemoved(id)) this.#transport.removePeer(id).catch(() => {});
    }, this.#removalGraceMs);
    this.#peerRemovals.add(t);
  }

  get #removalGraceMs(): number {
    return 10 * this.#o.args.tickMs;
  }

  /** Every `snapshotCount` applied entries: snapshot the map, keep `catchUpEntries` behind it. */
  async #maybeSnapshot(): Promise<void> {
    const a = this.#o.args;
    if (this.#applied - this.#snapshotIndex <= BigInt(a.snapshotCount)) return;
    const storage = this.#disk.storage;
    const snap = storage.createSnapshot(this.#applied, this.#confState, this.#store.snapshot());
    const compactTo = compactIndexFor(this.#applied, a.catchUpEntries, storage.firstIndex());
    await this.#disk.saveSnapshot(snap, compactTo ?? 0n);
    this.#log.info("took a snapshot", { index: this.#applied, compactedTo: compactTo });
    this.#snapshotIndex = this.#applied;
  }

  /**
   * This member is out of the cluster: it takes no more requests and stops.
   * It lingers a few ticks first, so that the Ready after its removal still
   * goes out: a leader that removed itself hands leadership over with
   * MsgTimeoutNow there (else the others wait for an election timeout).
   */
  #removed(why: string): void {
    if (this.#stopping !== undefined || this.#lingering !== undefined) return;
    this.#requests.close(new NodeStoppedError("this member was removed from the cluster"));
    this.#log.warn(`member ${this.id} was removed from the cluster (${why}); stopping`);
    this.#lingering = setTimeout(() => {
      this.stop().catch(() => {}).then(() => this.#o.onRemoved?.());
    }, 5 * this.#o.args.tickMs);
  }

  #fail(e: Error): void {
    this.#log.error("this member cannot go on; stopping", { error: e.message });
    this.stop().catch(() => {}).then(() => this.#o.onFatal?.(e));
  }
}
