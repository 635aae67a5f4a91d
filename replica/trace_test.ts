// The tracing seam on three replicas in this process: a write through the
// leader and one through a follower report every step of the write path, on
// the members where it happens and in the order the code takes them; an idle
// cluster reports nothing.
import { assert, assertEquals } from "@std/assert";
import { waitUntil } from "../tests/harness.ts";
import type { TraceStep } from "./mod.ts";
import { Cluster, dec, put } from "./testdata/cluster.ts";

interface Seen {
  step: TraceStep;
  index: bigint;
  key?: string;
  peer?: bigint;
}

const ids = [1n, 2n, 3n];

async function tracedCluster(root: string) {
  const cluster = new Cluster(root);
  const seen = new Map<bigint, Seen[]>(ids.map((id) => [id, []]));
  for (const id of ids) cluster.url(id);
  for (const id of ids) {
    await cluster.start(id, {
      rawEntries: { match: (c) => dec.decode(c) }, // the key of a command is its text
      tracer: (step, index, key, peer) => void seen.get(id)!.push({ step, index, key, peer }),
    });
  }
  return { cluster, seen };
}

const steps = (list: Seen[], index: bigint) =>
  list.filter((s) => s.index >= index || s.key !== undefined).map((s) => s.step);
const first = (list: Seen[], step: TraceStep, index: bigint) =>
  list.findIndex((s) => s.step === step && s.index >= index);

async function allApplied(cluster: Cluster, index: bigint): Promise<void> {
  await waitUntil(
    () => ids.every((id) => cluster.get(id).replica.status().appliedIndex >= index),
    5000,
    `every member applied ${index}`,
  );
}

Deno.test("tracer: each step of a write on the members that take it, in order; idle, nothing", async () => {
  const root = await Deno.makeTempDir({ prefix: "replica-trace-" });
  const { cluster, seen } = await tracedCluster(root);
  try {
    const leader = await cluster.leader();
    const lid = leader.replica.id;
    const [f1, f2] = ids.filter((id) => id !== lid);
    await allApplied(cluster, (await put(leader.replica, "warm", "0")).index);
    for (const list of seen.values()) list.length = 0;
    await new Promise((r) => setTimeout(r, 300)); // 6 ticks of heartbeats
    assertEquals([...seen.values()].flat(), [], "an idle cluster reports no step");

    const { index: i } = await leader.replica.propose(new TextEncoder().encode("a=1"));
    await allApplied(cluster, i);
    const l = seen.get(lid)!;
    const order: TraceStep[] = ["ready", "sendApp", "walWrite", "fsyncStart", "fsyncEnd"];
    const at = order.map((step) => first(l, step, i));
    assert(at.every((n, k) => n >= 0 && (k === 0 || n > at[k - 1])), `leader: ${steps(l, i)}`);
    const sentTo = l.filter((s) => s.step === "sendApp" && s.index >= i).map((s) => s.peer);
    assertEquals(new Set(sentTo), new Set([f1, f2]));
    const acked = first(l, "ackIn", i);
    assert(acked >= 0 && [f1, f2].includes(l[acked].peer!), `leader: ${steps(l, i)}`);
    assert(first(l, "commit", i) > acked && first(l, "apply", i) > first(l, "commit", i));
    assertEquals(l.find((s) => s.step === "apply" && s.index === i)?.key, "a=1");
    for (const f of [f1, f2]) {
      const list = seen.get(f)!;
      const follower: TraceStep[] = ["appIn", "ready", "walWrite", "fsyncStart", "fsyncEnd"];
      const pos = [...follower, "ackOut" as const].map((step) => first(list, step, i));
      assert(pos.every((n, k) => n >= 0 && (k === 0 || n > pos[k - 1])), `${f}: ${steps(list, i)}`);
      assertEquals([list[pos[0]].peer, list[pos[5]].peer], [lid, lid]);
      assert(first(list, "apply", i) >= 0, `${f} applied`);
      assertEquals(list.some((s) => s.step === "sendApp" || s.step === "ackIn"), false);
    }

    for (const list of seen.values()) list.length = 0;
    const via = cluster.get(f1).replica;
    const b = await via.propose(new TextEncoder().encode("b=2"));
    assertEquals(seen.get(f1)!.filter((s) => s.step === "forwardOut").map((s) => s.key), ["b=2"]);
    const inAt = l.find((s) => s.step === "forwardIn");
    assertEquals([inAt?.key, inAt?.peer], ["b=2", f1]);
    assertEquals(seen.get(f1)!.find((s) => s.step === "apply" && s.index === b.index)?.key, "b=2");
  } finally {
    await cluster.stopAll();
    await Deno.remove(root, { recursive: true });
  }
});
