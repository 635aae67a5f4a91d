import { assertEquals } from "@std/assert";
import { Members } from "./members.ts";

Deno.test("members: --cluster, added and removed members survive a reload", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cluster = ["http://127.0.0.1:1", "http://127.0.0.1:2", "http://127.0.0.1:3"];
    const m = await Members.load(dir, cluster);
    assertEquals(m.current().length, 3);
    await m.add(4n, "http://127.0.0.1:4");
    await m.remove(3n);
    const again = await Members.load(dir, cluster);
    assertEquals(again.current().map(([id]) => id), [1n, 2n, 4n]);
    assertEquals([again.isRemoved(3n), again.isRemoved(4n), again.url(4n)], [
      true,
      false,
      "http://127.0.0.1:4",
    ]);
    await again.add(3n, "http://127.0.0.1:33"); // re-added under a new URL
    const third = await Members.load(dir, cluster);
    assertEquals([third.isRemoved(3n), third.url(3n)], [false, "http://127.0.0.1:33"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
