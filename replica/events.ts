/**
 * What a replica reports as it runs: leader changes, membership changes,
 * and its stop. Each `events()` iterator gets every event from its creation
 * on (a slow reader keeps the newest 1024); after the stop event it ends,
 * and one created after the stop yields only that event.
 *
 * @module
 */

/**
 * A member of the cluster as a replica knows it.
 *
 * @example
 * ```ts
 * import type { MemberStatus } from "@rafthttp/rafthttp/replica";
 * const m: MemberStatus = { id: 1n, urls: ["http://127.0.0.1:9001"], role: "voter" };
 * console.log(m.role); // voter
 * ```
 */
export interface MemberStatus {
  /** The member's id. */
  id: bigint;
  /** Its peer URLs (empty if this replica never learned them). */
  urls: string[];
  /**
   * A voter counts toward quorum; a learner only receives the log. In a
   * joint configuration, a voter of either side is a voter.
   */
  role: "voter" | "learner";
  /**
   * Only in a joint configuration, for a voter of one side only:
   * "incoming", it votes in the new configuration only (added or
   * promoted); "outgoing", in the old one only (it goes, or becomes a
   * learner, when the joint configuration is left). Absent otherwise.
   */
  joint?: "incoming" | "outgoing";
}

/**
 * One event of `replica.events()`.
 *
 * @example
 * ```ts
 * import type { ReplicaEvent } from "@rafthttp/rafthttp/replica";
 * const describe = (e: ReplicaEvent) =>
 *   e.type === "leader" ? `leader ${e.leader} in term ${e.term}`
 *   : e.type === "members" ? `${e.members.length} members at ${e.index}`
 *   : `stopped (${e.reason})`;
 * console.log(describe({ type: "leader", leader: 2n, term: 3n })); // leader 2 in term 3
 * ```
 */
export type ReplicaEvent =
  | {
    /** The known leader changed (0n: none known). */
    type: "leader";
    leader: bigint;
    term: bigint;
  }
  | {
    /**
     * A membership change was applied at `index` (or came with a
     * snapshot): entering a joint configuration (`joint` true) and leaving
     * it are two events.
     */
    type: "members";
    index: bigint;
    members: MemberStatus[];
    /** True while the configuration is joint (see `MemberStatus.joint`). */
    joint: boolean;
  }
  | ReplicaStopEvent;

/**
 * The last event: why the replica stopped.
 *
 * @example
 * ```ts
 * import type { ReplicaStopEvent } from "@rafthttp/rafthttp/replica";
 * const e: ReplicaStopEvent = { type: "stopped", reason: "removed" };
 * console.log(e.reason); // removed
 * ```
 */
export interface ReplicaStopEvent {
  /** The replica stopped; no event follows. */
  type: "stopped";
  /** `stop()` was called, the member was removed from the cluster, or an error halted it. */
  reason: "stop" | "removed" | "error";
  /** With reason "error": what halted it (a `StateMachineError` names the entry). */
  error?: Error;
}

const MAX_QUEUED = 1024;

interface Subscriber {
  queue: ReplicaEvent[];
  wake: (() => void) | undefined;
  done: boolean;
}

/**
 * Fans events out to every open iterator.
 *
 * @example
 * ```ts
 * import { EventHub } from "./events.ts";
 * const hub = new EventHub();
 * const it = hub.subscribe();
 * hub.emit({ type: "leader", leader: 1n, term: 2n });
 * hub.close({ type: "stopped", reason: "stop" });
 * for await (const e of it) console.log(e.type); // leader, then stopped
 * ```
 */
export class EventHub {
  readonly #subs = new Set<Subscriber>();
  #final: ReplicaStopEvent | undefined;

  /** The stop event, once it happened. */
  get final(): ReplicaStopEvent | undefined {
    return this.#final;
  }

  /** Delivers `e` to every open iterator. */
  emit(e: ReplicaEvent): void {
    if (this.#final !== undefined) return;
    for (const s of this.#subs) this.#push(s, e);
  }

  /** Delivers the stop event; iterators end after it. */
  close(final: ReplicaStopEvent): void {
    if (this.#final !== undefined) return;
    this.#final = final;
    for (const s of this.#subs) {
      this.#push(s, final);
      s.done = true;
    }
    this.#subs.clear();
  }

  /** A new iterator over the events from now on. */
  subscribe(): AsyncIterableIterator<ReplicaEvent> {
    const s: Subscriber = { queue: [], wake: undefined, done: false };
    if (this.#final !== undefined) {
      s.queue.push(this.#final);
      s.done = true;
    } else this.#subs.add(s);
    const next = async (): Promise<IteratorResult<ReplicaEvent>> => {
      while (s.queue.length === 0 && !s.done) {
        await new Promise<void>((resolve) => s.wake = resolve);
      }
      const value = s.queue.shift();
      return value === undefined ? { done: true, value: undefined } : { done: false, value };
    };
    const end = (): Promise<IteratorResult<ReplicaEvent>> => {
      this.#subs.delete(s);
      s.done = true;
      s.queue = [];
      s.wake?.();
      return Promise.resolve({ done: true, value: undefined });
    };
    return {
      next,
      return: end,
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  #push(s: Subscriber, e: ReplicaEvent): void {
    if (s.queue.length >= MAX_QUEUED) s.queue.shift();
    s.queue.push(e);
    const wake = s.wake;
    s.wake = undefined;
    wake?.();
  }
}
