import { assert, assertEquals, assertRejects } from "@std/assert";
import { create } from "@bufbuild/protobuf";
import { MessageSchema, MessageType } from "../../raftpb/raft_pb.ts";
import { FileSnapshotSink, snapshotFileName } from "./file_sink.ts";
import { PARTIAL_PREFIX } from "./file_partial.ts";
import { type ResumeKey, ResumeStore } from "./resume_store.ts";
import { tempDir, waitUntil } from "../../tests/harness.ts";

const snap = (index: bigint) =>
  create(MessageSchema, { type: MessageType.MsgSnap, snapshot: { metadata: { index } } });
const bytes = (n: number, v: number) => new Uint8Array(n).fill(v);
const names = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();
const key: ResumeKey = {
  from: 1n,
  index: 10n,
  term: 2n,
  size: 100,
  window: 10,
  transfer: "t",
  digest: "crc32",
};

Deno.test("file partials: kept when the transfer breaks, cut to the offset on resume", async () => {
  await using dir = await tempDir();
  const sink = new FileSnapshotSink(dir.path);
  const p = await sink.partial.open("k1", 0);
  await p.write(bytes(6, 1), 0);
  await p.write(bytes(4, 2), 6);
  await p.close(); // the transfer broke: the file stays
  assertEquals(names(dir.path), [`${PARTIAL_PREFIX}k1`]);
  assertEquals(Deno.statSync(`${dir.path}/${PARTIAL_PREFIX}k1`).size, 10);
  const q = await sink.partial.open("k1", 7); // resumes at 7: the rest goes
  assertEquals(Deno.statSync(`${dir.path}/${PARTIAL_PREFIX}k1`).size, 7);
  const buf = new Uint8Array(10);
  assertEquals(await q.read(buf, 0, 10, 0), 7);
  assertEquals([...buf.subarray(0, 7)], [1, 1, 1, 1, 1, 1, 2]);
  await q.close();
  await assertRejects(() => sink.partial.open("k1", 8), Error, "holds less than 8");
  await assertRejects(() => sink.partial.open("none", 3)); // nothing to resume
  await sink.partial.remove("k1");
  assertEquals(names(dir.path), []);
});

Deno.test("file partials: commit fsyncs and renames; a wrong size leaves nothing", async () => {
  await using dir = await tempDir();
  const sink = new FileSnapshotSink(dir.path);
  const p = await sink.partial.open("k", 0);
  await p.write(bytes(5, 9), 0);
  await p.commit(snap(11n), 5);
  assertEquals(names(dir.path), [snapshotFileName(11n)]);
  assertEquals(await Deno.readFile(sink.pathFor(11n)), bytes(5, 9));
  const short = await sink.partial.open("j", 0);
  await short.write(bytes(4, 1), 0);
  await assertRejects(() => short.commit(snap(12n), 5), Error, "holds 4 bytes, not 5");
  assertEquals(names(dir.path), [snapshotFileName(11n)], "no partial, no snapshot 12");
});

Deno.test("file partials: those of an earlier process are removed before the first open", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/${PARTIAL_PREFIX}old`, bytes(3, 1));
  await Deno.writeFile(`${dir.path}/${snapshotFileName(3n)}`, bytes(3, 1));
  const sink = new FileSnapshotSink(dir.path);
  const p = await sink.partial.open("new", 0);
  await p.close();
  assertEquals(names(dir.path), [snapshotFileName(3n), `${PARTIAL_PREFIX}new`].sort());
  await sink.partial.removeAll();
  assertEquals(names(dir.path), [snapshotFileName(3n)]);
});

Deno.test("resume store over file partials: no copy of its own; expiry, discard and stop remove the file", async () => {
  await using dir = await tempDir();
  await using storeDir = await tempDir();
  const sink = new FileSnapshotSink(dir.path);
  const store = new ResumeStore({
    maxBytes: 1000,
    ttlMs: 100,
    dir: storeDir.path,
    partials: sink.partial,
  });
  await using _ = { [Symbol.asyncDispose]: () => store.stop() };
  const a = (await store.begin(key, 0))!;
  assert(a.commit !== undefined, "writes into the sink");
  await a.append(bytes(10, 1));
  await a.append(bytes(5, 2));
  a.digests.push(new Uint8Array(32), new Uint8Array(32));
  await a.release();
  assertEquals(store.offset(key), 15);
  assertEquals(names(storeDir.path), [], "the store holds no data");
  const [file] = names(dir.path);
  assert(file.startsWith(PARTIAL_PREFIX));
  assertEquals(Deno.statSync(`${dir.path}/${file}`).size, 15);
  // Resumed: the kept window's head is read from the partial, new bytes go after it.
  const b = (await store.begin(key, 15))!;
  assertEquals(b.digests.length, 1);
  assertEquals(await b.readAll(10, 15), bytes(5, 2));
  const all: number[] = [];
  for await (const c of b.read(0, 15)) all.push(...c);
  assertEquals(all, [...bytes(10, 1), ...bytes(5, 2)]);
  await b.append(bytes(5, 3));
  await b.release();
  assertEquals(Deno.statSync(`${dir.path}/${file}`).size, 20);
  await waitUntil(() => names(dir.path).length === 0, 5000); // expired: the file is gone
  assertEquals([store.offset(key), store.usedBytes, store.size], [0, 0, 0]);
  // Discarded (a digest mismatch): nothing stays.
  const c = (await store.begin(key, 0))!;
  await c.append(bytes(10, 1));
  await c.discard();
  assertEquals(names(dir.path), []);
  // Committed: the snapshot file, nothing kept.
  const d = (await store.begin(key, 0))!;
  await d.append(bytes(10, 4));
  await d.commit!(snap(10n), 10);
  await d.discard();
  assertEquals(names(dir.path), [snapshotFileName(10n)]);
  assertEquals(store.size, 0);
  // Kept at stop: removed.
  const e = (await store.begin(key, 0))!;
  await e.append(bytes(10, 1));
  await e.release();
  await store.stop();
  assertEquals(names(dir.path), [snapshotFileName(10n)]);
});

Deno.test("resume store over file partials: a transfer bigger than maxBytes is still written whole, not kept", async () => {
  await using dir = await tempDir();
  const sink = new FileSnapshotSink(dir.path);
  const store = new ResumeStore({ maxBytes: 12, ttlMs: 60_000, partials: sink.partial });
  await using _ = { [Symbol.asyncDispose]: () => store.stop() };
  const a = (await store.begin(key, 0))!;
  await a.append(bytes(10, 1));
  await a.append(bytes(10, 2)); // over the bound: written, no longer kept
  assertEquals(store.usedBytes, 0);
  await a.commit!(snap(10n), 20);
  await a.discard();
  assertEquals(
    await Deno.readFile(sink.pathFor(10n)),
    new Uint8Array([...bytes(10, 1), ...bytes(10, 2)]),
  );
  const b = (await store.begin(key, 0))!;
  await b.append(bytes(10, 1));
  await b.append(bytes(10, 2));
  await b.release(); // broke over the bound: nothing kept
  assertEquals(store.offset(key), 0);
  assertEquals(names(dir.path), [snapshotFileName(10n)]);
});
