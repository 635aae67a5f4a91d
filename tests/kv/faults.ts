// The faults of the multi-process KV test, each one step: a member set
// (`live`: the members clients may ask) and the cluster they run in.

import { assert, assertEquals } from "@std/assert";
import type { ProcessCluster } from "./processes.ts";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function request(url: string, method: string, body?: string): Promise<number> {
  const r = await fetch(url, { method, body, signal: AbortSignal.timeout(8000) });
  await r.body?.cancel();
  return r.status;
}

/** Waits until every member in `ids` has applied the same index as it committed. */
export function converged(c: ProcessCluster, ids: number[], timeoutMs = 15_000) {
  return c.until(`members ${ids} to apply the same index`, timeoutMs, async () => {
    const all = await Promise.all(ids.map((id) => c.status(id)));
    if (all.some((s) => s === undefined)) return undefined;
    const applied = new Set(all.map((s) => s!.applied));
    const commit = new Set(all.map((s) => s!.commit));
    return applied.size === 1 && commit.size === 1 && all[0]!.applied === all[0]!.commit
      ? BigInt(all[0]!.applied)
      : undefined;
  });
}

/** Waits until member `id` has applied what the others had committed when this was called. */
export async function caughtUp(c: ProcessCluster, id: number, others: number[]) {
  const all = await Promise.all(others.map((o) => c.status(o)));
  const target = all.reduce((m, s) => s && BigInt(s.commit) > m ? BigInt(s.commit) : m, 0n);
  await c.until(`member ${id} to apply index ${target}`, 15_000, async () => {
    const s = await c.status(id);
    return s && BigInt(s.applied) >= target ? s : undefined;
  });
}

/** SIGKILLs the leader; a new one is elected; the old one restarts from disk. New leader. */
export async function killLeader(c: ProcessCluster, live: Set<number>, leader: number) {
  live.delete(leader);
  await c.kill(leader);
  const next = await c.leader([...live]);
  assert(next !== leader);
  await sleep(1000);
  c.start(leader);
  await c.until(`member ${leader} to answer again`, 15_000, () => c.status(leader));
  live.add(leader);
  return await c.leader([...live]);
}

/** Cuts the leader off from the others (both ways) until a new one leads, then heals. */
export async function partitionLeader(c: ProcessCluster, live: Set<number>, leader: number) {
  const others = [...live].filter((id) => id !== leader);
  for (const o of others) {
    assertEquals(await request(`${c.apiUrl(leader)}/_test/cut/${o}`, "POST"), 204);
    assertEquals(await request(`${c.apiUrl(o)}/_test/cut/${leader}`, "POST"), 204);
  }
  const next = await c.leader(others);
  assert(next !== leader);
  await sleep(1000); // clients keep asking the cut-off old leader too: 503, never stale
  for (const o of others) {
    await request(`${c.apiUrl(leader)}/_test/mend/${o}`, "POST");
    await request(`${c.apiUrl(o)}/_test/mend/${leader}`, "POST");
  }
  await caughtUp(c, leader, others); // while clients keep writing
  return await c.leader([...live]);
}

/** DELETE /out (it must exit 0), then POST /in and start it with --join. */
export async function replaceMember(
  c: ProcessCluster,
  live: Set<number>,
  out: number,
  inn: number,
) {
  live.delete(out);
  const via = [...live][0];
  assertEquals(await request(`${c.apiUrl(via)}/${out}`, "DELETE"), 204);
  const exit = await c.exited(out, 15_000);
  assertEquals(exit.code, 0, c.logs());
  assertEquals(await request(`${c.apiUrl(via)}/${inn}`, "POST", c.peerUrl(inn)), 204);
  c.start(inn);
  await c.until(`member ${inn} to catch up`, 20_000, async () => {
    const [s, sv] = [await c.status(inn), await c.status(via)];
    const caughtUp = s && sv && s.voters.includes(`${inn}`) &&
      BigInt(s.applied) >= BigInt(sv.commit);
    return caughtUp ? s : undefined;
  });
  live.add(inn);
  return await c.leader([...live]);
}

/** Stops a follower until the leader compacted past its log; restarted, it gets a snapshot. */
export async function snapshotCatchUp(c: ProcessCluster, live: Set<number>, leader: number) {
  const g = [...live].find((id) => id !== leader)!;
  const before = (await c.status(g))!;
  live.delete(g);
  await c.kill(g);
  await c.until("the leader to compact past the stopped member's log", 20_000, async () => {
    const s = await c.status(leader);
    return s && BigInt(s.firstIndex) > BigInt(before.lastIndex) + 1n ? s : undefined;
  });
  c.start(g);
  const after = await c.until(`member ${g} to receive a snapshot`, 20_000, async () => {
    const s = await c.status(g);
    return s && s.snapshotsReceived > 0 ? s : undefined;
  });
  assert(BigInt(after.snapshotIndex) > BigInt(before.lastIndex));
  live.add(g);
}
