// The decoder fuzzer's short run: see tests/fuzz/decoders.ts.
import { assert, assertEquals } from "@std/assert";
import { mulberry32 } from "./testdata/random.ts";
import { type DecoderOutcomes, fuzzDecoders } from "../../tests/fuzz/decoders.ts";

const ITERATIONS = Number(Deno.env.get("FUZZ_ITERATIONS") ?? 100_000);

Deno.test(`decoder fuzz: ${ITERATIONS} random and mutated inputs end in messages or a DecodeError`, () => {
  const outcomes: DecoderOutcomes = { message: { ok: 0, error: 0 }, msgappv2: { ok: 0, error: 0 } };
  fuzzDecoders(mulberry32(2026), ITERATIONS, outcomes);
  // Both outcomes must actually occur for both decoders, or the fuzzer is not fuzzing.
  for (const o of Object.values(outcomes)) {
    assert(o.ok > 0 && o.error > 0, JSON.stringify(outcomes));
  }
  assertEquals(
    outcomes.message.ok + outcomes.message.error + outcomes.msgappv2.ok + outcomes.msgappv2.error,
    ITERATIONS,
  );
});
