// The resume store over FileSnapshotSink's partials: the verified data is
// written once, into the sink's partial, which the store only indexes.
import { assert, assertEquals } from "@std/assert";
import { create } from "@bufbuild/protobuf";
import { MessageSchema, MessageType } from "../../../raftpb/raft_pb.ts";
import { FileSnapshotSink, snapshotFileName } from "../../snapshot/file_sink.ts";
import { PARTIAL_PREFIX } from "../../snapshot/file_partial.ts";
import { type ResumeKey, ResumeStore } from "./resume_store.ts";
import { tempDir, waitUntil } from "../../../tests/harness.ts";

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
