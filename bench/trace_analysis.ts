/**
 * Puts the members' traces (apps/kv `--trace`) together, one PUT at a time:
 * the PUT's HTTP and propose steps by its key, its entry index from the
 * proposer's `apply` of its proposal key, and every replica step by that
 * index, on the proposer, the leader and the follower whose acknowledgement
 * reached the leader first (the one that made the quorum). Then, per step,
 * the time from the step before it, and its share of the PUT's time on the
 * critical path: the leader's own fsync and the follower's round (send,
 * fsync, acknowledgement) run at once, and the later of the two decides
 * when the entry commits.
 *
 * Pure functions: bench/kv_trace.ts reads the files and prints.
 *
 * @module
 */

import type { TraceRecord } from "../apps/kv/trace.ts";
import { quantile } from "./kv_load.ts";

export type { TraceRecord };

/** The steps of a PUT, in the order of the write path. */
export const STEP_IDS = [
  "httpIn",
  "propose",
  "forwardOut",
  "forwardIn",
  "ready",
  "sendApp",
  "leader.walWrite",
  "leader.fsyncStart",
  "leader.fsyncEnd",
  "follower.appIn",
  "follower.ready",
  "follower.walWrite",
  "follower.fsyncStart",
  "follower.fsyncEnd",
  "follower.ackOut",
  "ackIn",
  "commit",
  "apply",
  "reply",
] as const;

/** One step of a PUT. */
export type StepId = typeof STEP_IDS[number];

/** What each step is, where it happens, for the printed table. */
export const STEP_LABELS: Record<StepId, { where: string; what: string }> = {
  httpIn: { where: "proposer", what: "HTTP in: the PUT reaches the handler" },
  propose: { where: "proposer", what: "propose: replica.propose called" },
  forwardOut: { where: "proposer", what: "forward: MsgProp to the leader sent" },
  forwardIn: { where: "leader", what: "forward: MsgProp received" },
  ready: { where: "leader", what: "Ready holds the entry (appended)" },
  sendApp: { where: "leader", what: "MsgApp handed to the transport" },
  "leader.walWrite": { where: "leader", what: "WAL write (save called)" },
  "leader.fsyncStart": { where: "leader", what: "fdatasync starts" },
  "leader.fsyncEnd": { where: "leader", what: "fdatasync ends" },
  "follower.appIn": { where: "follower", what: "MsgApp received" },
  "follower.ready": { where: "follower", what: "Ready holds the entry" },
  "follower.walWrite": { where: "follower", what: "WAL write (save called)" },
  "follower.fsyncStart": { where: "follower", what: "fdatasync starts" },
  "follower.fsyncEnd": { where: "follower", what: "fdatasync ends" },
  "follower.ackOut": { where: "follower", what: "MsgAppResp handed to the transport" },
  ackIn: { where: "leader", what: "MsgAppResp received" },
  commit: { where: "leader", what: "commit index past the entry" },
  apply: { where: "proposer", what: "entry applied" },
  reply: { where: "proposer", what: "reply made (204)" },
};

/** One PUT taken apart. */
export interface PutTrace {
  req: string;
  index: number;
  proposer: number;
  leader: number;
  follower: number;
  /** When each step happened (shared clock, ms); forward steps only when proposed on a follower. */
  at: Partial<Record<StepId, number>>;
  /** Each step's predecessor in this PUT. */
  from: Partial<Record<StepId, StepId>>;
  /** Steps on the critical path (their times from their predecessors add up to the total). */
  critical: StepId[];
}

// Records of one member and step, by time, for the search by index.
class StepIndex {
  readonly #lists = new Map<string, TraceRecord[]>();
  readonly #byKey = new Map<string, TraceRecord>();

  constructor(records: readonly TraceRecord[]) {
    const sorted = records.toSorted((a, b) => a.t - b.t);
    for (const r of sorted) {
      const k = `${r.member}/${r.step}`;
      let list = this.#lists.get(k);
      if (list === undefined) this.#lists.set(k, list = []);
      list.push(r);
      const named = r.req ?? r.key;
      if (named !== undefined) {
        const nk = `${r.member}/${r.step}/${named}`;
        if (!this.#byKey.has(nk)) this.#byKey.set(nk, r);
      }
    }
  }

  /** The first record of `member`'s `step` named `name` (req or key). */
  named(member: number, step: string, name: string): TraceRecord | undefined {
    return this.#byKey.get(`${member}/${step}/${name}`);
  }

  /** The first `step` with that key on any member (forwarding). */
  namedAnywhere(members: number[], step: string, name: string): TraceRecord | undefined {
    for (const m of members) {
      const r = this.named(m, step, name);
      if (r !== undefined) return r;
    }
    return undefined;
  }

  /** The earliest record of `member`'s `step` at or after `tMin` with index >= `index` (and from/to `peer`). */
  first(member: number, step: string, index: number, tMin: number, peer?: number) {
    const list = this.#lists.get(`${member}/${step}`);
    if (list === undefined) return undefined;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].t < tMin) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < list.length; i++) {
      const r = list[i];
      if ((r.index ?? 0) >= index && (peer === undefined || r.peer === peer)) return r;
    }
    return undefined;
  }
}

