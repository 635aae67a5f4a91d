/**
 * `deno task sim`: runs the deterministic simulation over a range of
 * seeds (`--seeds N --start S`), or one seed with a trace
 * (`--seed N --verbose`). Exits 1 on the first violation, printing the
 * replay command.
 *
 * @module
 */

import { runSimulation, type SimulationStats } from "./simulation.ts";

interface Flags {
  seeds?: string;
  start?: string;
  seed?: string;
  members?: string;
  steps?: string;
  verbose: boolean;
}

/** `--name value` pairs and bare `--flag`s. */
function parseFlags(argv: string[]): Flags {
  const out: Record<string, string | undefined> = {};
  let verbose = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--verbose") verbose = true;
    else if (a.startsWith("--")) out[a.slice(2)] = argv[++i];
    else throw new Error(`unexpected argument ${a}; use --seeds N --start S | --seed N --verbose`);
  }
  return { ...out, verbose };
}

const args = parseFlags(Deno.args);

function runOne(seed: number, members: number, verbose: boolean): SimulationStats {
  return runSimulation({
    seed,
    members,
    steps: args.steps ? Number(args.steps) : undefined,
    log: verbose ? (line) => console.log(line) : undefined,
  });
}

const memberCounts = args.members ? [Number(args.members)] : [3, 5];
const t0 = performance.now();
if (args.seed !== undefined) {
  for (const members of memberCounts) {
    const stats = runOne(Number(args.seed), members, args.verbose);
    console.log(JSON.stringify(stats, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
  }
} else {
  const seeds = Number(args.seeds ?? 10000);
  const start = Number(args.start ?? 1);
  let runs = 0;
  let joint = 0;
  for (let seed = start; seed < start + seeds; seed++) {
    for (const members of memberCounts) {
      try {
        joint += runOne(seed, members, false).jointEntered;
        runs++;
      } catch (e) {
        console.error(`seed ${seed} (${members} members) failed: ${(e as Error).message}`);
        Deno.exit(1);
      }
    }
    if ((seed - start + 1) % 1000 === 0) {
      console.log(`${seed - start + 1} seeds, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
  }
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(
    `ok: ${runs} runs (seeds ${start}..${
      start + seeds - 1
    }, ${memberCounts} members) in ${secs} s; ` +
      `${joint} joint configurations entered`,
  );
}
