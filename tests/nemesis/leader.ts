// Follows who leads during a run (polling the target every 300 ms) and
// records each change on the timeline.

import type { Cluster } from "./cluster.ts";
import type { Timeline } from "./timeline.ts";

/** The leader as last seen; `stop()` ends the polling. */
export class LeaderTracker {
  current: number | undefined;
  #stopped = false;
  #loop: Promise<void>;

  constructor(readonly cluster: Cluster, readonly timeline: Timeline, intervalMs = 300) {
    this.#loop = this.#run(intervalMs);
  }

  async #run(intervalMs: number): Promise<void> {
    while (!this.#stopped) {
      const id = await this.cluster.target.leader(this.cluster.live()).catch(() => undefined);
      if (id !== undefined && id !== this.current) {
        this.current = id;
        const slot = this.cluster.byId.get(id)?.slot ?? 0;
        this.timeline.leaders.push({ t: this.timeline.now(), id, slot });
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }

  /** Stops polling; resolves when the last poll is done. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
  }
}
