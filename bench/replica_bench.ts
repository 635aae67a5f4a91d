// The replica layer's write path, end to end in one process: three replicas
// (startReplica) on 127.0.0.1 over real HTTP, each with its own data
// directory in a temporary directory (WAL fsync as always: the temporary
// directory's filesystem decides what an fsync costs; on tmpfs it costs
// nothing), `propose` on the leader, resolved once the entry is committed
// and applied there. One proposer (one proposal at a time) and 64
// proposers (a batch of 64 proposals awaited together). For comparison, the
// same through the KV's member (apps/kv/node.ts, `KvNode.put`, also resolved
// once committed and applied on that member; since the KV runs on the
// replica layer, that is the replica plus the KV's codec and store).
//
// Each iteration starts a fresh cluster, waits for a leader and warms up
// (not timed), times the proposals (b.start/b.end), then stops it. Divide
// the proposals per iteration by the time per iteration for proposals/s.
//
// Run: deno bench -A bench/replica_bench.ts
import { silentLogger } from "../mod.ts";
import { type Replica, startReplica, type StateMachine } from "../replica/mod.ts";
import { KvNode } from "../apps/kv/node.ts";
import { freePorts } from "./ports.ts";

/** Proposals per timed iteration, one at a time. */
const ONE_BY_ONE = 200;
/** Batches of {@link BATCH} proposals per timed iteration. */
const BATCHES = 20;
const BATCH = 64;
const VALUE = "v".repeat(64);
const TICK_MS = 20; // elections in a fraction of a second: most of an iteration's set-up
const enc = new TextEncoder();
const dec = new TextDecoder();

/** A cluster under test: something to propose on its leader, and its end. */
interface Target {
  propose(i: number): Promise<unknown>;
  stop(): Promise<void>;
}

/** key=value commands into a map, as the KV's state machine holds them. */
function mapMachine(): StateMachine<void> {
  let map = new Map<string, string>();
  return {
    apply(command) {
      const text = dec.decode(command);
      const at = text.indexOf("=");
      map.set(text.slice(0, at), text.slice(at + 1));
    },
    snapshot: () => enc.encode(JSON.stringify([...map])),
    async restore(s) {
      map = new Map(JSON.parse(await new Response(s).text()));
    },
  };
}

async function replicas(root: string): Promise<Target> {
  const urls = freePorts(3).map((p) => `http://127.0.0.1:${p}`);
  const peers = { 1: urls[0], 2: urls[1], 3: urls[2] };
  const all: Replica<void>[] = await Promise.all([1, 2, 3].map((id) =>
    startReplica<void>({
      id,
      peers,
      dataDir: `${root}/${id}`,
      stateMachine: mapMachine(),
      tickMs: TICK_MS,
      logger: silentLogger,
    })
  ));
  const leaderId = await all[0].waitForLeader();
  const leader = all.find((r) => r.id === leaderId)!;
  return {
    propose: (i) => leader.propose(enc.encode(`/k${i}=${VALUE}`)),
    stop: async () => {
      await Promise.all(all.map((r) => r.stop()));
    },
  };
}

async function kvNodes(root: string): Promise<Target> {
  const cluster = freePorts(3).map((p) => `http://127.0.0.1:${p}`);
  const all = await Promise.all([1n, 2n, 3n].map((id) =>
    KvNode.start({
      args: {
        id,
        cluster,
        join: false,
        dataDir: `${root}/${id}`,
        snapshotCount: 10_000,
        catchUpEntries: 10_000,
        requestTimeoutMs: 10_000,
        tickMs: TICK_MS,
      },
      logger: silentLogger,
    })
  ));
  let leader: KvNode | undefined;
  for (let i = 0; i < 500 && leader === undefined; i++) {
    leader = all.find((n) => n.status().state === "leader");
    if (leader === undefined) await new Promise((ok) => setTimeout(ok, 10));
  }
  if (leader === undefined) throw new Error("no KV leader within 5 s");
  return {
    propose: (i) => leader.put(`/k${i}`, VALUE),
    stop: async () => {
      await Promise.all(all.map((n) => n.stop()));
    },
  };
}

/** One iteration: a fresh cluster, warmed up, then `timed` between b.start and b.end. */
async function iteration(
  b: Deno.BenchContext,
  start: (root: string) => Promise<Target>,
  timed: (t: Target) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "replica-bench-" });
  const t = await start(root);
  try {
    for (let i = 0; i < 20; i++) await t.propose(-1 - i); // connections up, leader settled
    b.start();
    await timed(t);
    b.end();
  } finally {
    await t.stop();
    await Deno.remove(root, { recursive: true });
  }
}

const oneByOne = async (t: Target) => {
  for (let i = 0; i < ONE_BY_ONE; i++) await t.propose(i);
};

const batched = async (t: Target) => {
  for (let k = 0; k < BATCHES; k++) {
    await Promise.all(Array.from({ length: BATCH }, (_, j) => t.propose(k * BATCH + j)));
  }
};

const targets = [["replica", replicas], ["kv node", kvNodes]] as const;

for (const [name, start] of targets) {
  Deno.bench(
    `${name}: ${ONE_BY_ONE} proposals on the leader, 1 proposer`,
    { group: "1 proposer", baseline: name === "replica", n: 5, warmup: 1 },
    async (b) => await iteration(b, start, oneByOne), // async: deno bench awaits only async functions
  );
}

for (const [name, start] of targets) {
  Deno.bench(
    `${name}: ${BATCHES * BATCH} proposals on the leader, ${BATCH} proposers`,
    { group: "64 proposers", baseline: name === "replica", n: 5, warmup: 1 },
    async (b) => await iteration(b, start, batched),
  );
}
