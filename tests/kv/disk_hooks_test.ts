// The KV's disk-fault hooks in a real process (`apps/kv/main.ts --test-hooks`,
// one member on 127.0.0.1): after `POST /_test/disk/fail-fsync` the next
// write's fsync fails, the member stops and the process exits 1 naming the
// file; after `POST /_test/disk/tear` the next write's WAL sync is torn and
// the process kills itself with SIGKILL. Restarted from its data directory,
// the member has every write it acknowledged, and cut the torn tail.
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { freePorts } from "../../bench/ports.ts";

const MAIN = new URL("../../apps/kv/main.ts", import.meta.url).href;

/** One member (a cluster of one) as a process; its output is kept. */
class Member {
  /** Every member made, for the clean-up. */
  static readonly made: Member[] = [];
  readonly api: string;
  readonly #ports: number[];
  readonly #args: string[];
  #child: Deno.ChildProcess | undefined;
  #exited: Promise<Deno.CommandStatus> | undefined;
  output = "";

  constructor(readonly dataDir: string, flags: string[], ports = freePorts(2)) {
    const [peer, api] = this.#ports = ports;
    this.api = `http://127.0.0.1:${api}`;
    this.#args = [
      "run",
      "-A",
      MAIN,
      "--id=1",
      `--cluster=http://127.0.0.1:${peer}`,
      `--port=${api}`,
      `--data-dir=${dataDir}`,
      "--tick-ms=20",
      "--request-timeout-ms=2000",
      "--test-hooks",
      "--disk-faults",
      ...flags,
    ];
    Member.made.push(this);
  }

  /** The same member (ports, data directory) with other fault flags, not started. */
  again(flags: string[]): Member {
    return new Member(this.dataDir, flags, this.#ports);
  }

  /** Starts the process and waits until it leads (a cluster of one elects itself). */
  async start(): Promise<void> {
    const child = new Deno.Command(Deno.execPath(), {
      args: this.#args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    const read = async (s: ReadableStream<Uint8Array>) => {
      for await (const t of s.pipeThrough(new TextDecoderStream())) this.output += t;
    };
    const drained = Promise.all([read(child.stdout), read(child.stderr)]);
    this.#exited = Promise.all([child.status, drained]).then(([s]) => s);
    for (let i = 0; i < 300; i++) {
      const s = await this.request("GET", "/_test/status").catch(() => undefined);
      if (s?.status === 200 && JSON.parse(s.body).state === "leader") return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`the member did not lead within 15 s:\n${this.output}`);
  }

  async request(method: string, path: string, body?: string) {
    const r = await fetch(`${this.api}${path}`, {
      method,
      body,
      signal: AbortSignal.timeout(5000),
    });
    return { status: r.status, body: await r.text() };
  }

  /** Waits for the process to end by itself (killed after 20 s: then the test fails). */
  async exited(): Promise<Deno.CommandStatus> {
    const guard = setTimeout(() => this.kill(), 20_000);
    try {
      return await this.#exited!;
    } finally {
      clearTimeout(guard);
      this.#child = undefined;
    }
  }

  kill(): void {
    try {
      this.#child?.kill("SIGKILL");
    } catch { /* it ended already */ }
  }
}

/**
 * Runs `fn` with member 1 in a new data directory; it and the members `again`
 * made of it are killed, and the directory removed, at the end.
 */
async function withMember(flags: string[], fn: (m: Member) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "kv-disk-hooks-" });
  const first = new Member(`${dir}/data`, flags);
  try {
    await fn(first);
  } finally {
    for (const m of Member.made) m.kill();
    for (const m of Member.made.splice(0)) await m.exited().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("kv process: /_test/disk/fail-fsync stops the member; exit 1 names the fsync", async () => {
  await withMember([], async (m) => {
    await m.start();
    assertEquals((await m.request("PUT", "/a", "1")).status, 204);
    assertEquals((await m.request("POST", "/_test/disk/fail-fsync")).status, 204);
    const put = await m.request("PUT", "/b", "2").catch((e) => ({ status: 0, body: `${e}` }));
    assert(put.status !== 204, "a write whose fsync failed must not be acknowledged");
    assertEquals((await m.exited()).code, 1, m.output);
    assertStringIncludes(m.output, "member 1 stopped: fsync of ");
    assertStringIncludes(m.output, ".wal failed");
    const again = m.again([]);
    await again.start();
    assertEquals(await again.request("GET", "/a"), { status: 200, body: "1" });
  });
});

for (const lazy of [false, true]) {
  const flags = lazy ? ["--lazy-disk"] : [];
  Deno.test(`kv process: /_test/disk/tear kills the member mid-write${lazy ? " (lazy disk)" : ""}; acknowledged writes survive`, async () => {
    await withMember(flags, async (m) => {
      await m.start();
      for (let i = 0; i < 5; i++) {
        assertEquals((await m.request("PUT", `/k${i}`, `${i}`)).status, 204);
      }
      assertEquals((await m.request("POST", "/_test/disk/tear")).status, 204);
      const put = await m.request("PUT", "/torn", "x").catch(() => undefined);
      assertEquals(put, undefined, "no answer: the process died in the middle of the write");
      assertEquals((await m.exited()).signal, "SIGKILL", m.output);
      const again = m.again(flags);
      await again.start();
      for (let i = 0; i < 5; i++) {
        assertEquals(await again.request("GET", `/k${i}`), { status: 200, body: `${i}` });
      }
      assertEquals((await again.request("GET", "/torn")).status, 404);
      assertStringIncludes(again.output, "cut a torn tail");
    });
  });
}