/** The members that appear in `records`. */
function membersOf(records: readonly TraceRecord[]): number[] {
  return [...new Set(records.map((r) => r.member))].sort((a, b) => a - b);
}

/** Result of {@link tracePuts}: the PUTs taken apart, and those that could not be. */
export interface TracedPuts {
  puts: PutTrace[];
  /** PUTs (by key) with a step missing, and the first step not found. */
  incomplete: { req: string; missing: string }[];
}

/**
 * Takes apart every PUT whose key starts with `reqPrefix` (its `httpIn`
 * record) in the records of all members.
 */
export function tracePuts(records: readonly TraceRecord[], reqPrefix = ""): TracedPuts {
  const idx = new StepIndex(records);
  const members = membersOf(records);
  const puts: PutTrace[] = [];
  const incomplete: TracedPuts["incomplete"] = [];
  const seen = new Set<string>();
  for (const r of records) {
    if (r.step !== "httpIn" || r.req === undefined || !r.req.startsWith(reqPrefix)) continue;
    if (seen.has(r.req)) continue;
    seen.add(r.req);
    const one = tracePut(idx, members, r);
    if (typeof one === "string") incomplete.push({ req: r.req, missing: one });
    else puts.push(one);
  }
  puts.sort((a, b) => a.at.httpIn! - b.at.httpIn!);
  return { puts, incomplete };
}

// One PUT from its httpIn record; a string names the first step not found.
function tracePut(idx: StepIndex, members: number[], httpIn: TraceRecord): PutTrace | string {
  const p = httpIn.member;
  const t0 = httpIn.t;
  const req = httpIn.req!;
  const propose = idx.named(p, "propose", req);
  if (propose?.key === undefined) return "propose";
  const apply = idx.named(p, "apply", propose.key);
  if (apply?.index === undefined) return "apply";
  const i = apply.index;
  const reply = idx.named(p, "reply", req);
  if (reply === undefined || reply.t < apply.t) return "reply";
  let send: TraceRecord | undefined;
  for (const m of members) {
    const s = idx.first(m, "sendApp", i, t0);
    if (s !== undefined && (send === undefined || s.t < send.t)) send = s;
  }
  if (send === undefined) return "sendApp";
  const l = send.member;
  let ack: TraceRecord | undefined;
  for (const f of members.filter((m) => m !== l)) {
    const a = idx.first(l, "ackIn", i, t0, f);
    if (a !== undefined && (ack === undefined || a.t < ack.t)) ack = a;
  }
  if (ack?.peer === undefined) return "ackIn";
  const f = ack.peer;
  const at: Partial<Record<StepId, number>> = {
    httpIn: t0,
    propose: propose.t,
    ackIn: ack.t,
    apply: apply.t,
    reply: reply.t,
  };
  if (p !== l) {
    const out = idx.named(p, "forwardOut", propose.key);
    const inn = idx.named(l, "forwardIn", propose.key);
    if (out === undefined) return "forwardOut";
    if (inn === undefined) return "forwardIn";
    [at.forwardOut, at.forwardIn] = [out.t, inn.t];
  }
  const find: [StepId, number, string, number?][] = [
    ["ready", l, "ready"],
    ["sendApp", l, "sendApp", f],
    ["leader.walWrite", l, "walWrite"],
    ["leader.fsyncStart", l, "fsyncStart"],
    ["leader.fsyncEnd", l, "fsyncEnd"],
    ["follower.appIn", f, "appIn", l],
    ["follower.ready", f, "ready"],
    ["follower.walWrite", f, "walWrite"],
    ["follower.fsyncStart", f, "fsyncStart"],
    ["follower.fsyncEnd", f, "fsyncEnd"],
    ["follower.ackOut", f, "ackOut", l],
    ["commit", l, "commit"],
  ];
  for (const [id, member, step, peer] of find) {
    const rec = idx.first(member, step, i, t0, peer);
    if (rec === undefined) return id;
    at[id] = rec.t;
  }
  const { from, critical } = pathOf(at, p !== l);
  return { req, index: i, proposer: p, leader: l, follower: f, at, from, critical };
}

