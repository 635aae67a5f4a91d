/**
 * ReadOnly: ReadIndex requests waiting for a heartbeat round to confirm
 * that this leader is still the leader (etcd's ReadOnlySafe).
 *
 * @module
 */

import type { Message } from "../raftpb/mod.ts";

/** A ReadIndex request, the commit index when it arrived, and the acks so far. */
export interface ReadIndexStatus {
  /** The MsgReadIndex (from 0 if local; entries[0].data is the request context). */
  req: Message;
  /** The commit index when the request arrived: safe to read once applied. */
  index: bigint;
  /** Members that acknowledged a heartbeat carrying the context. */
  acks: Map<bigint, boolean>;
}

/** The key of a request context (bytes as a string). */
export function contextKey(ctx: Uint8Array): string {
  let s = "";
  for (const b of ctx) s += String.fromCharCode(b);
  return s;
}

/** Pending ReadIndex requests in arrival order. */
export class ReadOnly {
  readonly #pending = new Map<string, ReadIndexStatus>();
  #queue: string[] = [];

  /** Queues `m` (if its context is new) to be confirmed at commit index `index`. */
  addRequest(index: bigint, m: Message): void {
    const key = contextKey(m.entries[0].data);
    if (this.#pending.has(key)) return;
    this.#pending.set(key, { req: m, index, acks: new Map() });
    this.#queue.push(key);
  }

  /** Records `id`'s heartbeat ack for `ctx`; returns the acks so far, if pending. */
  recvAck(id: bigint, ctx: Uint8Array): Map<bigint, boolean> | undefined {
    const rs = this.#pending.get(contextKey(ctx));
    if (!rs) return undefined;
    rs.acks.set(id, true);
    return rs.acks;
  }

  /**
   * The request with context `ctx` is confirmed: it and every request
   * queued before it are released, in order.
   */
  advance(ctx: Uint8Array): ReadIndexStatus[] {
    const key = contextKey(ctx);
    const at = this.#queue.indexOf(key);
    if (at < 0) return [];
    const done = this.#queue.slice(0, at + 1);
    this.#queue = this.#queue.slice(at + 1);
    const out: ReadIndexStatus[] = [];
    for (const k of done) {
      const rs = this.#pending.get(k);
      if (rs) out.push(rs);
      this.#pending.delete(k);
    }
    return out;
  }

  /** The context of the newest pending request, to ride on heartbeats. */
  lastPendingRequestCtx(): Uint8Array | undefined {
    const key = this.#queue[this.#queue.length - 1];
    return key === undefined ? undefined : this.#pending.get(key)?.req.entries[0].data;
  }
}
