/**
 * The campaign's clients: each loops, at a bounded rate, over a PUT of a
 * unique value or a GET on a few shared keys (so that operations conflict),
 * and every fifth operation writes a key of its own, never overwritten,
 * whose value must be readable at the end. Every operation is recorded with
 * its call and return time; a PUT without an acknowledgement has an unknown
 * outcome (no return); a failed GET constrains nothing.
 *
 * @module
 */

import { History } from "../kv/history.ts";
import type { Cluster } from "./cluster.ts";
import { Rng } from "./rng.ts";
import type { OpMeta, Timeline } from "./timeline.ts";

/** How the clients behave. */
export interface WorkloadOptions {
  clients: number;
  /** The shared keys, e.g. ["/k1", "/k2", "/k3"]. */
  keys: string[];
  /** Operations per second per client, at most. */
  rate: number;
  /** A request not answered by then counts as unknown (PUT) or failed (GET), ms. */
  timeoutMs: number;
  seed: number;
}

/** Counts of operations by outcome. */
export interface OpCounts {
  putOk: number;
  putUnknown: number;
  getOk: number;
  getFailed: number;
}

/** The recorded operations of a run's clients. */
export class Workload {
  readonly history: History;
  readonly meta: OpMeta[] = [];
  /** Own keys whose PUT was acknowledged, with their value. */
  readonly ackedOwn = new Map<string, string>();
  readonly counts: OpCounts = { putOk: 0, putUnknown: 0, getOk: 0, getFailed: 0 };

  constructor(readonly cluster: Cluster, timeline: Timeline, readonly o: WorkloadOptions) {
    this.history = new History(() => timeline.now());
  }

  /** PUT through the member in `slot`; true if acknowledged. */
  async put(client: number, slot: number, key: string, value: string, own = false) {
    const id = this.history.begin(client, { op: "put", key, value });
    this.meta[id] = { slot, own };
    const m = this.cluster.at(slot);
    const r = m ? await this.cluster.target.put(m, key, value, this.o.timeoutMs) : "unknown";
    if (r === "ok") this.history.end(id);
    this.counts[r === "ok" ? "putOk" : "putUnknown"]++;
    return r === "ok";
  }

  /** GET through the member in `slot`: the value, null if not found, undefined if it failed. */
  async get(client: number, slot: number, key: string, own = false) {
    const id = this.history.begin(client, { op: "get", key });
    this.meta[id] = { slot, own };
    const m = this.cluster.at(slot);
    const r = m ? await this.cluster.target.get(m, key, this.o.timeoutMs) : undefined;
    if (r !== undefined) this.history.end(id, r ?? undefined);
    this.counts[r === undefined ? "getFailed" : "getOk"]++;
    return r;
  }

  /** Runs every client until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const gap = 1000 / this.o.rate;
    const one = async (client: number) => {
      const rng = new Rng(this.o.seed * 31 + client);
      for (let seq = 1; !signal.aborted; seq++) {
        const began = performance.now();
        const slots = this.cluster.activeSlots();
        const slot = rng.pick(slots);
        const key = rng.pick(this.o.keys);
        if (seq % 5 === 0) {
          const [own, value] = [`/own-${client}-${seq}`, `o${client}-${seq}`];
          if (await this.put(client, slot, own, value, true)) this.ackedOwn.set(own, value);
        } else if (rng.chance(0.5)) await this.put(client, slot, key, `c${client}-${seq}`);
        else await this.get(client, slot, key);
        const wait = gap - (performance.now() - began);
        if (wait > 0 && !signal.aborted) await new Promise((r) => setTimeout(r, wait));
      }
    };
    await Promise.all(Array.from({ length: this.o.clients }, (_, i) => one(i + 1)));
  }
}
