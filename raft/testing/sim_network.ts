/**
 * The simulation's network: in-flight messages that it drops, duplicates,
 * delays, reorders and cuts by partition, all decided by a seeded PRNG.
 *
 * @module
 */

import type { Message } from "../../raftpb/mod.ts";
import type { SimRandom } from "./sim_random.ts";

/** How hostile the network is. */
export interface NetworkFaults {
  /** Probability that a message is lost. */
  drop: number;
  /** Probability that a message is delivered twice. */
  duplicate: number;
  /** Most steps a message is held back. */
  maxDelay: number;
}

interface InFlight {
  msg: Message;
  at: number;
}

/** Messages in flight between members. */
export class SimNetwork {
  #inflight: InFlight[] = [];
  /** member -> side of the current partition (undefined: fully connected). */
  partition: Map<bigint, number> | undefined;

  /** `faults` may be changed between steps (the final phase turns them off). */
  constructor(readonly rnd: SimRandom, public faults: NetworkFaults) {}

  /** True if `a` and `b` cannot talk because of the partition. */
  cut(a: bigint, b: bigint): boolean {
    const p = this.partition;
    return p !== undefined && (p.get(a) ?? 0) !== (p.get(b) ?? 0);
  }

  /** Queues `m`; returns false if it was lost on the way. */
  send(m: Message, now: number): boolean {
    if (this.cut(m.from, m.to) || this.rnd.chance(this.faults.drop)) return false;
    this.#inflight.push({ msg: m, at: now + this.rnd.int(this.faults.maxDelay + 1) });
    if (this.rnd.chance(this.faults.duplicate)) {
      this.#inflight.push({ msg: m, at: now + this.rnd.int(this.faults.maxDelay + 1) });
    }
    return true;
  }

  /**
   * A random message that is due (reordering), and
   * whether a partition cut it on the way; undefined if none is due.
   */
  take(now: number): { msg: Message; lost: boolean } | undefined {
    const due: number[] = [];
    for (let i = 0; i < this.#inflight.length; i++) if (this.#inflight[i].at <= now) due.push(i);
    if (due.length === 0) return undefined;
    const i = this.rnd.pick(due);
    const [f] = this.#inflight.splice(i, 1);
    // A partition also cuts what is in flight.
    return { msg: f.msg, lost: this.cut(f.msg.from, f.msg.to) };
  }

  /** Messages in flight. */
  size(): number {
    return this.#inflight.length;
  }
}