// Each step's predecessor, and the critical path (the later of the two lanes into commit).
function pathOf(at: Partial<Record<StepId, number>>, forwarded: boolean) {
  const lane = (from: StepId, to: StepId) =>
    STEP_IDS.slice(STEP_IDS.indexOf(from), STEP_IDS.indexOf(to) + 1) as StepId[];
  const leaderLane = lane("leader.walWrite", "leader.fsyncEnd");
  const followerLane = lane("follower.appIn", "ackIn");
  const head: StepId[] = forwarded
    ? ["httpIn", "propose", "forwardOut", "forwardIn", "ready", "sendApp"]
    : ["httpIn", "propose", "ready", "sendApp"];
  const from: Partial<Record<StepId, StepId>> = {};
  const chain = (steps: StepId[], start?: StepId) => {
    let prev = start;
    for (const s of steps) {
      if (prev !== undefined) from[s] = prev;
      prev = s;
    }
  };
  chain(head);
  chain(leaderLane, "sendApp");
  chain(followerLane, "sendApp");
  const late = at["leader.fsyncEnd"]! > at.ackIn! ? leaderLane : followerLane;
  from.commit = late.at(-1)!;
  chain(["commit", "apply", "reply"]);
  return { from, critical: [...head, ...late, "commit", "apply", "reply"] as StepId[] };
}

/** One step's figures over many PUTs. */
export interface StepSummary {
  step: StepId;
  /** Its predecessor (the most common one, for commit). */
  from: StepId | undefined;
  /** PUTs that had the step. */
  n: number;
  /** Time from the predecessor, ms. */
  p50Ms: number;
  p99Ms: number;
  minMs: number;
  /** Its part of the PUTs' total time, summed where it lay on the critical path (0..1). */
  share: number;
  /** PUTs where it lay on the critical path. */
  critical: number;
}

/** The figures of a traced run. */
export interface TraceSummary {
  puts: number;
  steps: StepSummary[];
  /** reply − httpIn, ms: a PUT's time inside its member. */
  total: { p50Ms: number; p99Ms: number; meanMs: number };
  /** How often the leader's own fsync, not the follower's round, decided the commit (0..1). */
  leaderLaneCritical: number;
}

/** Per step: the times from its predecessor, and its share of the total on the critical path. */
export function summarize(puts: readonly PutTrace[]): TraceSummary {
  const sorted = (l: number[]) => l.toSorted((a, b) => a - b);
  const totals = puts.map((p) => p.at.reply! - p.at.httpIn!);
  const sum = totals.reduce((a, b) => a + b, 0);
  const steps: StepSummary[] = [];
  for (const step of STEP_IDS) {
    const deltas: number[] = [];
    const froms = new Map<StepId | undefined, number>();
    let onPath = 0;
    let critical = 0;
    for (const p of puts) {
      const t = p.at[step];
      if (t === undefined) continue;
      const prev = p.from[step];
      froms.set(prev, (froms.get(prev) ?? 0) + 1);
      const d = prev === undefined ? 0 : t - p.at[prev]!;
      deltas.push(d);
      if (p.critical.includes(step)) [onPath, critical] = [onPath + d, critical + 1];
    }
    if (deltas.length === 0) continue;
    const ds = sorted(deltas);
    const from = [...froms].sort((a, b) => b[1] - a[1])[0][0];
    steps.push({
      step,
      from,
      n: ds.length,
      p50Ms: quantile(ds, 0.5),
      p99Ms: quantile(ds, 0.99),
      minMs: ds[0],
      share: sum > 0 ? onPath / sum : 0,
      critical,
    });
  }
  const ts = sorted(totals);
  const leaderLate = puts.filter((p) => p.critical.includes("leader.fsyncEnd")).length;
  return {
    puts: puts.length,
    steps,
    total: {
      p50Ms: quantile(ts, 0.5),
      p99Ms: quantile(ts, 0.99),
      meanMs: puts.length > 0 ? sum / puts.length : NaN,
    },
    leaderLaneCritical: puts.length > 0 ? leaderLate / puts.length : NaN,
  };
}

/** Parses trace files' JSON lines (a `dropped` line is counted, not a step). */
export function parseTraceLines(text: string): { records: TraceRecord[]; dropped: number } {
  const records: TraceRecord[] = [];
  let dropped = 0;
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const r = JSON.parse(line);
    if (typeof r.dropped === "number") dropped += r.dropped;
    else if (typeof r.step === "string" && typeof r.t === "number") records.push(r);
    else throw new SyntaxError(`not a trace record: ${line.slice(0, 80)}`);
  }
  return { records, dropped };
}
