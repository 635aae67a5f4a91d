import { assertEquals, assertInstanceOf, assertRejects } from "@std/assert";
import { create, type Entry, EntrySchema } from "../mod.ts";
import { OutcomeUnknownError, ReplicaStoppedError } from "./errors.ts";
import { type PendingProposal, Proposals } from "./proposals.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const entry = (index: bigint, text: string): Entry =>
  create(EntrySchema, { index, term: 1n, data: enc.encode(text) });
const keyOf = (data: Uint8Array) => dec.decode(data);
const settled = async (p: Promise<unknown>) => {
  let state = "pending";
  p.then(() => state = "resolved", () => state = "rejected");
  await new Promise((r) => setTimeout(r, 0));
  return state;
};

function propose(t: Proposals<string>, key: string, signal?: AbortSignal) {
  const p = t.add(key, enc.encode(key), { signal, timeoutMs: 10_000 });
  p.catch(() => {}); // inspected later
  return p;
}

function sendQueued(t: Proposals<string>, term = 1n): PendingProposal[] {
  const batch = t.takeQueued();
  t.sent(batch, term);
  return batch;
}

Deno.test("proposals: an applied entry answers exactly the proposal seen at its index", async () => {
  const t = new Proposals<string>();
  const a = propose(t, "a");
  const b = propose(t, "b");
  sendQueued(t);
  t.appended([entry(5n, "a"), entry(6n, "b")], keyOf);
  assertEquals(t.applied(6n, "B"), true);
  assertEquals(await b, "B");
  assertEquals(await settled(a), "pending");
  assertEquals(t.applied(6n, "again"), false, "never twice");
  assertEquals(t.applied(7n, "elsewhere"), false, "only at the index it was seen at");
  assertEquals(t.applied(5n, "A"), true);
  assertEquals(await a, "A");
  assertEquals(t.size, 0);
});

Deno.test("proposals: a waiter whose client left goes; the next equal command answers the live one", async () => {
  // The KV's bug: waiters keyed by content, first in first out, so the committed retry
  // answered the waiter whose client had gone and the live one hung.
  const t = new Proposals<string>();
  const gone = new AbortController();
  const first = propose(t, "x=1", gone.signal);
  sendQueued(t);
  gone.abort(new Error("client went away"));
  await assertRejects(() => first, OutcomeUnknownError, "the signal aborted");
  const retry = propose(t, "x=1");
  sendQueued(t);
  t.appended([entry(9n, "x=1")], keyOf);
  t.applied(9n, "ok");
  assertEquals(await retry, "ok");
});

Deno.test("proposals: an applied entry answers every waiter of its key sent before it was appended", async () => {
  // Raw entries keyed by content (the KV's raftexample mode: key and value): two clients
  // PUT the same key and value; the first entry to land does what both asked.
  const t = new Proposals<string>();
  const one = propose(t, "x=1");
  const two = propose(t, "x=1");
  sendQueued(t);
  const later = propose(t, "x=1"); // queued after the entry was appended: not answered by it
  t.appended([entry(9n, "x=1")], keyOf);
  sendQueued(t);
  assertEquals(t.applied(9n, "ok"), true);
  assertEquals([await one, await two], ["ok", "ok"]);
  assertEquals(await settled(later), "pending");
  assertEquals(t.size, 1);
  t.appended([entry(10n, "x=1")], keyOf); // the second proposal's own entry: nobody left for it
  t.appended([entry(11n, "x=1")], keyOf);
  assertEquals(t.applied(10n, "again"), true, "the later one takes the next entry");
  assertEquals(await later, "again");
  assertEquals(t.applied(11n, "more"), false);
  assertEquals(t.size, 0);
});

Deno.test("proposals: an entry answers only live waiters of its key; a gone client is skipped", async () => {
  const t = new Proposals<string>();
  const gone = new AbortController();
  const first = propose(t, "x=1");
  const left = propose(t, "x=1", gone.signal);
  const third = propose(t, "x=1");
  sendQueued(t);
  t.appended([entry(4n, "x=1")], keyOf);
  gone.abort(new Error("client went away"));
  await assertRejects(() => left, OutcomeUnknownError);
  assertEquals(t.applied(4n, "ok"), true);
  assertEquals([await first, await third], ["ok", "ok"]);
  assertEquals(t.size, 0);
});

