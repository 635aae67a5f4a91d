// Data directories written by the KV before it ran on the replica layer
// (testdata/kv_before_replica, made by make.sh there with commit 501e411)
// open with the KV of now: migrated once (the map out of the raft snapshots
// into snap.db files, members.json into the URL table), then every write
// is there, the member added and the member removed are known, and the
// members take new writes and restart.
import { assert, assertEquals } from "@std/assert";
import { silentLogger } from "../../mod.ts";
import { migrateDataDir } from "./migrate.ts";
import { KvNode } from "./node.ts";

const FIXTURE = new URL("./testdata/kv_before_replica/", import.meta.url);
const CLUSTER = ["http://127.0.0.1:47311", "http://127.0.0.1:47312", "http://127.0.0.1:47313"];

/** Copies fixture member `name` (each file gzipped) into `dir`. */
async function unpack(name: string, dir: string): Promise<void> {
  const walk = async (rel: string) => {
    for await (const e of Deno.readDir(new URL(`${name}/${rel}`, FIXTURE))) {
      const path = `${rel}${e.name}`;
      if (e.isDirectory) {
        await Deno.mkdir(`${dir}/${path}`, { recursive: true });
        await walk(`${path}/`);
        continue;
      }
      const gz = await Deno.open(new URL(`${name}/${path}`, FIXTURE));
      const out = await Deno.open(`${dir}/${path.replace(/\.gz$/, "")}`, {
        write: true,
        create: true,
      });
      await gz.readable.pipeThrough(new DecompressionStream("gzip")).pipeTo(out.writable);
    }
  };
  await Deno.mkdir(dir, { recursive: true });
  await walk("");
}

const args = (id: number, dataDir: string, cluster = CLUSTER, raftexampleCompat = false) => ({
  id: BigInt(id),
  cluster,
  join: false,
  dataDir,
  snapshotCount: 5,
  catchUpEntries: 2,
  requestTimeoutMs: 5000,
  tickMs: 20,
  raftexampleCompat,
});

const names = async (dir: string) => {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
};

Deno.test("migrate: a data directory of the KV before the replica opens with every write", async () => {
  const root = await Deno.makeTempDir();
  const start = (id: number) =>
    KvNode.start({ args: args(id, `${root}/m${id}`), logger: silentLogger });
  let nodes: KvNode[] = [];
  try {
    for (const m of ["m1", "m2"]) await unpack(m, `${root}/${m}`);
    nodes = await Promise.all([start(1), start(2)]);
    assertEquals(await names(`${root}/m1`), ["members.json.migrated", "raft", "snap.db"]);
    assertEquals((await names(`${root}/m1/snap.db`)).length, 3, "one data file per snapshot");
    for (const n of nodes) {
      for (let k = 0; k < 30; k++) assertEquals(await n.get(`/k${k}`, false), `v${k}`);
      assertEquals(await n.get("/esc", false), '<a & "b">');
      assertEquals(await n.get("/uni", false), "héllo ☃");
      const members = n.replica.status().members;
      assertEquals(members.map((m) => m.id), [1n, 2n, 4n], "3 removed, 4 added");
      assertEquals(members.find((m) => m.id === 4n)?.urls, ["http://127.0.0.1:47314"]);
    }
    await nodes[0].put("/after", "migrated");
    await Promise.all(nodes.map((n) => n.stop()));
    assertEquals(await migrateDataDir(`${root}/m1`, CLUSTER, silentLogger), false, "once");
    nodes = await Promise.all([start(1), start(2)]);
    assertEquals(await nodes[1].get("/after", false), "migrated");
    assertEquals(await nodes[1].get("/k0", false), "v0");
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("migrate: a --raftexample-compat data directory (gob entries) opens too", async () => {
  const root = await Deno.makeTempDir();
  const dir = `${root}/compat1`;
  const cluster = ["http://127.0.0.1:47315"];
  let node: KvNode | undefined;
  try {
    await unpack("compat1", dir);
    node = await KvNode.start({ args: args(1, dir, cluster, true), logger: silentLogger });
    for (let k = 0; k <= 12; k++) assertEquals(await node.get(`/g${k}`, false), `gob${k}`);
    await node.put("/g13", "gob13");
    await node.stop();
    node = await KvNode.start({ args: args(1, dir, cluster, true), logger: silentLogger });
    assertEquals(await node.get("/g13", false), "gob13");
    assert((await names(`${dir}/snap.db`)).length >= 2);
  } finally {
    await node?.stop();
    await Deno.remove(root, { recursive: true });
  }
});
