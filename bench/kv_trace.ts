/**
 * `deno task kv-trace`: where one write's time goes. Three members of our
 * KV (apps/kv) run with `--trace`; one client sends PUTs one after another
 * to the leader (or, with `--via follower`, to a follower, which forwards);
 * the members' traces are put together per PUT (trace_analysis.ts) and
 * each step's time from the step before it is printed (median, p99, and
 * its share of the total on the critical path), with the floors measured
 * in the same run (floors.ts): an fdatasync of a 4 KiB write in the same
 * directory (alone, and in three files at once), loopback HTTP and TCP
 * round trips.
 *
 * Flags: `--puts 2000` `--warmup 200` (PUTs before, not counted)
 * `--via leader|follower` `--floor-n 1000` (samples per floor)
 * `--json FILE` `--dir DIR` (parent of the temporary directory).
 *
 * @module
 */

import type { KvCluster } from "./kv_cluster.ts";
import { quantile } from "./kv_load.ts";
import { oursImpl } from "./kv_impls.ts";
import { traceNow } from "../apps/kv/trace.ts";
import { Clusters, gitCommit, loadAverage, runMain } from "./kv_run.ts";
import { intFlag, walkFlags } from "./flags.ts";
import { fdatasyncFloor, type Floor, loopbackFloors } from "./floors.ts";
import {
  parseTraceLines,
  type PutTrace,
  STEP_LABELS,
  type StepId,
  summarize,
  tracePuts,
  type TraceRecord,
  type TraceSummary,
} from "./trace_analysis.ts";

/** What kv-trace is told on its command line. */
export interface TraceOptions {
  puts: number;
  warmup: number;
  via: "leader" | "follower";
  floorN: number;
  json: string | undefined;
  dir: string | undefined;
}

/** A command line kv-trace cannot use; the message says which flag and why. */
export class TraceFlagError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "TraceFlagError";
  }
}

const USAGE =
  "flags: --puts 2000 --warmup 200 --via leader|follower --floor-n 1000 --json FILE --dir DIR";

const fail = (message: string) => new TraceFlagError(message);

/** Parses kv-trace's flags (`--flag value` or `--flag=value`); throws {@link TraceFlagError}. */
export function parseTraceFlags(argv: string[]): TraceOptions {
  const o: TraceOptions = {
    puts: 2000,
    warmup: 200,
    via: "leader",
    floorN: 1000,
    json: undefined,
    dir: undefined,
  };
  walkFlags(
    argv,
    (flag, value) => {
      if (flag === "puts") o.puts = intFlag(flag, value(), 1, 1_000_000, fail);
      else if (flag === "warmup") o.warmup = intFlag(flag, value(), 0, 1_000_000, fail);
      else if (flag === "floor-n") o.floorN = intFlag(flag, value(), 1, 1_000_000, fail);
      else if (flag === "json") o.json = value();
      else if (flag === "dir") o.dir = value();
      else if (flag === "via") {
        const v = value();
        if (v !== "leader" && v !== "follower") {
          throw fail(
            `--via takes leader or follower, got "${v}"`,
          );
        }
        o.via = v;
      } else return false;
      return true;
    },
    fail,
    USAGE,
  );
  return o;
}

/** When the client sent a PUT and read its answer (the traces' clock, ms). */
export interface ClientTimes {
  send: number;
  recv: number;
}

type Quantiles = { p50Ms: number; p99Ms: number };

/** The client's side of the run and what lies outside the member. */
export interface ClientFigures {
  /** PUT sent to answer read, ms. */
  roundTrip: Quantiles;
  /** PUT sent (client) to its handler called (member): the request's way in, ms. */
  requestPath: Quantiles;
  /** Reply made (member) to answer read (client): the answer's way out, ms. */
  responsePath: Quantiles;
  errors: number;
}