Deno.test("proposals: an entry replaced by a new leader answers none of its key's waiters", async () => {
  const t = new Proposals<string>();
  const a = propose(t, "x=1");
  const b = propose(t, "x=1");
  sendQueued(t);
  t.appended([entry(4n, "x=1")], keyOf);
  t.appended([entry(4n, "y=2")], keyOf); // replaced: a fails; b is still waiting for its own
  await assertRejects(() => a, OutcomeUnknownError, "replaced");
  assertEquals(t.applied(4n, "other"), false);
  assertEquals(await settled(b), "pending");
  t.appended([entry(5n, "x=1")], keyOf);
  t.applied(5n, "ok");
  assertEquals(await b, "ok");
});

Deno.test("proposals: aborted before it was sent, the signal's reason; after, outcome unknown", async () => {
  const t = new Proposals<string>();
  const early = new AbortController();
  const p1 = propose(t, "a", early.signal);
  early.abort(new Error("changed my mind"));
  await assertRejects(() => p1, Error, "changed my mind");
  assertEquals(t.takeQueued().length, 0, "an aborted proposal is not proposed");
  const pre = AbortSignal.abort(new Error("already"));
  await assertRejects(() => t.add("b", enc.encode("b"), { signal: pre }), Error, "already");
  const late = new AbortController();
  const p2 = propose(t, "c", late.signal);
  sendQueued(t);
  t.appended([entry(3n, "c")], keyOf);
  late.abort();
  const e = await assertRejects(() => p2, OutcomeUnknownError);
  assertInstanceOf(e.cause, DOMException);
  assertEquals(t.applied(3n, "late"), false, "gone from the table");
});

Deno.test("proposals: the time limit ends a wait as outcome unknown", async () => {
  const t = new Proposals<string>();
  const p = t.add("a", enc.encode("a"), { timeoutMs: 20 });
  sendQueued(t);
  const e = await assertRejects(() => p, OutcomeUnknownError, "no answer within 20 ms");
  assertEquals((e.cause as DOMException).name, "TimeoutError");
});

Deno.test("proposals: a new term settles what never reached this log; seen ones wait", async () => {
  const t = new Proposals<string>();
  const lost = propose(t, "lost");
  const seen = propose(t, "seen");
  sendQueued(t, 2n);
  t.appended([entry(4n, "seen")], keyOf);
  const fresh = propose(t, "fresh");
  sendQueued(t, 3n); // sent in the new term, after raft knew of it
  t.termChanged(3n);
  await assertRejects(() => lost, OutcomeUnknownError, "the leader changed (term 3)");
  assertEquals(await settled(seen), "pending");
  assertEquals(await settled(fresh), "pending");
  t.applied(4n, "S");
  assertEquals(await seen, "S");
});

Deno.test("proposals: an entry replaced in the log can no longer commit: its wait ends", async () => {
  const t = new Proposals<string>();
  const a = propose(t, "a");
  const b = propose(t, "b");
  sendQueued(t);
  t.appended([entry(5n, "a"), entry(6n, "b")], keyOf);
  t.appended([entry(5n, "other")], keyOf); // a new leader's entry at 5; the log ends there
  await assertRejects(() => a, OutcomeUnknownError, "its entry at 5 was replaced");
  await assertRejects(() => b, OutcomeUnknownError, "its entry at 6 was replaced");
  assertEquals(t.applied(5n, "x"), false);
  const c = propose(t, "c");
  sendQueued(t);
  t.appended([entry(7n, "c")], keyOf);
  t.appended([entry(8n, "d")], keyOf); // after it: nothing replaced
  assertEquals(await settled(c), "pending");
});

Deno.test("proposals: a snapshot that replaced the log settles everything sent", async () => {
  const t = new Proposals<string>();
  const a = propose(t, "a");
  const b = propose(t, "b");
  sendQueued(t);
  t.appended([entry(2n, "a")], keyOf);
  t.snapshotInstalled(10n);
  await assertRejects(() => a, OutcomeUnknownError, "a snapshot at 10");
  await assertRejects(() => b, OutcomeUnknownError, "a snapshot at 10");
});

Deno.test("proposals: dropped at once, or the replica stopped", async () => {
  const t = new Proposals<string>();
  const a = propose(t, "a");
  t.dropped(t.takeQueued(), new Error("no leader"));
  await assertRejects(() => a, Error, "no leader");
  const b = propose(t, "b");
  const c = propose(t, "c");
  sendQueued(t);
  const stopped = new ReplicaStoppedError();
  t.close(stopped);
  await assertRejects(() => b, ReplicaStoppedError);
  await assertRejects(() => c, ReplicaStoppedError);
  await assertRejects(() => t.add("d", enc.encode("d"), {}), ReplicaStoppedError);
  assertEquals(t.size, 0);
});
