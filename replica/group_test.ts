// The replica's `group` option reaches its storage: a one-member replica of
// group 7 writes grouped WAL records and keeps its raft snapshots in the
// group's own folder, restarts from them, and its data directory is refused
// to a replica of another group.
import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import { silentLogger } from "../mod.ts";
import { GroupMismatchError } from "../storage/mod.ts";
import { freePorts, waitUntil } from "../tests/harness.ts";
import { resolveReplicaOptions } from "./options.ts";
import { type ReplicaOptions, startReplica } from "./mod.ts";

const enc = new TextEncoder();

class Sum {
  total = 0;
  apply(command: Uint8Array): number {
    return this.total += command[0];
  }
  snapshot(): Uint8Array {
    return enc.encode(`${this.total}`);
  }
  async restore(s: ReadableStream<Uint8Array>): Promise<void> {
    this.total = Number(await new Response(s).text());
  }
}

const base = {
  id: 1n,
  peers: { 1: "http://127.0.0.1:9001" },
  dataDir: "d",
  stateMachine: new Sum(),
};

Deno.test("replica group: defaults to 1n; an id outside 1n to 2^64 - 1 is refused, naming the option", () => {
  assertEquals(resolveReplicaOptions(base).group, 1n);
  assertEquals(resolveReplicaOptions({ ...base, group: 7n }).group, 7n);
  for (const group of [0n, 1n << 64n]) {
    assertThrows(() => resolveReplicaOptions({ ...base, group }), RangeError, "group must be");
  }
});

Deno.test("replica group: group 7's replica stores as group 7, restarts, and its directory is its own", async () => {
  const root = await Deno.makeTempDir({ prefix: "replica-group-" });
  const peers = { 1: `http://127.0.0.1:${freePorts(1)[0]}` };
  const options = (sm: Sum, group?: bigint): ReplicaOptions<number> => ({
    id: 1n,
    peers,
    dataDir: root,
    stateMachine: sm,
    group,
    tickMs: 20,
    snapshotEvery: 5,
    snapshotCatchUpEntries: 0,
    logger: silentLogger,
  });
  try {
    const replica = await startReplica(options(new Sum(), 7n));
    await replica.waitForLeader();
    for (let i = 1; i <= 12; i++) {
      assertEquals(await replica.propose(Uint8Array.of(i)), i * (i + 1) / 2);
    }
    const snaps = `${root}/raft/snap/group-0000000000000007`;
    const files = async () => (await Array.fromAsync(Deno.readDir(snaps))).map((e) => e.name);
    await waitUntil(
      async () => (await files()).some((f) => f.endsWith(".snap")),
      5000,
      "a snapshot",
    );
    await replica.stop();
    const top = (await Array.fromAsync(Deno.readDir(`${root}/raft/snap`))).map((e) => e.name);
    assertEquals(top, ["group-0000000000000007"]);
    await assertRejects(() => startReplica(options(new Sum())), GroupMismatchError);
    const sm = new Sum();
    const again = await startReplica(options(sm, 7n));
    await again.waitForLeader();
    assertEquals(await again.propose(Uint8Array.of(1)), 79);
    await again.stop();
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
