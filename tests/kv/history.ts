/**
 * Records client operations for the linearizability checker: the call time
 * when a request starts, the return time and result when it is answered,
 * nothing when its outcome is unknown.
 *
 * @module
 */

import type { KvInput, Operation } from "./linearizability.ts";

/**
 * A shared log of operations of many concurrent clients.
 *
 * @example
 * ```ts
 * import { History } from "./history.ts";
 * const h = new History();
 * const id = h.begin(1, { op: "get", key: "a" });
 * h.end(id, undefined);
 * console.log(h.operations().length); // 1
 * ```
 */
export class History {
  #ops: Operation[] = [];
  #clock: () => number;

  /** `clock` defaults to performance.now(). */
  constructor(clock: () => number = () => performance.now()) {
    this.#clock = clock;
  }

  /** Records a call now; returns the id to pass to end(). */
  begin(client: number, input: KvInput): number {
    this.#ops.push({ client, input, call: this.#clock() });
    return this.#ops.length - 1;
  }

  /** Records the answer: the value a get read (undefined for not found); for a put, nothing. */
  end(id: number, output?: string): void {
    const op = this.#ops[id];
    op.return = this.#clock();
    if (op.input.op === "get") op.output = output;
  }

  /** A copy of what was recorded; operations never ended have an unknown outcome. */
  operations(): Operation[] {
    return this.#ops.map((o) => ({ ...o }));
  }

  /** Puts that were acknowledged (their value must be readable at the end). */
  acknowledgedPuts(): Operation[] {
    return this.#ops.filter((o) => o.input.op === "put" && o.return !== undefined);
  }
}
