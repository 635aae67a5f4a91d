import { assert, assertEquals } from "@std/assert";
import { createKvHandler, type KvService } from "./http_api.ts";
import { parseArgs } from "./args.ts";
import { traceNow, type TraceRecord, TraceRecorder } from "./trace.ts";

const service = (fail = false): KvService => ({
  put: () => fail ? Promise.reject(new Error("disk on fire")) : Promise.resolve(),
  get: () => Promise.resolve("v"),
  addMember: () => Promise.resolve(),
  removeMember: () => Promise.resolve(),
});

Deno.test("trace recorder: replica and KV steps with the shared clock, bounded, as JSON lines", async () => {
  const rec = new TraceRecorder(3n, 3);
  const before = traceNow();
  rec.replica("sendApp", 7n, undefined, 2n);
  rec.replica("forwardOut", 0n, "k1", 1n);
  rec.request("propose", "/a", "k1");
  rec.request("reply", "/a");
  rec.replica("commit", 8n);
  const strip = ({ t: _, ...r }: TraceRecord) => r;
  assertEquals(rec.records.map(strip), [
    { member: 3, step: "sendApp", index: 7, peer: 2 },
    { member: 3, step: "forwardOut", key: "k1", peer: 1 },
    { member: 3, step: "propose", req: "/a", key: "k1" },
  ]);
  assertEquals(rec.dropped, 2);
  const ts = rec.records.map((r) => r.t);
  assert(ts[0] >= before && ts[2] >= ts[0] && ts[2] <= traceNow(), `${ts}`);
  const lines = rec.toJsonLines().trimEnd().split("\n").map((l) => JSON.parse(l));
  assertEquals(lines.length, 4);
  assertEquals(lines[3], { member: 3, dropped: 2 });
  const dir = await Deno.makeTempDir();
  try {
    await rec.writeTo(`${dir}/t.jsonl`);
    assertEquals(await Deno.readTextFile(`${dir}/t.jsonl`), rec.toJsonLines());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assertEquals(new TraceRecorder(1n).toJsonLines(), "");
});

Deno.test("trace in the API: a PUT reports httpIn then reply; a GET and a failed PUT no reply; off, nothing", async () => {
  const rec = new TraceRecorder(1n);
  const handler = createKvHandler(service(), { trace: rec });
  const put = (h: typeof handler, key: string) =>
    h(new Request(`http://kv${key}`, { method: "PUT", body: "1" }));
  assertEquals((await put(handler, "/a")).status, 204);
  assertEquals((await handler(new Request("http://kv/a"))).status, 200);
  assertEquals(rec.records.map((r) => [r.step, r.req]), [["httpIn", "/a"], ["reply", "/a"]]);
  const failing = new TraceRecorder(1n);
  assertEquals((await put(createKvHandler(service(true), { trace: failing }), "/b")).status, 500);
  assertEquals(failing.records.map((r) => r.step), ["httpIn"]);
  const off = createKvHandler(service());
  assertEquals((await put(off, "/c")).status, 204);
  assertEquals(rec.records.length, 2); // another handler's PUT went to no recorder
});

Deno.test("trace flag: --trace FILE, absent by default", () => {
  assertEquals(parseArgs(["--trace", "m1.jsonl"]).trace, "m1.jsonl");
  assertEquals(parseArgs(["--trace=x"]).trace, "x");
  assertEquals("trace" in parseArgs([]), false);
});
