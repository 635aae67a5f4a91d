import { assertEquals, assertRejects } from "@std/assert";
import { ensureRaftexample, RaftexampleUnavailableError } from "../../bench/raftexample.ts";

Deno.test("raftexample: an existing binary is used as is", async () => {
  const bin = await Deno.makeTempFile();
  try {
    assertEquals(await ensureRaftexample(bin), bin);
  } finally {
    await Deno.remove(bin);
  }
});

Deno.test("raftexample: without Go on PATH, a clear message says what to install", async () => {
  const path = Deno.env.get("PATH") ?? "";
  const dir = await Deno.makeTempDir();
  Deno.env.set("PATH", dir); // an empty directory: no `go`
  try {
    await assertRejects(
      () => ensureRaftexample(`${dir}/raftexample`),
      RaftexampleUnavailableError,
      "`go` is not on PATH",
    );
  } finally {
    Deno.env.set("PATH", path);
    await Deno.remove(dir, { recursive: true });
  }
});
