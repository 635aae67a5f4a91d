// What happened during a campaign run, in ms since its traffic started:
// faults (planned, applied or skipped, healed), leader changes, members
// that exited on their own, and per operation the slot it was sent to.

import type { FaultKind, PartitionShape } from "./schedule.ts";

/** One fault as it went. */
export interface FaultRecord {
  n: number;
  kind: FaultKind;
  shape?: PartitionShape;
  plannedAt: number;
  start: number;
  /** When it was healed (equal to start for a one-off action). */
  end?: number;
  slots: number[];
  outcome: "applied" | "skipped" | "failed";
  detail: string;
  healNote?: string;
}

/** A member seen leading from `t` on. */
export interface LeaderMark {
  t: number;
  id: number;
  slot: number;
}

/** A member that exited without the campaign asking. */
export interface ExitMark {
  t: number;
  id: number;
  slot: number;
  code: number;
  /** Its last output lines. */
  tail: string[];
}

/** Where and how an operation went (index: the operation's index in the history). */
export interface OpMeta {
  slot: number;
  /** A key written once by one client (never overwritten): its value must survive. */
  own: boolean;
}

/** The record of one run. */
export class Timeline {
  readonly t0 = performance.now();
  readonly faults: FaultRecord[] = [];
  readonly leaders: LeaderMark[] = [];
  readonly exits: ExitMark[] = [];

  /** Ms since the run started. */
  now(): number {
    return performance.now() - this.t0;
  }
}
