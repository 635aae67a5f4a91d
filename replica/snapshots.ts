/**
 * A replica's snapshots: taking one every `snapshotEvery` applied entries
 * (its data written in the background, then recorded and the log compacted
 * between Readys), restoring one (at start, or sent by the leader), and
 * sending one to a follower that is too far behind. The raft snapshot holds
 * the membership table; the state machine's data is a file apart (see
 * snapshot_files.ts).
 *
 * @module
 */

import { clone } from "npm:@bufbuild/protobuf@2.17.0";
import {
  type ConfState,
  type Logger,
  type Message,
  MessageSchema,
  type Snapshot,
  SnapshotStatus,
  type Transport,
} from "../mod.ts";
import type { DiskStorage } from "../storage/mod.ts";
import { ReplicaStoppedError } from "./errors.ts";
import type { RaftLoop } from "./loop.ts";
import type { StateMachine } from "./options.ts";
import { compactIndexFor } from "./snapshot_policy.ts";
import { sendSnapshotFile, type SnapshotFiles } from "./snapshot_files.ts";

/** Snapshot data files kept (the raft snapshots' default count too). */
const KEEP_FILES = 3;

/**
 * What the snapshots need from their replica.
 *
 * @example
 * ```ts ignore
 * const snapshots = new Snapshots({ files, disk, loop, stateMachine, every: 10_000, catchUpEntries: 10_000, log }, 0n);
 * ```
 */
export interface SnapshotsDeps<R> {
  /** Where the data goes. */
  files: SnapshotFiles;
  /** The log and the raft snapshots. */
  disk: DiskStorage;
  /** The replica's loop (recording a snapshot runs between Readys). */
  loop: RaftLoop;
  /** The state machine. */
  stateMachine: StateMachine<R>;
  /** Entries applied between snapshots. */
  every: number;
  /** Entries kept behind a snapshot. */
  catchUpEntries: number;
  /** Logger. */
  log: Logger;
  /**
   * Recording a snapshot on disk failed (a failed fsync, a full disk): the
   * replica must stop, as after any failed save.
   */
  onDiskError: (e: Error) => void;
}

/**
 * What a snapshot records beside the state machine's data.
 *
 * @example
 * ```ts ignore
 * const at: SnapshotPoint = { index: applied, confState, table: membership.encode() };
 * ```
 */
export interface SnapshotPoint {
  /** The index of the last entry it covers. */
  index: bigint;
  /** The membership at that index. */
  confState: ConfState;
  /** The URL table at that index (the raft snapshot's data). */
  table: Uint8Array;
}

/**
 * The snapshots of one replica.
 *
 * @example
 * ```ts ignore
 * const snapshots = new Snapshots(deps, restoredIndex);
 * await snapshots.maybeTake(applied, () => ({ index: applied, confState, table })); // after applying
 * ```
 */
export class Snapshots<R> {
  readonly #d: SnapshotsDeps<R>;
  #index: bigint;
  #taking = false;
  #writing: Promise<void> | undefined;
  /** Settles once the snapshot being taken is recorded (rejects: it was not). */
  #current: Promise<void> = Promise.resolve();
  /** Rejects the waits of `takeNow` that a stop would leave hanging. */
  readonly #waits = new Set<(e: Error) => void>();
  readonly #abort = new AbortController();

  /** Starts from the snapshot the replica was restored from (0n: none). */
  constructor(deps: SnapshotsDeps<R>, index: bigint) {
    this.#d = deps;
    this.#index = index;
  }

  /** The index of the newest snapshot (taken or restored). */
  get index(): bigint {
    return this.#index;
  }

  /**
   * Takes a snapshot if `snapshotEvery` entries were applied since the last
   * and none is being taken. Called between applies: `snapshot()` sees the
   * state at `at.index`; its data is written in the background.
   */
  async maybeTake(applied: bigint, point: () => SnapshotPoint): Promise<void> {
    if (this.#taking || applied - this.#index < BigInt(this.#d.every)) return;
    await this.#take(point());
  }

  /**
   * Takes a snapshot at the index applied now (after the one being taken,
   * if any; not if the newest is there already) and resolves with the
   * newest snapshot's index once it is recorded. `point` is called on the
   * loop, between Readys. Rejects if it could not be taken or recorded, or
   * with ReplicaStoppedError.
   */
  async takeNow(point: () => SnapshotPoint): Promise<bigint> {
    await this.#current.catch(() => {}); // one begun before this call may be older than now
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.#waits.add(reject);
    let recorded = Promise.resolve();
    const queued = this.#d.loop.run(async () => {
      try {
        const at = point();
        if (this.#taking) recorded = this.#current; // begun since: at this index or later
        else if (at.index > this.#index) {
          await this.#take(at);
          recorded = this.#current;
        }
        resolve();
      } catch (e) {
        reject(e);
      }
    });
    if (!queued) reject(new ReplicaStoppedError("the replica is stopped, or its queue is full"));
    try {
      await promise;
      await recorded;
    } finally {
      this.#waits.delete(reject);
    }
    return this.#index;
  }