/** The client's figures of the traced PUTs (`client`: req → its times). */
export function clientFigures(
  puts: readonly PutTrace[],
  client: ReadonlyMap<string, ClientTimes>,
  errors: number,
): ClientFigures {
  const q = (l: number[]) => {
    const s = l.toSorted((a, b) => a - b);
    return { p50Ms: quantile(s, 0.5), p99Ms: quantile(s, 0.99) };
  };
  const traced = puts.flatMap((p) => {
    const c = client.get(p.req);
    return c === undefined ? [] : [{ c, p }];
  });
  return {
    roundTrip: q([...client.values()].map((c) => c.recv - c.send)),
    requestPath: q(traced.map(({ c, p }) => p.at.httpIn! - c.send)),
    responsePath: q(traced.map(({ c, p }) => c.recv - p.at.reply!)),
    errors,
  };
}

const ms = (n: number) => Number.isFinite(n) ? n.toFixed(3) : "-";

// The floor each step compares with, if any.
function floorFor(step: StepId, floors: readonly Floor[]): string {
  const f = (prefix: string) => floors.find((x) => x.name.startsWith(prefix));
  if (step === "leader.fsyncEnd" || step === "follower.fsyncEnd") {
    const alone = f("fdatasync of a 4 KiB write");
    const three = floors.find((x) => x.name.includes("3 files at once"));
    const both = [alone && `alone ${ms(alone.p50Ms)}`, three && `3 at once ${ms(three.p50Ms)}`];
    return both.filter(Boolean).join(", ");
  }
  if (step === "follower.appIn" || step === "ackIn" || step === "forwardIn") {
    const t = f("TCP");
    return t === undefined ? "" : `½ TCP round trip ${ms(t.p50Ms / 2)}`;
  }
  return "";
}

/** The trace summary, the client's figures and the floors as Markdown tables. */
export function formatTraceTables(
  s: TraceSummary,
  client: ClientFigures,
  floors: readonly Floor[],
): string {
  const lines = [
    "| step | where | after | p50 ms | p99 ms | min ms | share of total | floor (p50 ms) |",
    "|---|---|---|---:|---:|---:|---:|---|",
  ];
  for (const st of s.steps) {
    const label = STEP_LABELS[st.step];
    if (st.from === undefined) {
      lines.push(`| ${label.what} | ${label.where} | (start) | | | | | |`);
      continue;
    }
    const share = `${(st.share * 100).toFixed(1)}%`;
    lines.push(
      `| ${label.what} | ${label.where} | ${st.from ?? ""} | ${ms(st.p50Ms)} | ${ms(st.p99Ms)} | ` +
        `${ms(st.minMs)} | ${share} | ${floorFor(st.step, floors)} |`,
    );
  }
  const http = floors.find((f) => f.name.includes("Deno.serve"));
  lines.push(
    `| **in the member: reply − HTTP in** | | | ${ms(s.total.p50Ms)} | ${
      ms(s.total.p99Ms)
    } | | 100% | |`,
    `| client round trip (PUT sent → 204 read) | client | | ${ms(client.roundTrip.p50Ms)} | ` +
      `${ms(client.roundTrip.p99Ms)} | | | |`,
    `| client: PUT sent → HTTP in | client | | ${ms(client.requestPath.p50Ms)} | ` +
      `${ms(client.requestPath.p99Ms)} | | | |`,
    `| client: reply made → answer read | client | | ${ms(client.responsePath.p50Ms)} | ` +
      `${ms(client.responsePath.p99Ms)} | | | ${http ? `HTTP round trip ${ms(http.p50Ms)}` : ""} |`,
    "",
    "| floor | p50 ms | p99 ms | samples |",
    "|---|---:|---:|---:|",
    ...floors.map((f) => `| ${f.name} | ${ms(f.p50Ms)} | ${ms(f.p99Ms)} | ${f.n} |`),
  );
  return lines.join("\n");
}

