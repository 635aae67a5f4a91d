/**
 * The timeline picture of a run (SVG, opens in any browser): one lane per
 * member slot; in each lane, the operations sent to it per time bin as
 * stacked bars coloured by outcome; faults as translucent bands over the
 * lanes they touched; marks where a member became leader, where a member
 * exited on its own, and where a lost acknowledged write was made.
 *
 * @module
 */

import type { ExitMark, FaultRecord, LeaderMark } from "./timeline.ts";

/** What the picture shows. */
export interface TimelineData {
  title: string;
  /** Lane labels, one per slot (index slot - 1). */
  lanes: string[];
  endMs: number;
  ops: { slot: number; at: number; outcome: "ok" | "unknown" | "failed" }[];
  faults: FaultRecord[];
  leaders: LeaderMark[];
  exits: ExitMark[];
  lost: { slot: number; t: number; key: string }[];
  /** When every fault was healed (the faulty part ended). */
  healAt?: number;
}

const W = 1200;
const LEFT = 150;
const RIGHT = 20;
const TOP = 64;
const LANE = 44;
const BINS = 300;

/** Colours of the fault kinds. */
export const KIND_COLOR: Record<string, string> = {
  kill: "#d62728",
  crash: "#8c1c13",
  amnesia: "#5a0000",
  pause: "#9467bd",
  partition: "#1f77b4",
  slow: "#17becf",
  transfer: "#7f7f7f",
  member: "#bcbd22",
  joint: "#e377c2",
  snapshot: "#8c564b",
  fsync: "#ff7f0e",
  tear: "#ff9896",
};
const OP_COLOR = { ok: "#2ca02c", unknown: "#ffaa00", failed: "#b0b0b0" };

const esc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function tickStep(endMs: number): number {
  const steps = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200].map((s) => s * 1000);
  return steps.find((s) => endMs / s <= 12) ?? 3600_000;
}

function opBars(
  d: TimelineData,
  x: (t: number) => number,
  laneY: (slot: number) => number,
): string[] {
  const binMs = Math.max(1, d.endMs / BINS);
  const counts = new Map<string, Record<string, number>>();
  for (const o of d.ops) {
    const k = `${o.slot}:${Math.floor(o.at / binMs)}`;
    const c = counts.get(k) ?? { ok: 0, unknown: 0, failed: 0 };
    c[o.outcome]++;
    counts.set(k, c);
  }
  // Scaled to the 95th percentile of the bins, so that the burst of final reads does not
  // flatten the rest (taller bins are clipped at the lane's height).
  const totals = [...counts.values()].map((c) => c.ok + c.unknown + c.failed).sort((a, b) => a - b);
  const max = Math.max(1, totals[Math.floor(totals.length * 0.95)] ?? 1);
  const out: string[] = [];
  const barW = Math.max(1, x(binMs) - x(0));
  for (const [k, c] of counts) {
    const [slot, bin] = k.split(":").map(Number);
    let y = laneY(slot) + LANE - 3;
    for (const outcome of ["ok", "unknown", "failed"] as const) {
      const h = Math.min(c[outcome] / max, 1.2) * (LANE * 0.5);
      if (h <= 0) continue;
      y -= h;
      out.push(
        `<rect x="${x(bin * binMs).toFixed(1)}" y="${y.toFixed(1)}" width="${
          barW.toFixed(1)
        }" height="${h.toFixed(1)}" fill="${OP_COLOR[outcome]}"/>`,
      );
    }
  }
  return out;
}

function faultBands(
  d: TimelineData,
  x: (t: number) => number,
  laneY: (slot: number) => number,
): string[] {
  const out: string[] = [];
  for (const f of d.faults) {
    if (f.outcome !== "applied") continue;
    const x0 = x(f.start);
    const w = Math.max(2, x(f.end ?? f.start) - x0);
    const title = esc(
      `#${f.n} ${f.kind} ${(f.start / 1000).toFixed(1)}-${
        ((f.end ?? f.start) / 1000).toFixed(1)
      } s: ${f.detail}`,
    );
    for (const s of f.slots) {
      out.push(
        `<rect x="${x0.toFixed(1)}" y="${laneY(s) + 2}" width="${w.toFixed(1)}" height="${
          LANE - 4
        }" fill="${
          KIND_COLOR[f.kind] ?? "#999"
        }" fill-opacity="0.28"><title>${title}</title></rect>`,
      );
    }
  }
  return out;
}

