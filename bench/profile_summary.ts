// Summarises V8 .cpuprofile files (from `deno run --cpu-prof`): the
// functions with the most self time, and optionally total (inclusive) time.
//
//   deno run -A bench/profile_summary.ts [--top N] [--total] FILE.cpuprofile...

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

/** The subset of the V8 CPU profile format used here. */
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** One function's share of a profile. */
export interface Row {
  name: string;
  selfUs: number;
  totalUs: number;
}

function label(f: CallFrame): string {
  const name = f.functionName || "(anonymous)";
  if (f.url === "") return name;
  const file = f.url.replace(/^file:\/\/.*?\/(src|bench|tests)\//, "$1/")
    .replace(/^ext:/, "ext:")
    .replace(/^.*\/node_modules\//, "npm:");
  return `${name} ${file}:${f.lineNumber + 1}`;
}

/** Self and total time per function (frames with the same label are merged). */
export function summarise(p: CpuProfile): { rows: Row[]; totalUs: number } {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const selfUs = new Map<number, number>();
  let totalUs = 0;
  for (let i = 0; i < p.samples.length; i++) {
    // the delta before sample i+1 is the duration of sample i
    const dt = p.timeDeltas[i + 1] ?? 0;
    selfUs.set(p.samples[i], (selfUs.get(p.samples[i]) ?? 0) + dt);
    totalUs += dt;
  }
  const rows = new Map<string, Row>();
  const row = (name: string) => {
    let r = rows.get(name);
    if (r === undefined) rows.set(name, r = { name, selfUs: 0, totalUs: 0 });
    return r;
  };
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    row(label(node.callFrame)).selfUs += us;
    // inclusive time: once per distinct label on the stack
    const seen = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const l = label(byId.get(n)!.callFrame);
      if (seen.has(l)) continue;
      seen.add(l);
      row(l).totalUs += us;
    }
  }
  return { rows: [...rows.values()], totalUs };
}

function pct(v: number, total: number): string {
  return (100 * v / total).toFixed(1).padStart(5) + "%";
}

if (import.meta.main) {
  let top = 25;
  let total = false;
  const files: string[] = [];
  for (let i = 0; i < Deno.args.length; i++) {
    const a = Deno.args[i];
    if (a === "--top") top = Number(Deno.args[++i]);
    else if (a === "--total") total = true;
    else files.push(a);
  }
  if (files.length === 0) {
    console.error("usage: profile_summary.ts [--top N] [--total] FILE.cpuprofile...");
    Deno.exit(2);
  }
  for (const f of files) {
    const p = JSON.parse(await Deno.readTextFile(f)) as CpuProfile;
    const { rows, totalUs } = summarise(p);
    const idle = rows.find((r) => r.name === "(idle)")?.selfUs ?? 0;
    console.log(
      `${f}: ${(totalUs / 1e6).toFixed(2)} s sampled, ${
        ((totalUs - idle) / 1e6).toFixed(2)
      } s busy (${pct(totalUs - idle, totalUs).trim()})`,
    );
    const sorted = rows.filter((r) => r.name !== "(idle)")
      .sort((a, b) => total ? b.totalUs - a.totalUs : b.selfUs - a.selfUs)
      .slice(0, top);
    console.log(`   self ms  self%  total%  function`);
    for (const r of sorted) {
      console.log(
        `${(r.selfUs / 1000).toFixed(1).padStart(9)} ${pct(r.selfUs, totalUs - idle)} ${
          pct(r.totalUs, totalUs - idle)
        }  ${r.name}`,
      );
    }
    console.log();
  }
}
