// A deterministic run of DiskStorage, written against the API that the code
// before raft groups (commit 501e411) and after it both have: appends with a
// conflicting suffix overwritten, segment cuts, a snapshot taken and
// compacted, a snapshot received from a leader, and more entries. Run by the
// old code, it made legacy_dir.ts (see make_legacy_fixture.ts); the
// compatibility test runs it with the new code and compares every byte.
import {
  ConfStateSchema,
  create,
  EntrySchema,
  HardStateSchema,
  type Logger,
  SnapshotSchema,
} from "../../raftpb/mod.ts";
import { DiskStorage } from "../disk_storage.ts";

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const text = (s: string) => new TextEncoder().encode(s);
const entry = (index: bigint, term: bigint) =>
  create(EntrySchema, { index, term, data: text(`entry ${index} of term ${term}, padded`) });
const hs = (term: bigint, commit: bigint) => create(HardStateSchema, { term, commit, vote: 1n });

/** Writes the scenario into `dir`; `extra` is merged into DiskStorage's options. */
export async function writeScenario(dir: string, extra: Record<string, unknown> = {}) {
  const disk = await DiskStorage.open(dir, { segmentBytes: 600, logger: quiet, ...extra });
  for (let i = 1n; i <= 12n; i++) {
    await disk.save({
      hardState: hs(1n, i - 1n),
      entries: [entry(i, 1n)],
      mustSync: i % 3n === 0n,
    });
  }
  const overwrite = [11n, 12n, 13n].map((i) => entry(i, 2n));
  await disk.save({ hardState: hs(2n, 12n), entries: overwrite, mustSync: true });
  const cs = create(ConfStateSchema, { voters: [1n, 2n, 3n] });
  await disk.saveSnapshot(disk.storage.createSnapshot(8n, cs, text("state at 8")), 6n);
  for (let i = 14n; i <= 20n; i++) {
    await disk.save({ hardState: hs(2n, i - 1n), entries: [entry(i, 2n)], mustSync: true });
  }
  const received = create(SnapshotSchema, {
    data: text("the leader's state at 30"),
    metadata: { index: 30n, term: 3n, confState: cs },
  });
  await disk.save({ hardState: hs(3n, 30n), entries: [], snapshot: received, mustSync: true });
  for (let i = 31n; i <= 35n; i++) {
    await disk.save({ hardState: hs(3n, i - 2n), entries: [entry(i, 3n)], mustSync: i === 35n });
  }
  await disk.close();
}

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

/** What a reopened DiskStorage holds, as plain strings (comparable, and printable into a file). */
export function replaySummary(disk: DiskStorage): Record<string, unknown> {
  const s = disk.storage;
  const { hardState: h } = s.initialState();
  const snap = s.snapshot();
  const first = s.firstIndex();
  const last = s.lastIndex();
  const entries = last >= first ? s.entries(first, last + 1n, Number.MAX_SAFE_INTEGER) : [];
  return {
    hardState: `term ${h.term} vote ${h.vote} commit ${h.commit}`,
    snapshot: `${snap.metadata?.index}@${snap.metadata?.term} ${hex(snap.data)}`,
    restored: `${disk.restoredSnapshot?.metadata?.index}`,
    range: `${first}..${last}`,
    entries: entries.map((e) => `${e.index}@${e.term} ${hex(e.data)}`),
  };
}

/** Every file under `dir` (relative path, sorted) with its bytes. */
export async function readTree(dir: string, under = ""): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  const names = [];
  for await (const e of Deno.readDir(`${dir}/${under}`)) names.push(e);
  for (const e of names.sort((a, b) => a.name < b.name ? -1 : 1)) {
    const rel = under === "" ? e.name : `${under}/${e.name}`;
    if (e.isDirectory) { for (const [k, v] of await readTree(dir, rel)) out.set(k, v); }
    else out.set(rel, await Deno.readFile(`${dir}/${rel}`));
  }
  return out;
}
