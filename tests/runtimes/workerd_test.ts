// A workerd member (the bundle in a Durable Object, in its own workerd
// process) and a Deno member, over HTTP on 127.0.0.1.
import { assert, assertEquals } from "@std/assert";
import {
  allLinked,
  buildOnce,
  DenoMember,
  exchange,
  freePort,
  linked,
  ProcessMember,
  runtime,
  snapshot,
  streamsEstablished,
  until,
} from "./harness.ts";

const WORKERD = runtime("workerd");
const MiB = 1024 * 1024;

Deno.test({
  name: "workerd: a Durable Object member and a Deno member: streams, traffic, snapshots, restart",
  ignore: WORKERD === undefined,
  async fn() {
    await buildOnce();
    const d1 = new DenoMember(1n, []);
    const port = freePort();
    const workerd = new ProcessMember(
      "workerd",
      WORKERD!,
      ["serve", "tests/runtimes/workerd.capnp", "--socket-addr", `http=127.0.0.1:${port}`],
      4n,
      port,
      [[1n, d1.url]],
    );
    d1.addPeer(4n, workerd.url);
    try {
      d1.start();
      await workerd.start();
      const all = [d1, workerd];
      await allLinked(all);
      await exchange(all);

      // 8 s of silence, over twice the 3.3 s read timeout on both sides: only
      // link heartbeats (setInterval in the Durable Object, and in Deno) keep
      // the four streams, and the Durable Object's stream readers read on.
      await new Promise((r) => setTimeout(r, 8000));
      for (const [m, peer] of [[d1, 4n], [workerd, 1n]] as const) {
        const s = await m.state();
        assert(linked(s, peer), `member ${m.id} still linked after the silence`);
        assertEquals(
          [streamsEstablished(s, peer, "message"), streamsEstablished(s, peer, "msgappv2")],
          [1, 1],
          `member ${m.id}: no stream was redialled during the silence`,
        );
      }

      // 16 MiB each way (workerd itself streamed 1 GiB each way without a
      // limit; docs/runtimes.md has the numbers).
      await snapshot(d1, workerd, 200n, 16 * MiB);
      await snapshot(workerd, d1, 201n, 16 * MiB);

      await workerd.kill();
      await until(d1, (s) => !s.peers["4"].active && !linked(s, 4n), "the workerd member gone");
      // The Deno member's redials reach the new process and create its
      // Durable Object, which dials back.
      await workerd.start();
      await allLinked(all);
      const d = await d1.state();
      assertEquals(
        [streamsEstablished(d, 4n, "message"), streamsEstablished(d, 4n, "msgappv2")],
        [2, 2],
        "the restarted workerd member redialled both streams",
      );
      const w = await workerd.state();
      assertEquals(
        [streamsEstablished(w, 1n, "message"), streamsEstablished(w, 1n, "msgappv2")],
        [1, 1],
        "the Deno member redialled the new workerd process",
      );
      await exchange(all);
      await snapshot(workerd, d1, 202n, 16 * MiB);
    } catch (e) {
      console.error(workerd.output());
      throw e;
    } finally {
      await workerd.kill();
      await d1.close();
    }
  },
});
