// JSR-ready: `deno publish --dry-run` passes (license, no slow types) and
// would publish what users need and nothing else.
import { assert, assertEquals } from "@std/assert";

const ROOT = new URL("../../", import.meta.url);

Deno.test("consumable: deno publish --dry-run is clean and publishes only the module", async () => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["publish", "--dry-run", "--allow-dirty"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const out = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  assertEquals(code, 0, out);
  const files = [...out.matchAll(/file:\/\/(\S+)/g)].map((m) => m[1].replace(ROOT.pathname, ""));
  const entries = ["mod.ts", "raftpb/mod.ts", "raft/mod.ts", "storage/mod.ts", "replica/mod.ts"];
  for (const needed of [...entries, "LICENSE", "README.md", "src/transport.ts"]) {
    assert(files.includes(needed), `${needed} is published:\n${out}`);
  }
  const unwanted = files.filter((f) =>
    /_test\.ts$|\/testdata\/|^tests\/|^bench\/|^examples\/|^tools\/|^apps\/|^raft\/testing\//.test(
      f,
    )
  );
  assertEquals(
    unwanted,
    [],
    "tests, the simulator, benchmarks, examples, apps and tools stay out of the package",
  );
});
