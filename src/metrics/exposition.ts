/**
 * The Prometheus text exposition format, version 0.0.4: `# HELP` and
 * `# TYPE` per family, one line per sample, histograms as cumulative
 * `_bucket{le=...}` series (ending with `+Inf`) with `_sum` and `_count`.
 *
 * @module
 */

import { Histogram } from "./histogram.ts";
import type { Registry } from "./registry.ts";

/** The content type of the format. */
export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** A label value with `\`, `"` and newlines escaped. */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** A sample value as Prometheus writes it (`+Inf`, `-Inf`, `NaN`, else the shortest decimal). */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function labelSet(names: readonly string[], values: readonly string[], extra?: string): string {
  const parts = names.map((n, i) => `${n}="${escapeLabelValue(values[i])}"`);
  if (extra !== undefined) parts.push(extra);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

/** Every family of `registry` in the text format. */
export function writeExposition(registry: Registry): string {
  const out: string[] = [];
  for (const { instrument: f, samples } of registry.families()) {
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const [values, v] of samples) {
      if (!(v instanceof Histogram)) {
        out.push(`${f.name}${labelSet(f.labels, values)} ${formatValue(v)}`);
        continue;
      }
      const cum = v.cumulative();
      v.bounds.forEach((b, i) => {
        const le = `le="${formatValue(b)}"`;
        out.push(`${f.name}_bucket${labelSet(f.labels, values, le)} ${cum[i]}`);
      });
      out.push(`${f.name}_bucket${labelSet(f.labels, values, 'le="+Inf"')} ${v.count}`);
      out.push(`${f.name}_sum${labelSet(f.labels, values)} ${formatValue(v.sum)}`);
      out.push(`${f.name}_count${labelSet(f.labels, values)} ${v.count}`);
    }
  }
  return out.join("\n") + "\n";
}
