import { assertThrows } from "@std/assert";
import { create, EntrySchema } from "../../raftpb/mod.ts";
import { SafetyChecker, SimViolation } from "./sim_checker.ts";

const entry = (index: bigint, term: bigint, data = "") =>
  create(EntrySchema, { index, term, data: new TextEncoder().encode(data) });

Deno.test("checker: two leaders in one term break election safety", () => {
  const c = new SafetyChecker();
  c.leader(1n, 2n);
  c.leader(1n, 2n);
  c.leader(2n, 3n);
  assertThrows(() => c.leader(3n, 2n), SimViolation, "election safety");
});

Deno.test("checker: one (index, term) with two payloads or predecessors breaks log matching", () => {
  const c = new SafetyChecker();
  c.persisted(1n, entry(5n, 2n, "a"), 1n);
  c.persisted(2n, entry(5n, 2n, "a"), 1n);
  assertThrows(() => c.persisted(3n, entry(5n, 2n, "b"), 1n), SimViolation, "log matching");
  assertThrows(() => c.persisted(3n, entry(5n, 2n, "a"), 2n), SimViolation, "log matching");
});

Deno.test("checker: a committed index changing term is a lost commit", () => {
  const c = new SafetyChecker();
  c.committedEntry(1n, 4n, 2n, 2n);
  assertThrows(() => c.committedEntry(2n, 4n, 3n, 3n), SimViolation, "committed entry lost");
});

Deno.test("checker: a leader missing an earlier-term commit breaks leader completeness", () => {
  const c = new SafetyChecker();
  c.committedEntry(1n, 4n, 2n, 2n);
  c.newLeader(2n, 2n, () => 9n); // committed in its own term: not checked
  c.newLeader(2n, 3n, (i) => (i === 4n ? 2n : undefined));
  assertThrows(() => c.newLeader(3n, 3n, () => 1n), SimViolation, "leader completeness");
});

Deno.test("checker: different states at one applied index break state machine safety", () => {
  const c = new SafetyChecker();
  c.applied(1n, 3n, 111);
  c.applied(2n, 3n, 111);
  assertThrows(() => c.applied(3n, 3n, 222), SimViolation, "state machine safety");
});

Deno.test("checker: a read index below an already applied index is not linearizable", () => {
  const c = new SafetyChecker();
  c.readIndex(1n, 7n, 7n);
  assertThrows(() => c.readIndex(1n, 6n, 7n), SimViolation, "linearizable read");
});

Deno.test("checker: two votes by one member in one term are a double vote", () => {
  const c = new SafetyChecker();
  c.vote(1n, 2n, 3n);
  c.vote(1n, 2n, 3n);
  c.vote(1n, 3n, 2n);
  c.vote(1n, 2n, 0n);
  assertThrows(() => c.vote(1n, 2n, 2n), SimViolation, "double vote");
});
