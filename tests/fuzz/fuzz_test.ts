// The handler fuzzer's short run (the long one is `deno task fuzz`).
import { assert } from "@std/assert";
import { fuzzHandler, fuzzTarget } from "./handler.ts";
import { mulberry32 } from "../../src/codec/testdata/random.ts";

const ITERATIONS = Number(Deno.env.get("FUZZ_HANDLER_ITERATIONS") ?? 20_000);

Deno.test(`handler fuzz: ${ITERATIONS} generated requests each get the right status`, async () => {
  const { transport, handle } = fuzzTarget();
  await using _transport = { [Symbol.asyncDispose]: () => transport.stop() };
  const counts = new Map<number, number>();
  await fuzzHandler(handle, mulberry32(7), ITERATIONS, counts);
  for (const status of [200, 204, 400, 403, 404, 405, 410, 412, 413]) {
    assert(
      (counts.get(status) ?? 0) > 0,
      `no request got ${status}: ${JSON.stringify([...counts])}`,
    );
  }
});
