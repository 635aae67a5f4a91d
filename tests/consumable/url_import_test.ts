// The module is imported by URL, with no configuration: the checkout is
// served over HTTP on 127.0.0.1 and a script in a folder without deno.json
// imports mod.ts from there, type-checks (remote modules included) and runs
// two members that exchange a message.
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { extname, join, normalize } from "node:path";
import { tempDir } from "../harness.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** Serves the checkout read-only, with TypeScript content types. */
function serveCheckout(): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = normalize(decodeURIComponent(new URL(req.url).pathname));
    if (path.includes("..")) return new Response("no", { status: 403 });
    try {
      const body = await Deno.readFile(join(ROOT, path));
      const type = extname(path) === ".ts" ? "application/typescript" : "text/plain";
      return new Response(body, { headers: { "Content-Type": type } });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
}

const script = (base: string) => `
import { create, MessageSchema, MessageType, type Message, serve, silentLogger, Transport } from "${base}/mod.ts";

const got: Message[] = [];
const raft = (record: boolean) => ({
  process(m: Message) { if (record) got.push(m); },
  isIDRemoved: () => false,
  reportUnreachable() {},
  reportSnapshot() {},
});
const members = [1n, 2n].map((id) => {
  const ac = new AbortController();
  let transport: Transport | undefined;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
    (req) => transport!.handler()(req));
  const url = "http://127.0.0.1:" + server.addr.port;
  transport = new Transport({ id, clusterId: 7n, urls: [url], raft: raft(id === 2n),
    logger: silentLogger, probeIntervalMs: 0, snapshot: { sink: { async save() {} } } });
  return { id, url, server, transport };
});
void serve; // the Deno.serve helper is importable too
for (const a of members) for (const b of members) if (a !== b) a.transport.addPeer(b.id, [b.url]);
for (const m of members) m.transport.start();
const deadline = Date.now() + 10_000;
while (got.length === 0 && Date.now() < deadline) {
  members[0].transport.send([create(MessageSchema, { type: MessageType.MsgHeartbeat, from: 1n, to: 2n, term: 3n })]);
  await new Promise((r) => setTimeout(r, 50));
}
for (const m of members) { await m.transport.stop(); await m.server.shutdown(); }
console.log(got.length > 0 ? "received term " + got[0].term : "nothing received");
`;

async function deno(cwd: string, args: string[]): Promise<{ code: number; out: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder();
  return { code, out: text.decode(stdout) + text.decode(stderr) };
}

/** Every other entry point: the core bootstraps, storage keeps a Ready, replica answers. */
const layersScript = (base: string) => `
import { create, EntrySchema, HardStateSchema, MessageType } from "${base}/raftpb/mod.ts";
import { MemoryStorage, RawNode } from "${base}/raft/mod.ts";
import { DiskStorage } from "${base}/storage/mod.ts";
import { compactIndexFor } from "${base}/replica/mod.ts";

const node = new RawNode({ id: 1n, storage: new MemoryStorage() });
node.bootstrap([1n, 2n, 3n]);
const dir = Deno.makeTempDirSync();
const disk = await DiskStorage.open(dir);
const entries = [create(EntrySchema, { index: 1n, term: 1n })];
await disk.save({ hardState: create(HardStateSchema, { term: 1n, commit: 1n }), entries, mustSync: true });
await disk.close();
Deno.removeSync(dir, { recursive: true });
console.log(node.status().state, MessageType[MessageType.MsgApp], compactIndexFor(20n, 5, 1n));
`;

/** Type-checks and runs `text` from a folder with no configuration, importing from `server`. */
async function runByUrl(
  port: number,
  text: (base: string) => string,
  perms: string[],
): Promise<string> {
  await using dir = await tempDir("rafthttp-url-import-");
  const base = `http://127.0.0.1:${port}`;
  await Deno.writeTextFile(`${dir.path}/main.ts`, text(base));
  const allow = `--allow-import=127.0.0.1:${port}`;
  const check = await deno(dir.path, [
    "check",
    "--all",
    allow,
    `--reload=${base}`,
    "--no-lock",
    "main.ts",
  ]);
  assertEquals(check.code, 0, `deno check --all failed:\n${check.out}`);
  const run = await deno(dir.path, ["run", allow, ...perms, "--no-lock", "main.ts"]);
  assertEquals(run.code, 0, `the script failed:\n${run.out}`);
  const files = [...Deno.readDirSync(dir.path)].map((e) => e.name);
  assert(!files.includes("deno.json"), "the folder has no configuration");
  return run.out;
}

Deno.test("consumable: raftpb, raft, storage and replica imported by URL with no deno.json", async () => {
  await using server = serveCheckout();
  const out = await runByUrl(server.addr.port, layersScript, ["--allow-read", "--allow-write"]);
  assertStringIncludes(out, "follower MsgApp 15n");
});

Deno.test("consumable: mod.ts imported by URL with no deno.json type-checks and runs", async () => {
  await using server = serveCheckout();
  await using dir = await tempDir("rafthttp-url-import-");
  const base = `http://127.0.0.1:${server.addr.port}`;
  await Deno.writeTextFile(`${dir.path}/main.ts`, script(base));
  const allow = `--allow-import=127.0.0.1:${server.addr.port}`;
  const reload = `--reload=${base}`;
  const check = await deno(dir.path, ["check", "--all", allow, reload, "--no-lock", "main.ts"]);
  assertEquals(check.code, 0, `deno check --all failed:\n${check.out}`);
  const run = await deno(dir.path, [
    "run",
    allow,
    "--allow-net=127.0.0.1",
    "--no-lock",
    "main.ts",
  ]);
  assertEquals(run.code, 0, `the script failed:\n${run.out}`);
  assertStringIncludes(run.out, "received term 3");
  const files = [...Deno.readDirSync(dir.path)].map((e) => e.name);
  assert(!files.includes("deno.json"), "the folder has no configuration");
});
