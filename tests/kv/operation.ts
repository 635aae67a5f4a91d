// One client operation of a key-value history, as the checkers take it.

/** What a client asked. */
export type KvInput = { op: "put"; key: string; value: string } | { op: "get"; key: string };

/** One client operation as observed. */
export interface Operation {
  /** Which client issued it (for reports only). */
  client: number;
  input: KvInput;
  /** When the call was issued (any monotonic clock, e.g. performance.now()). */
  call: number;
  /** When the answer arrived; undefined when the outcome is unknown. */
  return?: number;
  /** For a get that was answered: the value read, undefined for "not found". */
  output?: string;
}
