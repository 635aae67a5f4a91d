// Joint consensus through the replica API only: three replicas in this
// process over real HTTP, two members started empty and joined, and one
// changeMembership that replaces two voters of three at once. Writes keep
// committing before, while joint and after; the removed members keep
// answering votes until every new voter has applied the leave (member 5 is
// held back on purpose), then stop themselves; the new members read what
// was written.
import { assert, assertEquals, assertRejects } from "@std/assert";
import { waitUntil } from "../tests/harness.ts";
import { type MemberStatus, type ReplicaEvent, ReplicaStoppedError } from "./mod.ts";
import { type Applied, Cluster, collect, enc, put } from "./testdata/cluster.ts";

type MembersEvent = Extract<ReplicaEvent, { type: "members" }>;

/** `p`, or a rejection after `ms` (a broken replica fails the test, never hangs it). */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

const show = (ms: MemberStatus[]) =>
  ms.map((m) => `${m.id}${m.role === "learner" ? "L" : ""}${m.joint ? `(${m.joint})` : ""}`)
    .join(",");

/** Writes on replica `id` from `lanes` loops at once until stopped; the index of each write. */
function writer(c: Cluster, id: bigint, lanes: number) {
  const indexes: bigint[] = [];
  let running = true;
  let n = 0;
  const lane = async () => {
    while (running) {
      const i = n++;
      const applied: Applied = await put(c.get(id).replica, `w${i}`, `${i}`);
      indexes.push(applied.index);
    }
  };
  const done = Promise.all(Array.from({ length: lanes }, lane));
  done.catch(() => {}); // awaited by stop(); a test that failed first must not hide its error
  return {
    indexes,
    get written() {
      return n;
    },
    stop: async () => {
      running = false;
      await done;
    },
  };
}

/**
 * Proposes on replica 1 as soon as it reports the joint configuration (it
 * applies the leave in a later Ready, after the network and the disk, so
 * this runs while it is joint); what the write was applied as, and whether
 * replica 1 was joint when it proposed it.
 */
async function writeWhileJoint(c: Cluster): Promise<{ applied: Applied; joint: boolean }> {
  const r = c.get(1n).replica;
  for await (const e of r.events()) {
    if (e.type !== "members" || !e.joint) continue;
    const joint = r.status().joint;
    return { applied: await put(r, "during", "joint"), joint };
  }
  throw new Error("replica 1 stopped before it was joint");
}

/** Member 5 applies nothing until `release` is called, so it cannot apply the leave either. */
function holdApplies(sm: { apply(command: Uint8Array, index: bigint): Applied }): () => void {
  let release = () => {};
  const held = new Promise<void>((ok) => release = ok);
  const apply = sm.apply.bind(sm);
  sm.apply =
    ((command: Uint8Array, index: bigint) => held.then(() => apply(command, index))) as never;
  return release;
}

Deno.test("replica: changeMembership replaces two voters of three through a joint configuration", async () => {
  const root = await Deno.makeTempDir({ prefix: "replica-joint-test-" });
  const c = new Cluster(root);
  const extra = { snapshotEvery: 10_000 }; // member 5 gets the log entry by entry, not a snapshot
  let release = () => {};
  try {
    for (const id of [1n, 2n, 3n]) c.url(id); // 1, 2 and 3 learn 4's and 5's URLs from the change
    await Promise.all([1n, 2n, 3n].map((id) => c.start(id, extra)));
    await c.leader();
    const w = writer(c, 1n, 8);
    await waitUntil(() => w.indexes.length >= 5, 10_000, "writes before the change");

    const four = await c.start(4n, { ...extra, join: true });
    const five = await c.start(5n, { ...extra, join: true });
    release = holdApplies(five.sm);
    const seen = collect(c.get(1n).replica.events());
    const during = writeWhileJoint(c);
    during.catch(() => {}); // awaited below
    const stops = [2n, 3n].map((id) => collect(c.get(id).replica.events()));
    let stopped = 0;
    for (const s of stops) s.then(() => stopped++);

    const final = await c.get(1n).replica.changeMembership({
      add: [{ id: 4n, urls: c.url(4n) }, { id: 5n, urls: [c.url(5n)] }],
      remove: [2n, 3n],
    }, { timeoutMs: 20_000 });
    assertEquals(show(final), "1,4,5", "resolved once the joint configuration was left");
    assertEquals(c.get(1n).replica.status().joint, false);

    // 2 and 3 applied their removal but stay up, answering votes, while 5 has not applied it.
    for (const id of [2n, 3n]) {
      const r = c.get(id).replica;
      await waitUntil(() => show(r.status().members) === "1,4,5", 5000, `${id} applied the leave`);
      await assertRejects(() => r.propose(enc.encode("a=1")), ReplicaStoppedError);
    }
    await new Promise((ok) => setTimeout(ok, 1500)); // three times the grace before refusing
    assertEquals(stopped, 0, "no removed member stops while a new voter has not applied the leave");

    release();
    const ends = await within(Promise.all(stops), 10_000, "2 and 3 stop themselves");
    for (const e of ends) assertEquals(e.at(-1), { type: "stopped", reason: "removed" });
    assertEquals(show(five.replica.status().members), "1,4,5", "5 applied the leave first");
    await c.stop(2n);
    await c.stop(3n);

    const before = w.indexes.length;
    await waitUntil(() => w.indexes.length >= before + 5, 10_000, "writes after the change");
    await w.stop();
    const { applied, joint } = await within(during, 10_000, "the write proposed while joint");
    await four.replica.read(); // everything written, now applied on 4 (and 5)
    for (let i = 0; i < w.written; i++) assertEquals(four.sm.map.get(`w${i}`), `${i}`);
    assertEquals(four.sm.map.get("during"), "joint");
    await five.replica.read();
    assertEquals(five.sm.map, four.sm.map);

    await c.stop(1n); // its events end
    const events = (await seen).filter((e): e is MembersEvent => e.type === "members");
    assertEquals(
      events.map((e) => `${e.joint ? "joint " : ""}${show(e.members)}`),
      ["joint 1,4(incoming),5(incoming),2(outgoing),3(outgoing)", "1,4,5"],
    );
    const [enter, leave] = events.map((e) => e.index);
    assert(w.indexes.some((i) => i < enter), "writes committed before the change");
    assert(joint && applied.index > enter, "a write proposed while joint commits");
    assert(w.indexes.some((i) => i > leave), "writes committed after the change");
  } finally {
    release(); // a held replica could not stop
    await c.stopAll();
    await Deno.remove(root, { recursive: true });
  }
});
