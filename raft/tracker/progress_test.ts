import { assert, assertEquals } from "@std/assert";
import { Inflights } from "./inflights.ts";
import { Progress } from "./progress.ts";
import { committedIndex, voteResult } from "../quorum/quorum.ts";

Deno.test("inflights: a bounded window freed by acknowledgement", () => {
  const w = new Inflights(3);
  w.add(5n);
  w.add(7n);
  w.add(9n);
  assert(w.full());
  w.freeLE(7n);
  assertEquals(w.count(), 1);
  w.add(11n);
  w.add(13n);
  assert(w.full());
  w.freeFirstOne();
  assertEquals(w.count(), 2);
  w.freeLE(100n);
  assertEquals(w.count(), 0);
});

Deno.test("progress: probe sends one message at a time; replicate fills the window", () => {
  const pr = new Progress(5n, 2);
  assert(!pr.isPaused());
  pr.probeSent = true;
  assert(pr.isPaused());
  assert(pr.maybeUpdate(4n));
  assert(!pr.isPaused());
  pr.becomeReplicate();
  assertEquals(pr.next, 5n);
  pr.optimisticUpdate(6n);
  pr.inflights.add(6n);
  pr.inflights.add(8n);
  assert(pr.isPaused());
});

Deno.test("progress: maybeDecrTo backs off on rejection, ignores stale ones", () => {
  const pr = new Progress(10n, 4);
  assertEquals(pr.maybeDecrTo(5n, 3n), false); // not the index we sent: stale
  assertEquals(pr.maybeDecrTo(9n, 3n), true);
  assertEquals(pr.next, 4n);
  pr.match = 3n;
  pr.becomeReplicate();
  assertEquals(pr.maybeDecrTo(2n, 0n), false); // below match: stale
  assertEquals(pr.maybeDecrTo(6n, 0n), true);
  assertEquals(pr.next, 4n);
});

Deno.test("progress: a snapshot pauses, then probing resumes after it", () => {
  const pr = new Progress(1n, 4);
  pr.becomeSnapshot(20n);
  assert(pr.isPaused());
  pr.becomeProbe();
  assertEquals(pr.next, 21n);
});

Deno.test("quorum: commit index is the majority's match; votes tally", () => {
  const match = new Map([[1n, 5n], [2n, 3n], [3n, 9n]]);
  assertEquals(committedIndex(match.keys(), (id) => match.get(id)!), 5n);
  match.set(4n, 1n);
  assertEquals(committedIndex(match.keys(), (id) => match.get(id)!), 3n);
  assertEquals(committedIndex([], () => 7n), 0n);
  const voters = [1n, 2n, 3n];
  assertEquals(voteResult(voters, new Map([[1n, true]])), "pending");
  assertEquals(voteResult(voters, new Map([[1n, true], [2n, true]])), "won");
  assertEquals(voteResult(voters, new Map([[1n, true], [2n, false], [3n, false]])), "lost");
});