function marks(
  d: TimelineData,
  x: (t: number) => number,
  laneY: (slot: number) => number,
): string[] {
  const out: string[] = [];
  for (const l of d.leaders) {
    if (l.slot < 1) continue;
    const [cx, y] = [x(l.t), laneY(l.slot) + 3];
    out.push(
      `<polygon points="${cx - 5},${y} ${cx + 5},${y} ${cx},${
        y + 8
      }" fill="#000"><title>member ${l.id} leads from ${
        (l.t / 1000).toFixed(2)
      } s</title></polygon>`,
    );
  }
  for (const e of d.exits) {
    out.push(
      `<text x="${x(e.t)}" y="${
        laneY(e.slot) + 16
      }" fill="#d00" font-size="14" text-anchor="middle">✕<title>${
        esc(`member ${e.id} exited (code ${e.code}) at ${(e.t / 1000).toFixed(2)} s`)
      }</title></text>`,
    );
  }
  for (const l of d.lost) {
    out.push(
      `<circle cx="${x(l.t).toFixed(1)}" cy="${
        laneY(l.slot) + LANE / 2
      }" r="3.5" fill="#e00" stroke="#600"><title>${esc(`lost write ${l.key}`)}</title></circle>`,
    );
  }
  return out;
}

function axisAndLegend(d: TimelineData, x: (t: number) => number, height: number): string[] {
  const out: string[] = [];
  const step = tickStep(d.endMs);
  for (let t = 0; t <= d.endMs; t += step) {
    out.push(`<line x1="${x(t)}" y1="${TOP - 4}" x2="${x(t)}" y2="${height - 24}" stroke="#ddd"/>`);
    out.push(
      `<text x="${x(t)}" y="${height - 8}" font-size="11" text-anchor="middle">${
        t / 1000
      } s</text>`,
    );
  }
  const kinds = [...new Set(d.faults.filter((f) => f.outcome === "applied").map((f) => f.kind))];
  const items: [string, string][] = [
    ...(Object.entries(OP_COLOR) as [string, string][]).map(([k, c]) =>
      [`op ${k}`, c] as [string, string]
    ),
    ...kinds.map((k) => [k, KIND_COLOR[k] ?? "#999"] as [string, string]),
  ];
  let lx = LEFT;
  for (const [name, color] of items) {
    out.push(`<rect x="${lx}" y="30" width="10" height="10" fill="${color}"/>`);
    out.push(`<text x="${lx + 14}" y="39" font-size="11">${esc(name)}</text>`);
    lx += 26 + name.length * 7;
  }
  out.push(`<text x="${lx}" y="39" font-size="11">▼ new leader  ✕ exited  ● lost write</text>`);
  if (d.healAt !== undefined) {
    const hx = x(d.healAt);
    out.push(
      `<line x1="${hx}" y1="${TOP - 4}" x2="${hx}" y2="${
        height - 24
      }" stroke="#000" stroke-dasharray="4 3"/>`,
    );
    out.push(`<text x="${hx + 3}" y="${TOP - 6}" font-size="11">all healed</text>`);
  }
  return out;
}

/**
 * The SVG picture of `d`.
 *
 * @example
 * ```ts
 * import { timelineSvg } from "./svg.ts";
 * const svg = timelineSvg({
 *   title: "demo", lanes: ["slot 1"], endMs: 1000, faults: [], leaders: [], exits: [], lost: [],
 *   ops: [{ slot: 1, at: 10, outcome: "ok" }],
 * });
 * console.log(svg.startsWith("<svg")); // true
 * ```
 */
export function timelineSvg(d: TimelineData): string {
  const height = TOP + d.lanes.length * LANE + 30;
  const span = Math.max(1, d.endMs);
  const x = (t: number) => LEFT + (Math.min(Math.max(t, 0), span) / span) * (W - LEFT - RIGHT);
  const laneY = (slot: number) => TOP + (slot - 1) * LANE;
  const lanes = d.lanes.map((label, i) =>
    `<rect x="${LEFT}" y="${laneY(i + 1)}" width="${W - LEFT - RIGHT}" height="${LANE}" fill="${
      i % 2 ? "#fafafa" : "#f0f0f0"
    }"/>` +
    `<text x="8" y="${laneY(i + 1) + LANE / 2 + 4}" font-size="12">${esc(label)}</text>`
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif">`,
    `<rect width="${W}" height="${height}" fill="#fff"/>`,
    `<text x="8" y="18" font-size="14" font-weight="bold">${esc(d.title)}</text>`,
    ...lanes,
    ...axisAndLegend(d, x, height),
    ...faultBands(d, x, laneY),
    ...opBars(d, x, laneY),
    ...marks(d, x, laneY),
    "</svg>",
    "",
  ].join("\n");
}
