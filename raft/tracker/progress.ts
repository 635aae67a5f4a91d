/**
 * Progress: the leader's view of one follower (etcd's tracker.Progress):
 * how far it matches, what to send next, and in which state it is.
 *
 * @module
 */

import { Inflights } from "./inflights.ts";

/**
 * probe: send one MsgApp at a time until a match is found; replicate:
 * stream optimistically within the in-flight window; snapshot: wait for a
 * snapshot to be applied.
 *
 * @example
 * ```ts
 * import type { ProgressState, Status } from "@rafthttp/rafthttp/raft";
 * const lagging = (st: Pick<Status, "progress">) =>
 *   [...(st.progress ?? [])].filter(([, p]) => p.state !== ("replicate" satisfies ProgressState));
 * const progress = new Map([[2n, { match: 3n, next: 4n, state: "probe" as ProgressState }]]);
 * console.log(lagging({ progress }).length); // 1
 * ```
 */
export type ProgressState = "probe" | "replicate" | "snapshot";

/** The leader's replication state of one member. */
export class Progress {
  /** Highest index known to match the leader's log. */
  match = 0n;
  /** Next index to send. */
  next: bigint;
  /** Flow-control state. */
  state: ProgressState = "probe";
  /** Index of the snapshot being sent, in state snapshot. */
  pendingSnapshot = 0n;
  /** Heard from within the last election timeout (CheckQuorum). */
  recentActive = false;
  /** In probe: a MsgApp was sent and not answered; wait before the next. */
  probeSent = false;
  /** MsgApp messages not yet acknowledged. */
  readonly inflights: Inflights;

  /** Starts in probe at `next`, with a window of `maxInflight` messages. */
  constructor(next: bigint, maxInflight: number, public isLearner = false) {
    this.next = next;
    this.inflights = new Inflights(maxInflight);
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0n;
    this.state = state;
    this.inflights.reset();
  }

  /** Back to probing, from just after what is known to match (or the snapshot). */
  becomeProbe(): void {
    if (this.state === "snapshot") {
      const pending = this.pendingSnapshot;
      this.resetState("probe");
      this.next = (this.match > pending ? this.match : pending) + 1n;
    } else {
      this.resetState("probe");
      this.next = this.match + 1n;
    }
  }

  /** Streams entries from just after the match. */
  becomeReplicate(): void {
    this.resetState("replicate");
    this.next = this.match + 1n;
  }

  /** Waits for the snapshot at `index` to be applied. */
  becomeSnapshot(index: bigint): void {
    this.resetState("snapshot");
    this.pendingSnapshot = index;
  }

  /** The follower acknowledged up to `n`; returns true if the match grew. */
  maybeUpdate(n: bigint): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    if (this.next < n + 1n) this.next = n + 1n;
    return updated;
  }

  /** Entries up to `n` were sent (replicate state). */
  optimisticUpdate(n: bigint): void {
    this.next = n + 1n;
  }

  /**
   * The follower rejected MsgApp at `rejected`; `hint` is its guess of
   * the highest index that may match. Returns false for a stale rejection.
   */
  maybeDecrTo(rejected: bigint, hint: bigint): boolean {
    if (this.state === "replicate") {
      if (rejected <= this.match) return false;
      this.next = this.match + 1n;
      return true;
    }
    if (this.next - 1n !== rejected) return false;
    const candidate = rejected < hint + 1n ? rejected : hint + 1n;
    this.next = candidate < 1n ? 1n : candidate;
    this.probeSent = false;
    return true;
  }

  /** True if nothing may be sent to this member right now. */
  isPaused(): boolean {
    switch (this.state) {
      case "probe":
        return this.probeSent;
      case "replicate":
        return this.inflights.full();
      case "snapshot":
        return true;
    }
  }
}
