/**
 * Runs a fault schedule against a cluster: each planned fault starts at its
 * time on its own task (so faults overlap), is healed after its duration,
 * and is recorded on the timeline as applied, skipped (the target does not
 * support it, or no member qualifies) or failed. `healAll` ends every wait
 * early, so that the run's end heals everything.
 *
 * @module
 */

import type { FaultContext, FaultFn } from "./fault_context.ts";
import { crash, fsync, kill, pause, slowdisk, tear } from "./faults_process.ts";
import { amnesia } from "./faults_amnesia.ts";
import { partition, slow } from "./faults_net.ts";
import { joint, member, snapshot, transfer } from "./faults_member.ts";
import { Rng } from "./rng.ts";
import type { FaultKind, FaultPlan } from "./schedule.ts";
import { UnsupportedHookError } from "./target_ours.ts";
import type { FaultRecord, Timeline } from "./timeline.ts";

const FAULTS: Record<FaultKind, FaultFn> = {
  kill,
  crash,
  amnesia,
  pause,
  partition,
  slow,
  transfer,
  member,
  joint,
  snapshot,
  fsync,
  tear,
  slowdisk,
};

/** Applies and heals a schedule's faults; see the module doc. */
export class Nemesis {
  readonly #heal = new AbortController();
  readonly #tasks: Promise<void>[] = [];

  constructor(
    readonly ctx: Omit<FaultContext, "sleep">,
    readonly supports: Set<FaultKind>,
    readonly timeline: Timeline,
  ) {}

  /** Waits `ms`, or less once {@link healAll} was called. */
  sleep = (ms: number): Promise<void> => {
    if (this.#heal.signal.aborted || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done =
        () => (clearTimeout(t), this.#heal.signal.removeEventListener("abort", done), resolve());
      const t = setTimeout(done, ms);
      this.#heal.signal.addEventListener("abort", done, { once: true });
    });
  };

  /** Starts every fault's task. */
  start(plans: FaultPlan[]): void {
    for (const p of plans) this.#tasks.push(this.#one(p));
  }

  /** Ends every pending wait (faults not started are skipped) and waits for every heal. */
  async healAll(): Promise<void> {
    this.#heal.abort();
    await Promise.all(this.#tasks);
  }

  async #one(plan: FaultPlan): Promise<void> {
    await this.sleep(plan.at - this.timeline.now());
    const rec: FaultRecord = {
      n: plan.n,
      kind: plan.kind,
      shape: plan.shape,
      plannedAt: plan.at,
      start: this.timeline.now(),
      slots: [],
      outcome: "skipped",
      detail: "",
    };
    this.timeline.faults.push(rec);
    if (this.#heal.signal.aborted) return void (rec.detail = "the run ended first");
    if (!this.supports.has(plan.kind)) return void (rec.detail = "not supported by the target");
    try {
      const r = await FAULTS[plan.kind](
        { ...this.ctx, sleep: this.sleep },
        plan,
        new Rng(plan.seed),
      );
      if ("skipped" in r) return void (rec.detail = r.skipped);
      Object.assign(rec, { outcome: "applied", slots: r.slots, detail: r.detail });
      if (r.heal === undefined) return void (rec.end = rec.start);
      await this.sleep(plan.durationMs - (this.timeline.now() - rec.start));
      rec.healNote = (await r.heal()) ?? undefined;
    } catch (e) {
      if (e instanceof UnsupportedHookError) {
        this.supports.delete(plan.kind);
        return void (rec.detail = e.message);
      }
      rec.outcome = "failed";
      rec.detail = `${rec.detail ? rec.detail + "; " : ""}${(e as Error).message}`;
    } finally {
      rec.end ??= this.timeline.now();
    }
  }
}
