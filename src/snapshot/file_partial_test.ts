import { assertEquals, assertRejects } from "@std/assert";
import { create } from "@bufbuild/protobuf";
import { MessageSchema, MessageType } from "../../raftpb/raft_pb.ts";
import { FileSnapshotSink, snapshotFileName } from "./file_sink.ts";
import { PARTIAL_PREFIX } from "./file_partial.ts";
import { tempDir } from "../../tests/harness.ts";

const snap = (index: bigint) =>
  create(MessageSchema, { type: MessageType.MsgSnap, snapshot: { metadata: { index } } });
const bytes = (n: number, v: number) => new Uint8Array(n).fill(v);
const names = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();

Deno.test("file partials: kept when the transfer breaks, cut to the offset a later attempt continues at", async () => {
  await using dir = await tempDir();
  const sink = new FileSnapshotSink(dir.path);
  const p = await sink.partial.open("k1", 0);
  await p.write(bytes(6, 1), 0);
  await p.write(bytes(4, 2), 6);
  await p.close(); // the transfer broke: the file stays
  assertEquals(names(dir.path), [`${PARTIAL_PREFIX}k1`]);
  assertEquals(Deno.statSync(`${dir.path}/${PARTIAL_PREFIX}k1`).size, 10);
  const q = await sink.partial.open("k1", 7); // continued at 7: the rest goes
  assertEquals(Deno.statSync(`${dir.path}/${PARTIAL_PREFIX}k1`).size, 7);
  const buf = new Uint8Array(10);
  assertEquals(await q.read(buf, 0, 10, 0), 7);
  assertEquals([...buf.subarray(0, 7)], [1, 1, 1, 1, 1, 1, 2]);
  await q.close();
  await assertRejects(() => sink.partial.open("k1", 8), Error, "holds less than 8");
  await assertRejects(() => sink.partial.open("none", 3)); // nothing held
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
