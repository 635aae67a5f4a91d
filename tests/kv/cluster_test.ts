// Three KV members as OS processes over real HTTP on 127.0.0.1, with
// clients writing and reading throughout while: the leader is killed with
// SIGKILL and restarted; the leader is partitioned (--test-hooks cut) and
// healed; member 3 is removed (DELETE /3) and member 4 added (POST /4, then
// --join); a member restarted after the log was compacted catches up by
// snapshot; at the end all members are killed at once and restarted from
// disk. The history is checked for linearizability, and every acknowledged
// write is present on every member at the end.

import { assert, assertEquals } from "@std/assert";
import { KvClients } from "./clients.ts";
import { checkKv, formatResult } from "./linearizability.ts";
import { ProcessCluster } from "./processes.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function request(url: string, method: string, body?: string): Promise<number> {
  const r = await fetch(url, { method, body, signal: AbortSignal.timeout(8000) });
  await r.body?.cancel();
  return r.status;
}

/** Waits until every member in `ids` has applied the leader's commit index. */
function converged(c: ProcessCluster, ids: number[], timeoutMs = 15_000) {
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

Deno.test({
  name: "kv cluster: leader SIGKILL, partition, remove + join, snapshot catch-up; linearizable",
  async fn(t) {
    const c = await ProcessCluster.create(4, 3, {
      snapshotCount: 40,
      catchUpEntries: 10,
      requestTimeoutMs: 3000,
    });
    const clients = new KvClients((id) => c.apiUrl(id), 5000);
    const stop = new AbortController();
    const live = new Set([1, 2, 3]);
    let running: Promise<void> | undefined;
    const started = performance.now();
    try {
      for (const id of live) c.start(id);
      let leader = await c.leader([...live], 20_000);
      running = clients.run(4, ["/x", "/y", "/z"], () => [...live], stop.signal);
      await sleep(1500);

      await t.step(
        "the leader is killed with SIGKILL; a new one takes over; it comes back",
        async () => {
          live.delete(leader);
          await c.kill(leader);
          const next = await c.leader([...live]);
          assert(next !== leader);
          await sleep(1000);
          c.start(leader);
          await c.until(`member ${leader} to answer again`, 15_000, () => c.status(leader));
          live.add(leader);
          leader = await c.leader([...live]);
        },
      );

      await t.step(
        "the leader is partitioned from both others; a new one leads; healed",
        async () => {
          const cut = leader;
          const others = [...live].filter((id) => id !== cut);
          for (const o of others) {
            assertEquals(await request(`${c.apiUrl(cut)}/_test/cut/${o}`, "POST"), 204);
            assertEquals(await request(`${c.apiUrl(o)}/_test/cut/${cut}`, "POST"), 204);
          }
          const next = await c.leader(others);
          assert(next !== cut);
          await sleep(1000); // clients keep asking the cut-off old leader too: 503, never stale
          for (const o of others) {
            await request(`${c.apiUrl(cut)}/_test/mend/${o}`, "POST");
            await request(`${c.apiUrl(o)}/_test/mend/${cut}`, "POST");
          }
          await converged(c, [...live]);
          leader = await c.leader([...live]);
        },
      );

      await t.step(
        "member 3 is removed (it stops, exit 0); member 4 joins with --join",
        async () => {
          live.delete(3);
          const via = [...live][0];
          assertEquals(await request(`${c.apiUrl(via)}/3`, "DELETE"), 204);
          const exit = await c.exited(3, 15_000);
          assertEquals(exit.code, 0, c.logs());
          assertEquals(await request(`${c.apiUrl(via)}/4`, "POST", c.peerUrl(4)), 204);
          c.start(4);
          await c.until("member 4 to catch up", 20_000, async () => {
            const [s4, sv] = [await c.status(4), await c.status(via)];
            return s4 && sv && s4.voters.includes("4") && s4.applied >= sv.commit ? s4 : undefined;
          });
          live.add(4);
          leader = await c.leader([...live]);
        },
      );

      await t.step(
        "a member restarted after the log was compacted catches up by snapshot",
        async () => {
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
        },
      );

      stop.abort();
      await running;
      running = undefined;
      const ids = [...live];

      await t.step("all members killed with SIGKILL at once come back from disk", async () => {
        await Promise.all(ids.map((id) => c.kill(id)));
        for (const id of ids) c.start(id);
        await c.leader(ids, 20_000);
      });

      await converged(c, ids);
      for (const id of ids) {
        for (const key of ["/x", "/y", "/z"]) await clients.get(0, id, key);
      }

      await t.step("every acknowledged write is on every member", async () => {
        assert(clients.ackedOwn.size >= 20, `only ${clients.ackedOwn.size} own keys acknowledged`);
        for (const id of ids) {
          for (const [key, value] of clients.ackedOwn) {
            const r = await fetch(`${c.apiUrl(id)}${key}?stale`);
            assertEquals([r.status, await r.text()], [200, value], `member ${id}, ${key}`);
          }
        }
      });

      await t.step("the history is linearizable", () => {
        const ops = clients.history.operations();
        const verdict = checkKv(ops, { timeoutMs: 20_000 });
        assertEquals(verdict.result, "ok", formatResult(verdict));
        // The same history with one answered read changed to a value never written must fail:
        // the check has teeth on this very history.
        const i = ops.findLastIndex((o) => o.input.op === "get" && o.return !== undefined);
        const bad = ops.map((o, j) => j === i ? { ...o, output: "never-written" } : o);
        assertEquals(checkKv(bad, { timeoutMs: 20_000 }).result, "illegal");
        console.log(
          `${ops.length} operations (${JSON.stringify(clients.counts)}) in ` +
            `${((performance.now() - started) / 1000).toFixed(1)} s: linearizable`,
        );
      });
    } catch (e) {
      console.error(c.logs(40));
      throw e;
    } finally {
      stop.abort();
      await running;
      await c.close();
    }
  },
});
