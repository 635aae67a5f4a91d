// `examples/kv/main.ts` as a user runs it: exit codes and messages for a bad
// command line, a taken port, and a clean stop on SIGTERM.
import { assertEquals, assertStringIncludes } from "@std/assert";
import { freePorts } from "../../bench/ports.ts";

const MAIN = new URL("../../apps/kv/main.ts", import.meta.url);

async function run(args: string[], untilListening?: (child: Deno.ChildProcess) => Promise<void>) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN.href, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  try {
    const out = untilListening ? untilListening(child) : Promise.resolve();
    const [status] = await Promise.all([child.output(), out]);
    const text = new TextDecoder();
    return {
      code: status.code,
      stdout: text.decode(status.stdout),
      stderr: text.decode(status.stderr),
    };
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("kv main: a bad command line prints the problem and the usage, exit 2", async () => {
  const r = await run(["--id", "2"]);
  assertEquals(r.code, 2);
  assertStringIncludes(r.stderr, "--id 2 has no URL in --cluster (1 given)");
  assertStringIncludes(r.stderr, "usage: deno task kv");
});

Deno.test("kv main: a taken key-value port is named, exit 1", async () => {
  const dir = await Deno.makeTempDir();
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const [peer] = freePorts(1);
    const r = await run([
      `--cluster=http://127.0.0.1:${peer}`,
      `--port=${taken.addr.port}`,
      `--data-dir=${dir}`,
    ]);
    assertEquals(r.code, 1, r.stderr);
    assertStringIncludes(r.stderr, `port ${taken.addr.port} on 127.0.0.1 is taken`);
  } finally {
    taken.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("kv main: one member serves PUT and GET, and SIGTERM stops it with exit 0", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const [peer, api] = freePorts(2);
    const r = await run(
      [`--cluster=http://127.0.0.1:${peer}`, `--port=${api}`, `--data-dir=${dir}`, "--tick-ms=20"],
      async (child) => {
        const base = `http://127.0.0.1:${api}`;
        for (let i = 0; i < 200; i++) {
          try {
            const put = await fetch(`${base}/k`, { method: "PUT", body: "v" });
            await put.body?.cancel();
            if (put.status === 204) break;
          } catch { /* not listening yet */ }
          await new Promise((res) => setTimeout(res, 50));
        }
        const got = await fetch(`${base}/k`);
        assertEquals([got.status, await got.text()], [200, "v"]);
        child.kill("SIGTERM");
      },
    );
    assertEquals(r.code, 0, r.stderr);
    assertStringIncludes(r.stdout, `key-value API on http://127.0.0.1:${api}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("kv main: a one-member cluster SIGKILLed right after its 204s still has every write", async () => {
  const dir = await Deno.makeTempDir();
  const [peer, api] = freePorts(2);
  const args = [`--cluster=http://127.0.0.1:${peer}`, `--port=${api}`, `--data-dir=${dir}`];
  const spawn = () =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN.href, ...args, "--tick-ms=20"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
  const base = `http://127.0.0.1:${api}`;
  const put = async (k: string, v: string) => {
    for (let i = 0; i < 200; i++) {
      try {
        const r = await fetch(`${base}/${k}`, { method: "PUT", body: v });
        await r.body?.cancel();
        if (r.status === 204) return;
      } catch { /* not listening yet */ }
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error(`PUT /${k} never answered 204`);
  };
  let child = spawn();
  try {
    await Promise.all(Array.from({ length: 20 }, (_, i) => put(`k${i}`, `v${i}`)));
    child.kill("SIGKILL");
    await child.status;
    child = spawn();
    await put("ready", "1");
    for (let i = 0; i < 20; i++) {
      const r = await fetch(`${base}/k${i}`);
      assertEquals([r.status, await r.text()], [200, `v${i}`]);
    }
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
});
