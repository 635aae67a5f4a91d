// The WAL against a model: random appends (overwriting suffixes above the
// last snapshot, as raft does), hardStates, snapshot markers, segment
// releases and reopenings, with tiny segments so that cuts happen often.
// After every reopening, what the WAL replays must match the model.
import { assert, assertEquals } from "@std/assert";
import { create, type Entry, EntrySchema, HardStateSchema, type Logger } from "../raftpb/mod.ts";
import { Wal } from "./wal.ts";
import { rng } from "./testdata/rng.ts";

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

interface Model {
  log: Entry[]; // index i at log[i - 1]
  term: bigint;
  commit: bigint;
  marker: bigint;
}

async function runSeed(seed: number, dir: string): Promise<number> {
  const rand = rng(seed);
  const opts = { logger: quiet, segmentBytes: 600 + rand(2000), preallocateBytes: rand(2) * 512 };
  let { wal } = await Wal.open(dir, opts);
  const m: Model = { log: [], term: 1n, commit: 0n, marker: 0n };
  let checks = 0;
  for (let op = 0; op < 120; op++) {
    const r = rand(10);
    if (r < 6) { // append 1-4 entries, possibly replacing a suffix above the marker
      const last = BigInt(m.log.length);
      const from = last - BigInt(rand(Math.min(3, Number(last - m.marker)) + 1)) + 1n;
      if (rand(4) === 0) m.term++;
      const ents = [...Array(1 + rand(4))].map((_, k) =>
        create(EntrySchema, {
          index: from + BigInt(k),
          term: m.term,
          data: new Uint8Array(rand(60)),
        })
      );
      m.log = m.log.slice(0, Number(from - 1n)).concat(ents);
      m.commit = BigInt(m.log.length) - BigInt(rand(2)); // commit trails the log a little
      if (m.commit < m.marker) m.commit = m.marker;
      const hs = create(HardStateSchema, { term: m.term, commit: m.commit, vote: 1n });
      await wal.save(hs, ents, rand(3) === 0);
    } else if (r < 8 && m.commit > m.marker) { // a snapshot up to a committed index
      m.marker = m.commit;
      await wal.saveSnapshotMarker({ index: m.marker, term: m.log[Number(m.marker) - 1].term });
      if (rand(2) === 0) await wal.releaseTo(m.marker);
    } else { // reopen and compare
      await wal.close();
      const opened = await Wal.open(dir, opts);
      wal = opened.wal;
      const c = opened.contents;
      assertEquals(opened.repaired, undefined, `seed ${seed}`);
      assertEquals(c.hardState.commit, m.commit, `seed ${seed} op ${op}: commit`);
      assertEquals(c.markers.at(-1)?.index ?? 0n, m.marker, `seed ${seed} op ${op}: marker`);
      const after = c.entries.filter((e) => e.index > m.marker);
      const want = m.log.slice(Number(m.marker));
      assertEquals(
        after.map((e) => [e.index, e.term]),
        want.map((e) => [e.index, e.term]),
        `seed ${seed} op ${op}`,
      );
      assertEquals(wal.lastIndex, BigInt(m.log.length));
      checks++;
    }
  }
  await wal.close();
  return checks;
}

Deno.test("wal: random appends, markers, releases and reopenings match a model (15 seeds)", async () => {
  let checks = 0;
  for (let seed = 1; seed <= 15; seed++) {
    const dir = await Deno.makeTempDir({ prefix: "wal_model_test_" });
    try {
      checks += await runSeed(seed, dir);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
  assert(checks > 60, `only ${checks} comparisons`);
});
