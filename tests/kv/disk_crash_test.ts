import { assert, assertEquals } from "@std/assert";
import { DiskStorage } from "../../storage/disk_storage.ts";

const WRITER = new URL("./disk_writer.ts", import.meta.url).pathname;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

// Runs the writer until it has acknowledged `atLeast` more entries, kills it with SIGKILL at
// once, and returns the last index it acknowledged.
async function runAndKill(dir: string, atLeast: number): Promise<bigint> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", WRITER, dir],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let last = 0n;
  let seen = 0;
  let pending = "";
  for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
    const lines = (pending + text).split("\n");
    pending = lines.pop()!; // a line cut by the kill is not an acknowledgement
    for (const line of lines) {
      last = BigInt(line);
      if (++seen === atLeast) child.kill("SIGKILL");
    }
  }
  const status = await child.status;
  assertEquals(status.signal, "SIGKILL", "the writer must be killed, not exit");
  return last;
}

Deno.test("disk storage: killed with SIGKILL at random points, every acknowledged save survives", async () => {
  const dir = await Deno.makeTempDir({ prefix: "disk_crash_test_" });
  try {
    let acked = 0n;
    for (const atLeast of [37, 101, 64, 150]) {
      acked = await runAndKill(dir, atLeast);
      const disk = await DiskStorage.open(dir, { segmentBytes: 4096, logger: quiet });
      const s = disk.storage;
      assert(s.lastIndex() >= acked, `acknowledged ${acked}, recovered only ${s.lastIndex()}`);
      assert(s.initialState().hardState.commit >= acked);
      const snapIndex = s.snapshot().metadata?.index ?? 0n;
      // A snapshot every 50 entries, taken before that entry is acknowledged.
      assert(snapIndex % 50n === 0n && snapIndex >= acked / 50n * 50n, `snapshot at ${snapIndex}`);
      if (snapIndex > 0n) {
        assertEquals(new TextDecoder().decode(s.snapshot().data), `state at ${snapIndex}`);
      }
      assertEquals(s.firstIndex(), snapIndex + 1n); // restarts hold the entries after it
      const ents = s.lastIndex() >= s.firstIndex()
        ? s.entries(s.firstIndex(), s.lastIndex() + 1n, Infinity)
        : [];
      ents.forEach((e, k) => assertEquals(e.index, snapIndex + 1n + BigInt(k)));
      await disk.close();
    }
    let segments = 0;
    for await (const f of Deno.readDir(`${dir}/wal`)) if (f.name.endsWith(".wal")) segments++;
    assert(segments <= 6, `${segments} WAL segments: old ones are not released`);
    assert(acked > 300n);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
