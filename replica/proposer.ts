/**
 * The write path of a replica: a command is wrapped (envelope, or raw with
 * the user's `match`), queued, and proposed with the others queued until
 * the replica's loop runs, as one MsgProp (one append and one MsgApp per
 * follower for all of them). Raft forwards a follower's MsgProp to the
 * leader; it drops one at once when there is no leader, and then nothing
 * was sent.
 *
 * @module
 */

import { create, type Entry, MessageSchema, MessageType } from "../mod.ts";
import { ProposalDroppedError, type RawNode } from "../raft/mod.ts";
import { decodeEnvelope, encodeEnvelope } from "./envelope.ts";
import { NoLeaderError, ProposalTooLargeError, type ReplicaStoppedError } from "./errors.ts";
import type { RawEntries } from "./options.ts";
import { type KeyOf, Proposals, type WaitOptions } from "./proposals.ts";

/**
 * What the proposer needs from its replica.
 *
 * @example
 * ```ts ignore
 * const deps: ProposerDeps = { id: 1n, raw: undefined, maxCommandBytes: 1 << 20, run: (a) => loop.run(a) };
 * ```
 */
export interface ProposerDeps {
  /** This replica's id (the envelope's origin). */
  id: bigint;
  /** Raw entries instead of envelopes. */
  raw: RawEntries | undefined;
  /** Largest command, bytes. */
  maxCommandBytes: number;
  /** Queues an action on the core (the replica's RaftLoop). */
  run(action: (raft: RawNode) => void): boolean;
}

/**
 * Proposes commands and keeps their waits.
 *
 * @example
 * ```ts ignore
 * const proposer = new Proposer({ id: 1n, raw: undefined, maxCommandBytes: 1 << 20, run });
 * const result = await proposer.propose(new Uint8Array([1]), { timeoutMs: 5000 });
 * ```
 */
export class Proposer<R = unknown> {
  /** The proposals in flight. */
  readonly table: Proposals<R> = new Proposals<R>();
  readonly #d: ProposerDeps;
  readonly #keyOf: KeyOf;
  #seq: bigint;
  #flushQueued = false;

  /** Creates the proposer; the sequence starts at a random number, so that a restart never reuses one. */
  constructor(deps: ProposerDeps) {
    this.#d = deps;
    this.#seq = crypto.getRandomValues(new BigUint64Array(1))[0] >> 12n;
    const self = deps.id;
    const raw = deps.raw;
    this.#keyOf = raw !== undefined ? (data) => raw.match(data) : (data) => {
      try {
        const e = decodeEnvelope(data);
        return e.origin === self ? `${e.seq}` : undefined;
      } catch {
        return undefined;
      }
    };
  }

  /** Names this replica's own entries (for {@link Proposals.appended}). */
  get keyOf(): KeyOf {
    return this.#keyOf;
  }

  /** Proposes `command`; resolves with what `apply` returned for its entry on this replica. */
  propose(command: Uint8Array, options: WaitOptions): Promise<R> {
    if (command.length > this.#d.maxCommandBytes) {
      return Promise.reject(new ProposalTooLargeError(command.length, this.#d.maxCommandBytes));
    }
    let key: string;
    let data: Uint8Array;
    if (this.#d.raw !== undefined) {
      key = this.#d.raw.match(command) ?? "";
      data = command;
    } else {
      const seq = ++this.#seq;
      key = `${seq}`;
      data = encodeEnvelope(this.#d.id, seq, command);
    }
    const done = this.table.add(key, data, options);
    this.#scheduleFlush();
    return done;
  }

  /**
   * The command of a committed normal entry, for `apply` (throws on a
   * malformed envelope). Which proposal it answers was settled when it was
   * appended (see {@link Proposals.applied}).
   */
  command(e: Entry): Uint8Array {
    return this.#d.raw !== undefined ? e.data : decodeEnvelope(e.data).command;
  }

  /** Fails every proposal (the replica stops). */
  close(error: ReplicaStoppedError): void {
    this.table.close(error);
  }

  #scheduleFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = this.#d.run((r) => {
      this.#flushQueued = false;
      this.#flush(r);
    });
    if (!this.#flushQueued) {
      this.table.dropped(this.table.takeQueued(), new NoLeaderError("the replica is not running"));
    }
  }

  #flush(r: RawNode): void {
    const batch = this.table.takeQueued();
    if (batch.length === 0) return;
    try {
      r.step(create(MessageSchema, {
        type: MessageType.MsgProp,
        from: this.#d.id,
        entries: batch.map((p) => ({ data: p.data })),
      }));
    } catch (e) {
      const error = e instanceof ProposalDroppedError ? new NoLeaderError(e.reason) : e as Error;
      this.table.dropped(batch, error);
      return;
    }
    this.table.sent(batch, r.term);
  }
}
