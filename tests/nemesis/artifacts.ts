// Writes a run's files: report-T.json (the summary), report-T.md, the
// timeline timeline-T.svg, and history-T.json (every operation, for a
// second look with the checker).

import type { RunResult } from "./campaign.ts";
import { markdown } from "./report_md.ts";
import { type Reproduce, summarize, type Summary } from "./report.ts";
import { type TimelineData, timelineSvg } from "./svg.ts";
import type { Target } from "./target.ts";

/** The picture's data for a run. */
export function timelineData(r: RunResult): TimelineData {
  const ops = r.history.map((o, i) => ({
    slot: r.meta[i]?.slot ?? 0,
    at: o.call,
    outcome: o.return !== undefined
      ? "ok" as const
      : o.input.op === "put"
      ? "unknown" as const
      : "failed" as const,
  })).filter((o) => o.slot > 0 && r.history.length > 0);
  const lostKeys = new Set(r.verdicts.lostWrites.map((l) => l.key));
  const lost = r.history.flatMap((o, i) =>
    o.input.op === "put" && o.return !== undefined && lostKeys.has(o.input.key)
      ? [{ slot: r.meta[i]?.slot ?? 0, t: o.return, key: o.input.key }]
      : []
  );
  // A loop, not Math.max(...all): a 60-minute history (~315,000 operations) overflows the stack.
  const endMs = r.history.reduce((m, o) => Math.max(m, o.return ?? o.call), r.runMs);
  return {
    title: `${r.target}, seed ${r.seed}: ${r.history.length} operations, ` +
      `${r.timeline.faults.filter((f) => f.outcome === "applied").length} faults, ` +
      `${r.verdicts.illegal.length} non-linearizable keys, ${r.verdicts.lostWrites.length} lost writes`,
    lanes: r.slotMembers.map((ids, i) =>
      `slot ${i + 1}: ${ids.length ? "member " + ids.join(", ") : "spare"}`
    ),
    endMs,
    ops,
    faults: r.timeline.faults,
    leaders: r.timeline.leaders,
    exits: r.timeline.exits,
    lost,
    healAt: r.healedAt,
  };
}

/** Writes the run's files into `dir`; its summary. */
export async function writeRun(
  dir: string,
  r: RunResult,
  t: Target,
  x: Reproduce,
): Promise<Summary> {
  const s = summarize(r, t, x);
  const svg = `timeline-${r.target}.svg`;
  await Deno.writeTextFile(`${dir}/report-${r.target}.json`, JSON.stringify(s, null, 1));
  await Deno.writeTextFile(`${dir}/report-${r.target}.md`, markdown(s, svg));
  await Deno.writeTextFile(`${dir}/${svg}`, timelineSvg(timelineData(r)));
  await Deno.writeTextFile(
    `${dir}/history-${r.target}.json`,
    JSON.stringify({ history: r.history, slots: r.meta.map((m) => m?.slot) }),
  );
  return s;
}
