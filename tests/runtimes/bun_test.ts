// A Bun member (the bundle on Bun.serve, in its own process) and Deno
// members, over HTTP on 127.0.0.1.
import { assert, assertEquals } from "@std/assert";
import {
  allLinked,
  buildOnce,
  crossRuntimeScenario,
  DenoMember,
  exchange,
  freePort,
  linked,
  ProcessMember,
  runtime,
  streamsEstablished,
} from "./harness.ts";

const BUN = runtime("bun");

function bunMember(id: bigint, peers: DenoMember[], env: Record<string, string> = {}) {
  const port = freePort();
  return new ProcessMember(
    "bun",
    BUN!,
    ["tests/runtimes/bun_member.ts"],
    id,
    port,
    peers.map((p) => [p.id, p.url]),
    env,
  );
}

Deno.test({
  name: "bun: a Bun member and two Deno members: streams, traffic, 16 MiB snapshots, restart",
  ignore: BUN === undefined,
  async fn() {
    await buildOnce();
    const d1 = new DenoMember(1n, []);
    const d2 = new DenoMember(2n, []);
    const bun = bunMember(3n, [d1, d2]);
    d1.addPeer(2n, d2.url);
    d1.addPeer(3n, bun.url);
    d2.addPeer(1n, d1.url);
    d2.addPeer(3n, bun.url);
    try {
      d1.start();
      d2.start();
      await bun.start();
      await crossRuntimeScenario(bun, d1, d2, "Bun");
    } catch (e) {
      console.error(bun.output());
      throw e;
    } finally {
      await bun.kill();
      await d1.close();
      await d2.close();
    }
  },
});

Deno.test({
  name: "bun: link heartbeats keep streams up through 30 s of silence (Bun's idleTimeout is 10 s)",
  ignore: BUN === undefined,
  async fn() {
    await buildOnce();
    // Pair A, default settings: link heartbeats every 1.67 s on every stream.
    const d1 = new DenoMember(1n, []);
    const bun = bunMember(3n, [d1]);
    d1.addPeer(3n, bun.url);
    // Pair B, the control: heartbeats every 60 s (and a read timeout to match),
    // so the streams Bun serves stay silent and its idleTimeout cuts them.
    const slow = { stream: { linkHeartbeatIntervalMs: 60_000, readTimeoutMs: 120_000 } };
    const d2 = new DenoMember(2n, [], slow);
    const quiet = bunMember(4n, [d2], { RAFT_HEARTBEAT_MS: "60000", RAFT_LOG: "error" });
    d2.addPeer(4n, quiet.url);
    try {
      d1.start();
      d2.start();
      await Promise.all([bun.start(), quiet.start()]);
      await Promise.all([allLinked([d1, bun]), allLinked([d2, quiet])]);

      await new Promise((r) => setTimeout(r, 30_000));

      const [a, b] = [await d1.state(), await bun.state()];
      assert(linked(a, 3n) && linked(b, 1n), "pair A still linked");
      for (const type of ["message", "msgappv2"] as const) {
        assertEquals(streamsEstablished(a, 3n, type), 1, `Deno's ${type} stream never redialled`);
        assertEquals(streamsEstablished(b, 1n, type), 1, `Bun's ${type} stream never redialled`);
      }
      const q = await quiet.state();
      for (const type of ["message", "msgappv2"] as const) {
        assert(
          streamsEstablished(q, 2n, type) >= 2,
          `without heartbeats Bun cuts the ${type} stream it serves after 10 s idle: ` +
            `${JSON.stringify(q.events)}\n${quiet.output()}`,
        );
      }
      // Pair A's streams carry traffic right away.
      await exchange([d1, bun]);
    } catch (e) {
      console.error(bun.output());
      throw e;
    } finally {
      await Promise.all([bun.kill(), quiet.kill()]);
      await Promise.all([d1.close(), d2.close()]);
    }
  },
});
