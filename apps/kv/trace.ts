/**
 * A member's trace of its writes (`--trace FILE`): the replica's steps (see
 * the replica's `Tracer`) and the KV's own (`httpIn` when a PUT arrives,
 * `propose` when it is handed to the replica, `reply` when its answer is
 * made), each with a clock shared by the processes of one machine
 * (`performance.timeOrigin + performance.now()`, ms), kept in memory (up to
 * a bound) and written as JSON lines when the member stops.
 * bench/kv_trace.ts puts the members' traces together.
 *
 * @module
 */

import type { Tracer, TraceStep } from "../../replica/mod.ts";

/** The KV's own steps of a PUT: arrived, proposed to the replica, answered. */
export type KvTraceStep = "httpIn" | "propose" | "reply";

/**
 * One step of one write on one member, as written to the trace file.
 *
 * @example
 * ```ts
 * import type { TraceRecord } from "./trace.ts";
 * const r: TraceRecord = { member: 1, step: "commit", t: 1.7e12, index: 42 };
 * console.log(r.index); // 42
 * ```
 */
export interface TraceRecord {
  /** The member's id. */
  member: number;
  /** The step. */
  step: TraceStep | KvTraceStep;
  /** When, ms since the epoch (fractional; the same clock in every process of the machine). */
  t: number;
  /** The entry index (replica steps that name one). */
  index?: number;
  /** The proposal's key (its wait key: `propose`, `forwardOut`, `forwardIn`, `apply`). */
  key?: string;
  /** The PUT's key (the KV's steps). */
  req?: string;
  /** The other member (messages sent and received). */
  peer?: number;
}

/**
 * What the KV reports its steps to: the replica's tracer and the KV's own.
 *
 * @example
 * ```ts
 * import { TraceRecorder, type KvTrace } from "./trace.ts";
 * const trace: KvTrace = new TraceRecorder(1n);
 * trace.request("httpIn", "/a");
 * ```
 */
export interface KvTrace {
  /** The replica's steps. */
  readonly replica: Tracer;
  /** A KV step of the PUT of `req` (its key); `key`: the proposal's wait key. */
  request(step: KvTraceStep, req: string, key?: string): void;
}

/** Records kept by default before further ones are dropped (about 100 bytes each). */
export const DEFAULT_MAX_RECORDS = 1_000_000;

/** The clock of a trace: ms since the epoch, shared by the processes of one machine. */
export function traceNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Keeps a member's trace in memory, up to `max` records (later ones are
 * counted as dropped).
 *
 * @example
 * ```ts
 * import { TraceRecorder } from "./trace.ts";
 * const rec = new TraceRecorder(2n);
 * rec.replica("commit", 5n);
 * rec.request("reply", "/a");
 * console.log(rec.records.map((r) => r.step), rec.dropped); // [ "commit", "reply" ] 0
 * ```
 */
export class TraceRecorder implements KvTrace {
  readonly #member: number;
  readonly #max: number;
  readonly #records: TraceRecord[] = [];
  #dropped = 0;

  /** A recorder for member `member`. */
  constructor(member: bigint, max: number = DEFAULT_MAX_RECORDS) {
    this.#member = Number(member);
    this.#max = max;
  }

  /** The replica's steps (pass as `ReplicaOptions.tracer`). */
  readonly replica: Tracer = (step, index, key, peer) => {
    const t = traceNow();
    const r: TraceRecord = { member: this.#member, step, t };
    if (index !== 0n) r.index = Number(index);
    if (key !== undefined) r.key = key;
    if (peer !== undefined) r.peer = Number(peer);
    this.#keep(r);
  };

  /** A KV step of the PUT of `req`. */
  request(step: KvTraceStep, req: string, key?: string): void {
    const r: TraceRecord = { member: this.#member, step, t: traceNow(), req };
    if (key !== undefined) r.key = key;
    this.#keep(r);
  }

  /** What was recorded, in order. */
  get records(): readonly TraceRecord[] {
    return this.#records;
  }

  /** Records not kept (beyond the bound). */
  get dropped(): number {
    return this.#dropped;
  }

  /** The records as JSON lines (with a last line `{"dropped": N}` when some were dropped). */
  toJsonLines(): string {
    const lines = this.#records.map((r) => JSON.stringify(r));
    if (this.#dropped > 0) {
      lines.push(JSON.stringify({ member: this.#member, dropped: this.#dropped }));
    }
    return lines.length === 0 ? "" : lines.join("\n") + "\n";
  }

  /** Writes the records to `path` (replacing it). */
  async writeTo(path: string): Promise<void> {
    await Deno.writeTextFile(path, this.toJsonLines());
  }

  #keep(r: TraceRecord): void {
    if (this.#records.length < this.#max) this.#records.push(r);
    else this.#dropped++;
  }
}