// The member to send to: the leader, or a follower.
async function target(cluster: KvCluster, via: "leader" | "follower"): Promise<string> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    for (const api of cluster.apis) {
      const res = await fetch(`${api}/_test/status`).catch(() => undefined);
      const status = res?.ok ? await res.json() : await res?.body?.cancel();
      if (status?.state !== "leader") continue;
      return via === "leader" ? api : cluster.apis.find((a) => a !== api)!;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("no member says it leads (GET /_test/status) within 10 s");
}

// `n` PUTs one after another; when each was sent and answered, by its request key (`/tag-k`).
async function sequentialPuts(cluster: KvCluster, api: string, tag: string, n: number) {
  const times = new Map<string, ClientTimes>();
  let errors = 0;
  for (let k = 0; k < n; k++) {
    const key = `${tag}-${k}`;
    const send = traceNow();
    if (await cluster.put(api, key, `v${k}`)) times.set(`/${key}`, { send, recv: traceNow() });
    else errors++;
  }
  return { times, errors };
}

async function readTraces(cluster: KvCluster): Promise<TraceRecord[]> {
  const records: TraceRecord[] = [];
  for (let id = 1; id <= cluster.apis.length; id++) {
    const file = `${cluster.workDir}/data-${id}.trace.jsonl`;
    const text = await Deno.readTextFile(file).catch(() => {
      throw new Error(`member ${id} wrote no trace (${file})`);
    });
    const { records: mine, dropped } = parseTraceLines(text);
    if (dropped > 0) console.error(`member ${id} dropped ${dropped} trace records`);
    records.push(...mine);
  }
  return records;
}

const clusters = new Clusters();

async function main(argv: string[]): Promise<number> {
  const o = parseTraceFlags(argv);
  const commit = await gitCommit();
  const loadBefore = loadAverage();
  const extraArgs = (_id: number, dataDir: string) => [
    ...["--trace", `${dataDir}.trace.jsonl`],
  ];
  const impl = oursImpl({ extraArgs });
  const cluster = await clusters.start(impl, { parentDir: o.dir, label: "trace" });
  const api = await target(cluster, o.via);
  await sequentialPuts(cluster, api, "warm", o.warmup);
  const run = await sequentialPuts(cluster, api, "trace", o.puts);
  await cluster.stop(); // the members write their traces as they stop
  const { puts, incomplete } = tracePuts(await readTraces(cluster), "/trace-");
  if (incomplete.length > 0) {
    const first = incomplete[0];
    console.error(
      `${incomplete.length} PUTs not traced whole (first: ${first.req}, no ${first.missing})`,
    );
  }
  const floors = [
    await fdatasyncFloor(cluster.workDir, o.floorN),
    await fdatasyncFloor(cluster.workDir, o.floorN, 3),
    ...await loopbackFloors(o.floorN),
  ];
  const summary = summarize(puts);
  const client = clientFigures(puts, run.times, run.errors);
  console.log(formatTraceTables(summary, client, floors));
  const lead = `${(summary.leaderLaneCritical * 100).toFixed(0)}%`;
  console.log(
    `\n${summary.puts} PUTs traced via the ${o.via} (${run.errors} errors, ${incomplete.length} ` +
      `incomplete); the leader's own fsync decided the commit in ${lead} of them, the ` +
      `follower's round in the rest. Commit ${commit}; load average ${loadBefore} before, ` +
      `${loadAverage()} after.`,
  );
  if (o.json !== undefined) {
    const doc = { commit, options: o, summary, client, floors, incomplete: incomplete.length };
    await Deno.writeTextFile(o.json, JSON.stringify(doc, null, 1) + "\n");
    console.log(`JSON in ${o.json}`);
  }
  return puts.length > 0 ? 0 : 1;
}

if (import.meta.main) {
  await runMain(clusters, () => main(Deno.args), (e) => e instanceof TraceFlagError ? 2 : 1);
}
