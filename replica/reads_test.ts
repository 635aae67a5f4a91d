import { assertEquals, assertRejects } from "@std/assert";
import type { RawNode } from "../raft/mod.ts";
import { NoLeaderError, ReplicaStoppedError } from "./errors.ts";
import { Reads } from "./reads.ts";

/** A core that records ReadIndex requests, behind a loop that runs actions after the burst. */
function fakeLoop(lead = 1n) {
  const asked: Uint8Array[] = [];
  const raft = {
    get lead() {
      return fake.lead;
    },
    readIndex: (ctx: Uint8Array) => asked.push(ctx),
  };
  const fake = { lead, asked };
  const run = (a: (r: RawNode) => void) => {
    queueMicrotask(() => a(raft as unknown as RawNode));
    return true;
  };
  return { fake, run };
}
const tick = () => new Promise((r) => setTimeout(r, 0));

Deno.test("reads: concurrent reads share one ReadIndex and return once it is applied", async () => {
  const { fake, run } = fakeLoop();
  const reads = new Reads({ run, retryMs: 10_000 });
  let done = 0;
  const all = [1, 2, 3].map(() => reads.read({ timeoutMs: 5000 }).then(() => done++));
  await tick();
  assertEquals(fake.asked.length, 1);
  reads.readStates([{ index: 7n, requestCtx: fake.asked[0] }]);
  await tick();
  assertEquals(done, 0, "not before index 7 is applied here");
  reads.appliedTo(6n);
  await tick();
  assertEquals(done, 0);
  reads.appliedTo(7n);
  await Promise.all(all);
  const later = reads.read({ timeoutMs: 5000 }); // a new batch: asked again
  await tick();
  assertEquals(fake.asked.length, 2);
  reads.readStates([{ index: 3n, requestCtx: fake.asked[1] }]); // already applied
  await later;
  assertEquals(reads.size, 0);
});

Deno.test("reads: no leader known, NoLeaderError; unanswered, asked again", async () => {
  const { fake, run } = fakeLoop(0n);
  const reads = new Reads({ run, retryMs: 20 });
  await assertRejects(() => reads.read({ timeoutMs: 5000 }), NoLeaderError);
  fake.lead = 2n;
  const p = reads.read({ timeoutMs: 5000 });
  await new Promise((r) => setTimeout(r, 70));
  const n = fake.asked.length;
  assertEquals(n >= 3, true, `asked ${n} times`);
  reads.readStates([{ index: 1n, requestCtx: fake.asked[0] }]);
  reads.appliedTo(1n);
  await p;
  await new Promise((r) => setTimeout(r, 50));
  assertEquals(fake.asked.length, n, "not asked again once answered");
});

Deno.test("reads: the signal or the time limit ends one read, not its batch", async () => {
  const { fake, run } = fakeLoop();
  const reads = new Reads({ run, retryMs: 10_000 });
  const ac = new AbortController();
  const gone = reads.read({ signal: ac.signal, timeoutMs: 5000 });
  const stays = reads.read({ timeoutMs: 5000 });
  const late = reads.read({ timeoutMs: 30 });
  await tick();
  ac.abort(new Error("client went away"));
  await assertRejects(() => gone, Error, "client went away");
  const e = await assertRejects(() => late, DOMException);
  assertEquals(e.name, "TimeoutError");
  reads.readStates([{ index: 2n, requestCtx: fake.asked[0] }]);
  reads.appliedTo(2n);
  await stays;
  const waiting = reads.read({ timeoutMs: 5000 });
  reads.close(new ReplicaStoppedError());
  await assertRejects(() => waiting, ReplicaStoppedError);
  await assertRejects(() => reads.read({}), ReplicaStoppedError);
});