  // Takes the state machine's snapshot at `at` now; its data is written in
  // the background, then recorded by the loop (#current settles then).
  async #take(at: SnapshotPoint): Promise<void> {
    this.#taking = true;
    const done = Promise.withResolvers<void>();
    done.promise.catch(() => {}); // maybeTake's are awaited by no one
    this.#current = done.promise;
    this.#waits.add(done.reject);
    const settled = (e?: Error) => {
      this.#waits.delete(done.reject);
      if (e === undefined) return done.resolve();
      this.#taking = false;
      done.reject(e);
    };
    let source;
    try {
      source = await this.#d.stateMachine.snapshot();
    } catch (e) {
      this.#d.log.error("the state machine could not take a snapshot", {
        index: at.index,
        error: (e as Error).message,
      });
      return settled(e as Error);
    }
    this.#writing = this.#d.files.write(at.index, source, this.#abort.signal).then(
      () => {
        const recorded = this.#d.loop.run(() => this.#record(at).then(() => settled(), settled));
        if (!recorded) settled(new ReplicaStoppedError("the replica is stopped"));
      },
      (e) => {
        if (!this.#abort.signal.aborted) {
          this.#d.log.error("could not write a snapshot", { index: at.index, error: e.message });
        }
        settled(e);
      },
    );
  }

  /**
   * Records the written snapshot (raft snapshot file, WAL marker), compacts
   * the log behind it and drops old data files; run by the loop, so that no
   * Ready is being handled meanwhile. A failure to save it stops the replica.
   */
  async #record(at: SnapshotPoint): Promise<void> {
    try {
      const disk = this.#d.disk;
      const storage = disk.storage;
      const current = storage.snapshot().metadata?.index ?? 0n;
      if (at.index <= current) return await this.#purge(current); // a newer one came
      const snap = storage.createSnapshot(at.index, at.confState, at.table);
      const compactTo = compactIndexFor(at.index, this.#d.catchUpEntries, storage.firstIndex());
      try {
        await disk.saveSnapshot(snap, compactTo ?? 0n);
      } catch (e) {
        this.#d.onDiskError(e as Error);
        throw e;
      }
      this.#index = at.index;
      await this.#purge(at.index);
      this.#d.log.info("took a snapshot", { index: at.index, compactedTo: compactTo });
    } catch (e) {
      this.#d.log.error("could not record a snapshot", {
        index: at.index,
        error: (e as Error).message,
      });
      throw e;
    } finally {
      this.#taking = false;
    }
  }

  // Old data files that stay behind only cost room: logged, not fatal.
  async #purge(index: bigint): Promise<void> {
    await this.#d.files.purge(KEEP_FILES, index).catch((e) => {
      this.#d.log.warn("could not delete old snapshot files", { error: e.message });
    });
  }

  /** Replaces the state machine's state with the snapshot's data (throws what `restore` threw). */
  async restore(snap: Snapshot): Promise<void> {
    const index = snap.metadata?.index ?? 0n;
    const file = this.#d.files.open(index);
    try {
      await this.#d.stateMachine.restore(file.stream);
    } finally {
      file.close();
    }
    if (index > this.#index) this.#index = index;
    await this.#purge(index);
  }

  /** Sends a MsgSnap with its data streamed behind it; a missing file fails the send. */
  send(m: Message, transport: Transport): void {
    const fail = (why: string) => {
      this.#d.log.warn("cannot send a snapshot", { to: m.to, error: why });
      this.#d.loop.run((r) => r.reportSnapshot(m.to, SnapshotStatus.Failure));
    };
    sendSnapshotFile(transport, m, this.#d.files).then(
      (ok) => ok || fail("its data file is missing"),
      (e) => fail(e.message),
    );
  }

  /**
   * Sends a MsgSnap with the state machine's data inside it (raftexample's
   * way; see `inlineSnapshots`): the file is read whole into a copy of the
   * message. The transport reports the outcome to raft.
   */
  sendInline(m: Message, transport: Transport): void {
    const index = m.snapshot?.metadata?.index ?? 0n;
    Deno.readFile(this.#d.files.path(index)).then(
      (data) => {
        const full = clone(MessageSchema, m);
        full.snapshot!.data = data;
        transport.send([full]);
      },
      (e) => {
        this.#d.log.warn("cannot send a snapshot", { to: m.to, error: e.message });
        this.#d.loop.run((r) => r.reportSnapshot(m.to, SnapshotStatus.Failure));
      },
    );
  }

  /**
   * Takes the data that came inside a MsgSnap (a raftexample leader's) as
   * the state machine's snapshot at its index: written to its file unless
   * that is there already. Resolves once it is durable.
   */
  async receiveInline(m: Message): Promise<void> {
    const index = m.snapshot?.metadata?.index ?? 0n;
    const data = m.snapshot?.data ?? new Uint8Array();
    if (await this.#d.files.size(index) === undefined) {
      await this.#d.files.write(index, data, this.#abort.signal);
    }
  }

  /** Stops a snapshot being written; waits for one end with ReplicaStoppedError. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#writing;
    const stopped = new ReplicaStoppedError("the replica is stopped");
    for (const reject of [...this.#waits]) reject(stopped);
    this.#waits.clear();
  }
}
