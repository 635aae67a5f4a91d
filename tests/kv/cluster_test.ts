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
import {
  converged,
  killLeader,
  partitionLeader,
  replaceMember,
  sleep,
  snapshotCatchUp,
} from "./faults.ts";
import { assertLinearizable } from "./assert_linearizable.ts";
import { ProcessCluster } from "./processes.ts";

// `deno task kv-soak [--rounds N]` repeats the faults N times (default 20; the test: once).
function rounds(): number {
  const i = Deno.args.lastIndexOf("--rounds");
  const n = i < 0 ? 1 : Number(Deno.args[i + 1]);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--rounds needs a count >= 1, got ${n}`);
  return n;
}
const ROUNDS = rounds();

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
    // A failed step ends the test: the steps after it assume the cluster it left.
    const step = async (name: string, fn: () => Promise<void> | void) => {
      if (!(await t.step(name, fn))) throw new Error(`step failed: ${name}`);
    };
    try {
      for (const id of live) c.start(id);
      let leader = await c.leader([...live], 20_000);
      running = clients.run(4, ["/x", "/y", "/z"], () => [...live], stop.signal);
      await sleep(1500);

      for (let round = 1; round <= ROUNDS; round++) {
        const tag = ROUNDS > 1 ? ` (round ${round})` : "";
        await step(
          `the leader is killed with SIGKILL; a new one leads; it comes back${tag}`,
          async () => {
            leader = await killLeader(c, live, leader);
          },
        );
        await step(
          `the leader is partitioned from both others; a new one leads; healed${tag}`,
          async () => {
            leader = await partitionLeader(c, live, leader);
          },
        );
        if (round === 1) {
          await step(
            "member 3 is removed (it stops, exit 0); member 4 joins with --join",
            async () => {
              leader = await replaceMember(c, live, 3, 4);
            },
          );
        }
        await step(
          `a member restarted after the log was compacted catches up by snapshot${tag}`,
          async () => {
            await snapshotCatchUp(c, live, leader);
          },
        );
      }

      stop.abort();
      await running;
      running = undefined;
      const ids = [...live];

      await step("all members killed with SIGKILL at once come back from disk", async () => {
        await Promise.all(ids.map((id) => c.kill(id)));
        for (const id of ids) c.start(id);
        await c.leader(ids, 20_000);
      });

      await converged(c, ids);
      for (const id of ids) {
        for (const key of ["/x", "/y", "/z"]) await clients.get(0, id, key);
      }

      await step("every acknowledged write is on every member", async () => {
        assert(clients.ackedOwn.size >= 20, `only ${clients.ackedOwn.size} own keys acknowledged`);
        for (const id of ids) {
          for (const [key, value] of clients.ackedOwn) {
            const r = await fetch(`${c.apiUrl(id)}${key}?stale`);
            assertEquals([r.status, await r.text()], [200, value], `member ${id}, ${key}`);
          }
        }
      });

      await step("the history is linearizable", () => {
        const ops = clients.history.operations();
        assertLinearizable(ops);
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
