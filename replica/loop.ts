/**
 * The one place that touches the RawNode: a queue of actions (ticks,
 * received messages, proposals, reports) run in order, and after them each
 * Ready handled to the end (persist, send, apply) before `advance`. So the
 * core is never stepped while a Ready is out, and actions that arrive
 * during an fsync are batched into the next Ready.
 *
 * @module
 */

import type { Logger } from "../mod.ts";
import type { RawNode, Ready } from "../raft/mod.ts";

/**
 * Handles one Ready fully; `advance` follows when it resolves.
 *
 * @example
 * ```ts ignore
 * const handle: ReadyHandler = async (rd) => { await disk.save(rd); transport.send(rd.messages); };
 * ```
 */
export type ReadyHandler = (rd: Ready) => Promise<void>;

/**
 * An action on the core. One that returns a promise holds the loop until it
 * settles (no step and no Ready meanwhile): for work that must not
 * interleave with Ready handling, such as recording a snapshot taken in the
 * background.
 *
 * @example
 * ```ts ignore
 * loop.run((raft) => raft.tick()); // synchronous
 * loop.run(async () => await disk.saveSnapshot(snap)); // holds the loop until saved
 * ```
 */
export type LoopAction = (raft: RawNode) => void | Promise<void>;

/**
 * A serialized driver of one RawNode.
 *
 * @example
 * ```ts ignore
 * const loop = new RaftLoop(rawNode, async (rd) => { await persist(rd); send(rd.messages); }, log, fail);
 * loop.run((raft) => raft.tick());
 * await loop.idle();
 * ```
 */
export class RaftLoop {
  readonly #raft: RawNode;
  readonly #handle: ReadyHandler;
  readonly #log: Logger;
  readonly #maxQueued: number;
  readonly #onFatal: (e: Error) => void;
  #queue: LoopAction[] = [];
  #running: Promise<void> | undefined;
  #stopped = false;
  #dropped = 0;

  /**
   * `onFatal` gets an error thrown while handling a Ready (a failed fsync):
   * the loop stops, since the core's state can no longer match the disk.
   * `maxQueued` bounds waiting actions (raft messages beyond it are dropped;
   * raft resends).
   */
  constructor(
    raft: RawNode,
    handle: ReadyHandler,
    log: Logger,
    onFatal: (e: Error) => void,
    maxQueued = 16384,
  ) {
    this.#raft = raft;
    this.#handle = handle;
    this.#log = log;
    this.#onFatal = onFatal;
    this.#maxQueued = maxQueued;
  }

  /** Queues an action on the core; false if it was dropped (queue full or stopped). */
  run(action: LoopAction): boolean {
    if (this.#stopped) return false;
    if (this.#queue.length >= this.#maxQueued) {
      if (this.#dropped++ % 1000 === 0) {
        this.#log.warn("raft action queue full; dropping (raft retransmits)", {
          dropped: this.#dropped,
        });
      }
      return false;
    }
    this.#queue.push(action);
    this.#running ??= this.#drain();
    return true;
  }

  /** Resolves when nothing is queued or being handled. */
  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  /** Stops taking actions; resolves once the Ready being handled is done. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#queue = [];
    await this.idle();
  }

  async #drain(): Promise<void> {
    await Promise.resolve(); // let the caller's synchronous burst queue up first
    try {
      while (!this.#stopped) {
        const actions = this.#queue;
        this.#queue = [];
        for (const act of actions) {
          try {
            const pending = act(this.#raft);
            if (pending !== undefined) await pending;
          } catch (e) {
            this.#log.debug("raft refused an action", { error: (e as Error).message });
          }
        }
        if (!this.#raft.hasReady()) {
          if (this.#queue.length === 0) break;
          continue;
        }
        const rd = this.#raft.ready();
        await this.#handle(rd);
        this.#raft.advance(rd);
      }
    } catch (e) {
      this.#stopped = true;
      this.#queue = [];
      this.#onFatal(e as Error);
    } finally {
      this.#running = undefined;
    }
  }
}
