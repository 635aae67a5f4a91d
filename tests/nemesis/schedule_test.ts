import { assert, assertEquals, assertNotEquals, assertThrows } from "@std/assert";
import { FAULT_KINDS, makeSchedule, parseKinds } from "./schedule.ts";
import { Rng } from "./rng.ts";

Deno.test("schedule: the same seed and options give the same schedule; another seed another", () => {
  const a = makeSchedule({ seed: 42, runMs: 120_000 });
  assertEquals(makeSchedule({ seed: 42, runMs: 120_000 }), a);
  assertNotEquals(makeSchedule({ seed: 43, runMs: 120_000 }), a);
  assertNotEquals(makeSchedule({ seed: 42, runMs: 120_000, kinds: ["kill", "pause"] }), a);
});

Deno.test("schedule: every kind comes once first; faults overlap, at most maxActive, healed by the cooldown", () => {
  for (let seed = 1; seed <= 20; seed++) {
    const plans = makeSchedule({ seed, runMs: 90_000, maxActive: 3, cooldownMs: 4000 });
    assertEquals(
      new Set(plans.slice(0, FAULT_KINDS.length).map((p) => p.kind)),
      new Set(FAULT_KINDS),
      `seed ${seed}`,
    );
    let overlapped = false;
    for (const p of plans) {
      assert(p.at >= 3000 && p.at + p.durationMs <= 86_000, `seed ${seed}: ${JSON.stringify(p)}`);
      const active = plans.filter((q) =>
        q.at <= p.at && q.at + q.durationMs > p.at && q.durationMs > 0
      );
      assert(active.length <= 3, `seed ${seed}: ${active.length} at ${p.at}`);
      if (active.length >= 2) overlapped = true;
      if (p.kind === "partition") assert(p.shape !== undefined);
    }
    assert(overlapped, `seed ${seed}: no two faults overlapped`);
  }
});

Deno.test("schedule: only the kinds asked for; none when none asked; a bad kind is named", () => {
  const plans = makeSchedule({ seed: 5, runMs: 60_000, kinds: ["pause", "partition"] });
  assert(plans.length > 5);
  assert(plans.every((p) => p.kind === "pause" || p.kind === "partition"));
  assertEquals(makeSchedule({ seed: 5, runMs: 60_000, kinds: [] }), []);
  assertEquals(parseKinds(" kill,tear "), ["kill", "tear"]);
  assertThrows(() => parseKinds("kill,explode"), Error, 'unknown fault kind "explode"');
});

Deno.test("rng: deterministic, in range, shuffles keep the elements", () => {
  const [a, b] = [new Rng(9), new Rng(9)];
  const xs = Array.from({ length: 1000 }, () => a.next());
  assertEquals(xs, Array.from({ length: 1000 }, () => b.next()));
  assert(xs.every((x) => x >= 0 && x < 1));
  assert(new Set(xs).size > 990);
  const r = new Rng(1);
  for (let i = 0; i < 200; i++) {
    const n = r.between(2, 4);
    assert(n >= 2 && n <= 4);
  }
  assertEquals(r.shuffle([1, 2, 3, 4, 5]).sort(), [1, 2, 3, 4, 5]);
});
