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
    this.#taking = true;
    const at = point();
    let source;
    try {
      source = await this.#d.stateMachine.snapshot();
    } catch (e) {
      this.#taking = false;
      this.#d.log.error("the state machine could not take a snapshot", {
        index: at.index,
        error: (e as Error).message,
      });
      return;
    }
    this.#writing = this.#d.files.write(at.index, source, this.#abort.signal).then(
      () => {
        if (!this.#d.loop.run(() => this.#record(at))) this.#taking = false;
      },
      (e) => {
        this.#taking = false;
        if (!this.#abort.signal.aborted) {
          this.#d.log.error("could not write a snapshot", { index: at.index, error: e.message });
        }
      },
    );
  }

  /**
   * Records the written snapshot (raft snapshot file, WAL marker), compacts
   * the log behind it and drops old data files; run by the loop, so that no
   * Ready is being handled meanwhile.
   */
  async #record(at: SnapshotPoint): Promise<void> {
    try {
      const { disk, files } = this.#d;
      const storage = disk.storage;
      const current = storage.snapshot().metadata?.index ?? 0n;
      if (at.index <= current) return await files.purge(KEEP_FILES, current); // a newer one came
      const snap = storage.createSnapshot(at.index, at.confState, at.table);
      const compactTo = compactIndexFor(at.index, this.#d.catchUpEntries, storage.firstIndex());
      await disk.saveSnapshot(snap, compactTo ?? 0n);
      this.#index = at.index;
      await files.purge(KEEP_FILES, at.index);
      this.#d.log.info("took a snapshot", { index: at.index, compactedTo: compactTo });
    } catch (e) {
      this.#d.log.error("could not record a snapshot", {
        index: at.index,
        error: (e as Error).message,
      });
    } finally {
      this.#taking = false;
    }
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
    await this.#d.files.purge(KEEP_FILES, index).catch((e) => {
      this.#d.log.warn("could not delete old snapshot files", { error: e.message });
    });
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

  /** Stops a snapshot being written. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#writing;
  }
}
