// The long fuzz run: the handler and both stream decoders, for FUZZ_SECONDS
// (default 300). Fails on any unexpected status, any error that is not a
// typed DecodeError, any unhandled rejection, or memory that keeps growing.
//   deno task fuzz               FUZZ_SECONDS=60 deno task fuzz
import { fuzzHandler, fuzzTarget } from "../tests/fuzz/handler.ts";
import { type DecoderOutcomes, fuzzDecoders } from "../tests/fuzz/decoders.ts";
import { mulberry32 } from "../src/codec/testdata/random.ts";

const seconds = Number(Deno.env.get("FUZZ_SECONDS") ?? 300);
const seed = Number(Deno.env.get("FUZZ_SEED") ?? Date.now() % 2 ** 31);
let unhandled = 0;
globalThis.addEventListener("unhandledrejection", (e) => {
  unhandled++;
  console.error("unhandled rejection:", e.reason);
  e.preventDefault();
});

const rnd = mulberry32(seed);
const { transport, handle } = fuzzTarget();
const statuses = new Map<number, number>();
const decoders: DecoderOutcomes = { message: { ok: 0, error: 0 }, msgappv2: { ok: 0, error: 0 } };
let handlerInputs = 0;
// Heap after a full collection (the task runs with --expose-gc), and after
// the event loop has turned so that finalizers run: what stays is retained.
const gc = (globalThis as { gc?: () => void }).gc;
async function mb(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 20));
  }
  return Deno.memoryUsage().heapUsed / 2 ** 20;
}
const end = Date.now() + seconds * 1000;
let warm = 0;
let lastReport = Date.now();
console.log(`fuzzing for ${seconds} s, seed ${seed}`);
try {
  while (Date.now() < end) {
    await fuzzHandler(handle, rnd, 1000, statuses);
    handlerInputs += 1000;
    fuzzDecoders(rnd, 10_000, decoders);
    // A server's loop turns between requests; let this one turn too.
    await new Promise((r) => setTimeout(r, 0));
    if (warm === 0 && handlerInputs >= 20_000) warm = await mb();
    if (Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      const dec = decoders.message.ok + decoders.message.error + decoders.msgappv2.ok +
        decoders.msgappv2.error;
      console.log(`  ${handlerInputs + dec} inputs, heap ${(await mb()).toFixed(1)} MiB`);
    }
  }
} finally {
  await transport.stop();
}
const decoderInputs = decoders.message.ok + decoders.message.error + decoders.msgappv2.ok +
  decoders.msgappv2.error;
const growth = warm === 0 ? 0 : (await mb()) - warm;
console.log(JSON.stringify({
  seed,
  seconds,
  inputs: handlerInputs + decoderInputs,
  handler: { inputs: handlerInputs, statuses: Object.fromEntries(statuses) },
  decoders,
  unhandledRejections: unhandled,
  heapGrowthMiB: Number(growth.toFixed(1)),
}));
if (unhandled > 0) Deno.exit(1);
if (growth > 16) {
  console.error(`heap grew by ${growth.toFixed(1)} MiB after warm-up: memory is not flat`);
  Deno.exit(1);
}
