// The markdown pages of a campaign: one per target, and a side-by-side
// table when several targets ran the same schedule.

import type { Summary } from "./report.ts";
import { FAULT_KINDS } from "./schedule.ts";

const s1 = (ms: number | undefined) => ms === undefined ? "-" : `${(ms / 1000).toFixed(2)} s`;

function faultTable(s: Summary): string[] {
  const rows = ["| fault | applied | skipped | failed |", "|---|---:|---:|---:|"];
  for (const k of FAULT_KINDS) {
    const f = s.faults[k];
    if (f) rows.push(`| ${k} | ${f.applied} | ${f.skipped} | ${f.failed} |`);
  }
  return rows;
}

function anomalyLines(s: Summary): string[] {
  const a = s.anomalies;
  const out = [
    `- non-linearizable keys: **${a.count}**` +
    (a.count > 0 ? ` (${a.illegalKeys.filter((k) => k.own).length} of them own keys)` : ""),
    `- acknowledged writes lost (own keys not found after the last heal): **${a.lostWrites.length}** of ${s.operations.ownAcked}`,
    `- keys the checker could not decide within its budget: ${a.undecided.length}`,
    `- own keys whose final read failed (unchecked): ${a.unverified}`,
  ];
  if (s.knownUnsafe) out.push(`- known about this target: ${s.knownUnsafe}`);
  for (const k of a.illegalKeys.slice(0, 3)) out.push("", "```", k.explanation, "```");
  return out;
}

function faultList(s: Summary, limit = 200): string[] {
  const rows = ["| # | at | healed | kind | slots | what |", "|---:|---:|---:|---|---|---|"];
  for (const f of s.faultList.slice(0, limit)) {
    const what = `${f.outcome === "applied" ? "" : `${f.outcome}: `}${f.detail}${
      f.healNote ? `; ${f.healNote}` : ""
    }`;
    const healed = f.end !== undefined && f.end > f.start ? s1(f.end) : "";
    rows.push(
      `| ${f.n} | ${s1(f.start)} | ${healed} | ${f.kind} | ${f.slots.join(",")} | ${
        what.replaceAll("|", "\\|")
      } |`,
    );
  }
  return rows;
}

/** The markdown page of one target's run; `svg` names its timeline picture. */
export function markdown(s: Summary, svg: string): string {
  const o = s.operations;
  const r = s.recovery;
  return [
    `# Nemesis: ${s.target}, seed ${s.seed}`,
    "",
    `${s.clean ? "No anomaly." : "**Anomalies or failures found.**"} Reproduce: \`${s.reproduce}\``,
    "",
    `${s.members} members (${s.net}); ${s.runSeconds} s of faults, ${s.wallSeconds} s in all; reads: ${s.readKind}.`,
    "",
    "## Operations",
    `${o.total} operations: PUT acknowledged ${o.putOk}, PUT unknown ${o.putUnknown}, ` +
    `GET answered ${o.getOk}, GET failed ${o.getFailed}; own keys acknowledged ${o.ownAcked}.`,
    "",
    "## Anomalies",
    ...anomalyLines(s),
    "",
    "## Faults",
    ...faultTable(s),
    "",
    `Leader changes: ${s.leaderChanges}. Members that exited on their own: ${s.unexpectedExits.length}` +
    (s.unexpectedExits.length
      ? ` (${s.unexpectedExits.map((e) => `${e.id} code ${e.code}`).join(", ")})`
      : "") +
    ".",
    s.liveness.length
      ? `Liveness: ${s.liveness.join("; ")}.`
      : "The cluster converged after the last heal.",
    "",
    `Recovery (heal to the next acknowledged write) over ${r.count} heals: median ${s1(r.p50)}, ` +
    `p90 ${s1(r.p90)}, max ${s1(r.max)}; no write after ${r.never} heals.`,
    "",
    `Timeline: [${svg}](${svg})`,
    "",
    "## Fault list",
    ...faultList(s),
    "",
  ].join("\n");
}

/** The targets side by side. */
export function sideBySide(all: Summary[]): string {
  const row = (name: string, f: (s: Summary) => string | number) =>
    `| ${name} | ${all.map((s) => f(s)).join(" | ")} |`;
  const applied = (s: Summary) =>
    Object.values(s.faults).reduce((n, f) => n + (f?.applied ?? 0), 0);
  return [
    `# Nemesis: the same schedule (seed ${all[0]?.seed}) against ${
      all.map((s) => s.target).join(", ")
    }`,
    "",
    `| | ${all.map((s) => s.target).join(" | ")} |`,
    `|---|${all.map(() => "---:").join("|")}|`,
    row("operations", (s) => s.operations.total),
    row("PUT acknowledged / unknown", (s) => `${s.operations.putOk} / ${s.operations.putUnknown}`),
    row("GET answered / failed", (s) => `${s.operations.getOk} / ${s.operations.getFailed}`),
    row("faults applied", applied),
    row("fault kinds supported", (s) => s.supports.join(", ")),
    row("non-linearizable keys", (s) => s.anomalies.count),
    row(
      "lost acknowledged writes",
      (s) => `${s.anomalies.lostWrites.length} of ${s.operations.ownAcked}`,
    ),
    row("undecided keys", (s) => s.anomalies.undecided.length),
    row("unexpected exits", (s) => s.unexpectedExits.length),
    row("recovery median / max", (s) => `${s1(s.recovery.p50)} / ${s1(s.recovery.max)}`),
    row("leader changes", (s) => s.leaderChanges),
    row("liveness", (s) => s.liveness.length ? s.liveness.join("; ") : "ok"),
    "",
  ].join("\n");
}
