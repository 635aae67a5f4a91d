import { assert, assertEquals } from "@std/assert";
import { DiskStorage } from "../../storage/disk_storage.ts";

const WRITER = new URL("./disk_writer.ts", import.meta.url).pathname;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

// Runs the writer with `flags` until it has acknowledged `killAfter` more entries and kills it
// with SIGKILL at once (or, without `killAfter`, until it kills itself: a torn write); returns
// the last index it acknowledged and how it ended.
async function runWriter(
  dir: string,
  flags: string[],
  killAfter?: number,
): Promise<{ acked: bigint; status: Deno.CommandStatus }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", WRITER, dir, ...flags],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const guard = setTimeout(() => child.kill("SIGKILL"), 60_000); // never hangs the test
  let acked = 0n;
  let seen = 0;
  let pending = "";
  try {
    for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
      const lines = (pending + text).split("\n");
      pending = lines.pop()!; // a line cut by the kill is not an acknowledgement
      for (const line of lines) {
        acked = BigInt(line);
        if (++seen === killAfter) child.kill("SIGKILL");
      }
    }
    return { acked, status: await child.status };
  } finally {
    clearTimeout(guard);
  }
}

// Reopens the storage and checks it against what the writer acknowledged.
async function checkRecovered(dir: string, acked: bigint) {
  const disk = await DiskStorage.open(dir, { segmentBytes: 4096, logger: quiet });
  try {
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
    return { last: s.lastIndex(), repaired: disk.repaired };
  } finally {
    await disk.close();
  }
}

async function segmentCount(dir: string): Promise<number> {
  let segments = 0;
  for await (const f of Deno.readDir(`${dir}/wal`)) if (f.name.endsWith(".wal")) segments++;
  return segments;
}

for (const lazy of [false, true]) {
  const disk = lazy ? "a lazy disk (unsynced writes lost)" : "the real file system";
  Deno.test(`disk storage: killed with SIGKILL at random points on ${disk}, every acknowledged save survives`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "disk_crash_test_" });
    try {
      let acked = 0n;
      for (const atLeast of [37, 101, 64, 150]) {
        const run = await runWriter(dir, lazy ? ["--lazy"] : [], atLeast);
        assertEquals(run.status.signal, "SIGKILL", "the writer must be killed, not exit");
        acked = run.acked;
        await checkRecovered(dir, acked);
      }
      const segments = await segmentCount(dir);
      assert(segments <= 6, `${segments} WAL segments: old ones are not released`);
      assert(acked > 300n);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("disk storage: a torn WAL sync kills the writer; reopening cuts the torn tail, keeps every ack", async () => {
  const dir = await Deno.makeTempDir({ prefix: "disk_crash_test_" });
  try {
    for (const [tearAfter, lazy] of [[30, false], [77, true], [49, true]] as const) {
      const flags = ["--tear-after", `${tearAfter}`, ...(lazy ? ["--lazy"] : [])];
      const { acked, status } = await runWriter(dir, flags);
      assertEquals(status.signal, "SIGKILL", "the writer kills itself after the torn write");
      const got = await checkRecovered(dir, acked);
      assertEquals(got.last, acked, "the torn entry was never acknowledged, and is gone");
      assert(got.repaired !== undefined, `tear after ${tearAfter}: no torn tail was cut`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
