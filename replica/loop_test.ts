import { assertEquals } from "@std/assert";
import { silentLogger } from "../mod.ts";
import { MemoryStorage, RawNode } from "../raft/mod.ts";
import { RaftLoop } from "./loop.ts";

Deno.test("loop: an action that returns a promise holds the loop until it settles", async () => {
  const storage = new MemoryStorage();
  const raft = new RawNode({ id: 1n, storage });
  raft.bootstrap([1n]);
  const order: string[] = [];
  const loop = new RaftLoop(
    raft,
    async (rd) => {
      order.push("ready");
      storage.append(rd.entries);
      if (rd.hardState) storage.setHardState(rd.hardState);
      await Promise.resolve();
    },
    silentLogger,
    (e) => order.push(`fatal ${e.message}`),
  );
  let release = () => {};
  loop.run(() => new Promise<void>((ok) => release = () => (order.push("released"), ok())));
  loop.run(() => void order.push("after"));
  await new Promise((r) => setTimeout(r, 20));
  assertEquals(order, [], "nothing runs, and no Ready is handled, while the action is out");
  release();
  await loop.idle();
  assertEquals(order, ["released", "after", "ready"]);
  await loop.stop();
});
