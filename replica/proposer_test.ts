import { assertEquals, assertRejects } from "@std/assert";
import { create, type Entry, EntrySchema } from "../mod.ts";
import type { RawNode } from "../raft/mod.ts";
import { decodeEnvelope, encodeEnvelope } from "./envelope.ts";
import { NoLeaderError, ProposalTooLargeError } from "./errors.ts";
import { Proposer } from "./proposer.ts";

const enc = new TextEncoder();
const entry = (index: bigint, data: Uint8Array): Entry =>
  create(EntrySchema, { index, term: 1n, data });

/** A core behind a loop that runs actions after the caller's synchronous burst. */
function loop(step: (m: { entries: { data: Uint8Array }[] }) => void) {
  const raft = { step, status: () => ({ term: 1n }) } as unknown as RawNode;
  return (a: (r: RawNode) => void) => (queueMicrotask(() => a(raft)), true);
}

Deno.test("proposer: one MsgProp for a burst; only this origin's entry answers, with apply's result", async () => {
  const steps: Uint8Array[][] = [];
  const run = loop((m) => steps.push(m.entries.map((e) => e.data)));
  const p = new Proposer<string>({ id: 1n, raw: undefined, maxCommandBytes: 16, run });
  const a = p.propose(enc.encode("a"), { timeoutMs: 5000 });
  const b = p.propose(enc.encode("b"), { timeoutMs: 5000 });
  await new Promise((r) => setTimeout(r, 0));
  assertEquals(steps.length, 1, "one MsgProp");
  const [ea, eb] = steps[0].map(decodeEnvelope);
  const foreign = encodeEnvelope(2n, ea.seq, enc.encode("a")); // same seq, another replica
  p.table.appended([entry(5n, foreign), entry(6n, steps[0][0]), entry(7n, steps[0][1])], p.keyOf);
  assertEquals(p.table.keyAt(5n), undefined, "another origin's entry answers nobody here");
  assertEquals(p.table.applied(5n, "not ours"), false);
  assertEquals(p.table.keyAt(7n), `${eb.seq}`);
  p.table.applied(6n, "A");
  p.table.applied(7n, "B");
  assertEquals([await a, await b], ["A", "B"]);
  assertEquals(p.command(entry(6n, steps[0][0])), enc.encode("a"));
});

Deno.test("proposer: a command over maxCommandBytes is refused and never proposed", async () => {
  const steps: unknown[] = [];
  const p = new Proposer({
    id: 1n,
    raw: undefined,
    maxCommandBytes: 4,
    run: loop((m) => steps.push(m)),
  });
  await assertRejects(() => p.propose(new Uint8Array(5), {}), ProposalTooLargeError);
  await new Promise((r) => setTimeout(r, 0));
  assertEquals([steps.length, p.table.size], [0, 0]);
});

Deno.test("proposer: raw entries are the command's bytes, matched by the user's key", async () => {
  const steps: Uint8Array[] = [];
  const run = loop((m) => steps.push(m.entries[0].data));
  const raw = { match: (c: Uint8Array) => new TextDecoder().decode(c).split("=")[0] };
  const p = new Proposer<number>({ id: 1n, raw, maxCommandBytes: 64, run });
  const done = p.propose(enc.encode("k=v"), { timeoutMs: 5000 });
  await new Promise((r) => setTimeout(r, 0));
  assertEquals(steps[0], enc.encode("k=v"));
  p.table.appended([entry(3n, steps[0])], p.keyOf);
  assertEquals(p.command(entry(3n, steps[0])), enc.encode("k=v"), "raw: the entry's bytes");
  p.table.applied(3n, 42);
  assertEquals(await done, 42);
});

Deno.test("proposer: raft's drop becomes NoLeaderError", async () => {
  const { ProposalDroppedError } = await import("../raft/mod.ts");
  const run = loop(() => {
    throw new ProposalDroppedError("no leader is known");
  });
  const p = new Proposer({ id: 1n, raw: undefined, maxCommandBytes: 4, run });
  await assertRejects(() => p.propose(new Uint8Array(1), {}), NoLeaderError, "no leader is known");
});
