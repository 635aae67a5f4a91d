import { assertEquals, assertRejects } from "@std/assert";
import { EventHub, type ReplicaEvent } from "./events.ts";
import { LeaderWatch } from "./leader_watch.ts";
import { ReplicaStoppedError } from "./errors.ts";

const leader = (l: bigint): ReplicaEvent => ({ type: "leader", leader: l, term: 1n });

Deno.test("events: every iterator gets what came after it; all end with the stop", async () => {
  const hub = new EventHub();
  hub.emit(leader(9n)); // before anyone listens: nobody gets it
  const a = hub.subscribe();
  hub.emit(leader(1n));
  const b = hub.subscribe();
  hub.emit(leader(2n));
  hub.close({ type: "stopped", reason: "stop" });
  hub.emit(leader(3n)); // after the stop: nothing
  const all = async (it: AsyncIterableIterator<ReplicaEvent>) => {
    const out: string[] = [];
    for await (const e of it) out.push(e.type === "leader" ? `${e.leader}` : e.type);
    return out;
  };
  assertEquals(await all(a), ["1", "2", "stopped"]);
  assertEquals(await all(b), ["2", "stopped"]);
  assertEquals(await all(hub.subscribe()), ["stopped"], "one made after the stop");
});

Deno.test("events: a reader that stops early is let go; a slow one keeps the newest", async () => {
  const hub = new EventHub();
  const early = hub.subscribe();
  const waiting = early.next();
  await early.return!();
  assertEquals((await waiting).done, true);
  const slow = hub.subscribe();
  for (let i = 0; i < 1100; i++) hub.emit(leader(BigInt(i)));
  const first = (await slow.next()).value as { leader: bigint };
  assertEquals(first.leader, 76n); // 1100 - 1024
  await slow.return!();
});

Deno.test("leader watch: waits resolve on the leader they wait for, or time out, or stop", async () => {
  const w = new LeaderWatch();
  const any = w.until((l) => l !== 0n, {}, () => new Error("late"));
  const two = w.until((l) => l === 2n, {}, () => new Error("late"));
  const late = w.until((l) => l === 9n, { timeoutMs: 20 }, () => new Error("nine never led"));
  assertEquals(w.set(1n, 3n), true);
  assertEquals(await any, 1n);
  w.set(2n, 4n);
  assertEquals([await two, w.term], [2n, 4n]);
  await assertRejects(() => late, Error, "nine never led");
  const stopped = w.until((l) => l === 5n, {}, () => new Error("late"));
  w.close(new ReplicaStoppedError());
  await assertRejects(() => stopped, ReplicaStoppedError);
});
