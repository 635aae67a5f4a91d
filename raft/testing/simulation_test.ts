import { assert, assertEquals, assertThrows } from "@std/assert";
import { replayCommand, runSimulation } from "./simulation.ts";

const SEEDS_3 = 1200;
const SEEDS_5 = 800;

interface Totals {
  runs: number;
  acked: number;
  snapshots: number;
  crashes: number;
  reads: number;
  joint: number;
}

function sweep(members: number, seeds: number): Totals {
  const total = { runs: 0, acked: 0, snapshots: 0, crashes: 0, reads: 0, joint: 0 };
  for (let seed = 1; seed <= seeds; seed++) {
    const s = runSimulation({ seed, members });
    total.runs++;
    total.acked += s.acknowledged;
    total.snapshots += s.snapshotsSent;
    total.crashes += s.crashes;
    total.reads += s.readsConfirmed;
    total.joint += s.jointEntered;
  }
  return total;
}

Deno.test(`simulation: ${SEEDS_3} seeds of 3 members keep every invariant`, () => {
  const t = sweep(3, SEEDS_3);
  assertEquals(t.runs, SEEDS_3);
  // The runs must exercise the system, not idle: writes, snapshots and crashes happened.
  assert(t.acked > 10 * SEEDS_3, `only ${t.acked} acknowledged writes`);
  assert(t.snapshots > SEEDS_3 / 2, `only ${t.snapshots} snapshots sent`);
  assert(t.crashes > 2 * SEEDS_3, `only ${t.crashes} crashes`);
  assert(t.reads > 3 * SEEDS_3, `only ${t.reads} linearizable reads checked`);
  assert(t.joint > SEEDS_3 / 3, `only ${t.joint} joint configurations entered`);
});

Deno.test(`simulation: ${SEEDS_5} seeds of 5 members keep every invariant`, () => {
  const t = sweep(5, SEEDS_5);
  assertEquals(t.runs, SEEDS_5);
  assert(t.acked > 5 * SEEDS_5, `only ${t.acked} acknowledged writes`);
  assert(t.joint > SEEDS_5 / 4, `only ${t.joint} joint configurations entered`);
});

Deno.test("simulation: a seed replays identically", () => {
  const a = runSimulation({ seed: 42, members: 3 });
  const b = runSimulation({ seed: 42, members: 3 });
  assertEquals(a, b);
  const lines: string[] = [];
  runSimulation({ seed: 42, members: 3, log: (l) => lines.push(l) });
  assert(lines.length > 10);
});

Deno.test("simulation: a failure names the replay command", () => {
  // No steps and no time to settle: no leader can exist, so the liveness check fails.
  assertEquals(replayCommand(7, 5), "deno task sim --seed 7 --members 5 --verbose");
  const e = assertThrows(() => runSimulation({ seed: 7, members: 3, steps: 0, settleRounds: 0 }));
  assert((e as Error).message.includes("deno task sim --seed 7 --members 3 --verbose"));
});
