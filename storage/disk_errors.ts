/**
 * Errors of the durable storage (WAL, snapshot files, DiskStorage). Each
 * says what was found and what an operator can do about it.
 *
 * @module
 */

import { RaftError } from "../raft/errors.ts";

/**
 * A WAL segment holds a damaged record that is not a torn tail: intact
 * records follow it, or it sits in an older (completed) segment. Opening
 * refuses rather than silently dropping acknowledged data.
 *
 * @example
 * ```ts
 * import { WalCorruptError } from "@rafthttp/rafthttp/storage";
 * const e = new WalCorruptError("/data/wal/0000000000000000-0000000000000001.wal", 120, "bad checksum");
 * console.log(e.name, e.offset); // WalCorruptError 120
 * ```
 */
export class WalCorruptError extends RaftError {
  /** Creates the error for `file` at byte `offset`. */
  constructor(readonly file: string, readonly offset: number, readonly reason: string) {
    super(
      `WAL file ${file} is corrupt at byte ${offset} (${reason}) and intact data follows, so it ` +
        `is not a torn write from a crash: restore this member's data directory from a backup, ` +
        `or remove it and re-add the member so that it catches up from the leader`,
    );
  }
}

/**
 * The WAL directory is not usable as a whole: a missing segment, an entry
 * gap, a segment whose header disagrees with its name.
 *
 * @example
 * ```ts
 * import { WalFormatError } from "@rafthttp/rafthttp/storage";
 * console.log(new WalFormatError("segment 3 is missing").name); // WalFormatError
 * ```
 */
export class WalFormatError extends RaftError {
  /** Creates the error with a description of what is inconsistent. */
  constructor(what: string) {
    super(
      `WAL is inconsistent: ${what}; the directory was not written by this WAL or was edited ` +
        `by hand: restore it from a backup or start the member with an empty data directory`,
    );
  }
}

/**
 * An operation on a WAL or DiskStorage that was already closed.
 *
 * @example
 * ```ts
 * import { StorageClosedError } from "@rafthttp/rafthttp/storage";
 * console.log(new StorageClosedError("save").message);
 * ```
 */
export class StorageClosedError extends RaftError {
  /** Creates the error for the refused operation `op`. */
  constructor(op: string) {
    super(`cannot ${op}: the storage was closed; open it again with DiskStorage.open`);
  }
}

/**
 * The WAL holds records of raft groups other than the one it was opened
 * for: a data directory of one group opened as another (a wrong `group`
 * option). Nothing was written; without this check the directory would
 * look empty to that group, which would bootstrap again.
 *
 * @example
 * ```ts
 * import { GroupMismatchError } from "@rafthttp/rafthttp/storage";
 * const e = new GroupMismatchError("/data/raft/wal", 7n, [1n]);
 * console.log(e.name, e.found); // GroupMismatchError [ 1n ]
 * ```
 */
export class GroupMismatchError extends RaftError {
  /** Creates the error for the WAL in `dir`, opened for `group`, holding the groups `found`. */
  constructor(readonly dir: string, readonly group: bigint, readonly found: bigint[]) {
    super(
      `WAL ${dir} holds raft group ${found.join(", ")}, not only group ${group}: open it with ` +
        `the group it was written for, or give group ${group} a data directory of its own`,
    );
  }
}

/**
 * The snapshot the WAL points at is missing or damaged, and no older
 * snapshot with the log entries after it is available.
 *
 * @example
 * ```ts
 * import { SnapshotMissingError } from "@rafthttp/rafthttp/storage";
 * console.log(new SnapshotMissingError("/data", 500n).name); // SnapshotMissingError
 * ```
 */
export class SnapshotMissingError extends RaftError {
  /** Creates the error for data directory `dir`, whose WAL needs the snapshot at `index`. */
  constructor(readonly dir: string, readonly index: bigint) {
    super(
      `no usable snapshot in ${dir}: the WAL starts after index ${index} but no intact snapshot ` +
        `file covers it; restore the snap directory from a backup, or remove the data directory ` +
        `and re-add the member so that it receives a snapshot from the leader`,
    );
  }
}
