/**
 * The campaign's report: a JSON summary per target, a markdown page a
 * person reads (figures, faults by kind, anomalies, recovery times, how to
 * reproduce), and for `--target all` a table of the targets side by side.
 *
 * @module
 */

import { type IllegalKey, recoveryStats } from "./check.ts";
import type { RunResult } from "./campaign.ts";
import { FAULT_KINDS, type FaultKind } from "./schedule.ts";
import type { ExitMark, FaultRecord } from "./timeline.ts";

/** The JSON summary of one run. */
export interface Summary {
  target: string;
  seed: number;
  members: number;
  net: string;
  runSeconds: number;
  wallSeconds: number;
  reproduce: string;
  readKind: string;
  knownUnsafe?: string;
  supports: FaultKind[];
  operations: {
    total: number;
    putOk: number;
    putUnknown: number;
    getOk: number;
    getFailed: number;
    ownAcked: number;
  };
  faults: Partial<Record<FaultKind, { applied: number; skipped: number; failed: number }>>;
  faultList: FaultRecord[];
  leaderChanges: number;
  unexpectedExits: ExitMark[];
  anomalies: {
    count: number;
    illegalKeys: IllegalKey[];
    lostWrites: { key: string; value: string; found: string | null }[];
    undecided: { key: string; reason: string }[];
    unverified: number;
  };
  liveness: string[];
  recovery: ReturnType<typeof recoveryStats> & {
    list: { n: number; kind: string; healAt: number; ms: number | null }[];
  };
  /** No anomaly, no lost write, no unexpected exit, and the cluster recovered. */
  clean: boolean;
}

/** How to run the same campaign again. */
export interface Reproduce {
  seconds: number;
  faults?: string;
  memberFlags?: string;
  net?: string;
  staleReads?: boolean;
}

function byKind(faults: FaultRecord[]): Summary["faults"] {
  const out: Summary["faults"] = {};
  for (const f of faults) {
    const k = out[f.kind] ??= { applied: 0, skipped: 0, failed: 0 };
    k[f.outcome]++;
  }
  return out;
}

/** The command that reproduces `r`'s schedule. */
export function reproduceCommand(r: RunResult, x: Reproduce): string {
  const parts = [`deno task nemesis --target ${r.target} --seed ${r.seed} --seconds ${x.seconds}`];
  parts.push(`--members ${r.members}`);
  if (x.faults) parts.push(`--faults ${x.faults}`);
  if (x.memberFlags) parts.push(`--member-flags "${x.memberFlags}"`);
  if (x.net) parts.push(`--net ${x.net}`);
  if (x.staleReads) parts.push("--stale-reads");
  return parts.join(" ");
}

/**
 * The JSON summary of a run.
 *
 * @example
 * ```ts ignore
 * const s = summarize(result, { readKind: "GET" }, { seconds: 60 });
 * console.log(s.anomalies.count);
 * ```
 */
export function summarize(
  r: RunResult,
  t: { readKind: string; knownUnsafe?: string },
  x: Reproduce,
): Summary {
  const v = r.verdicts;
  const list = r.recovery.map(({ n, kind, healAt, ms }) => ({ n, kind, healAt, ms }));
  const count = v.illegal.length;
  return {
    target: r.target,
    seed: r.seed,
    members: r.members,
    net: r.net,
    runSeconds: r.runMs / 1000,
    wallSeconds: Math.round(r.wallMs / 100) / 10,
    reproduce: reproduceCommand(r, x),
    readKind: t.readKind,
    knownUnsafe: t.knownUnsafe,
    supports: FAULT_KINDS.filter((k) => r.supports.includes(k)),
    operations: {
      total: r.history.length,
      ...r.counts,
      ownAcked: r.ackedOwn,
    },
    faults: byKind(r.timeline.faults),
    faultList: r.timeline.faults.toSorted((a, b) => a.n - b.n),
    leaderChanges: Math.max(0, r.timeline.leaders.length - 1),
    unexpectedExits: r.timeline.exits,
    anomalies: {
      count,
      illegalKeys: v.illegal,
      lostWrites: v.lostWrites,
      undecided: v.undecided,
      unverified: v.unverified.length,
    },
    liveness: r.liveness,
    recovery: { ...recoveryStats(r.recovery), list },
    clean: count === 0 && v.lostWrites.length === 0 && r.timeline.exits.length === 0 &&
      r.liveness.length === 0,
  };
}
