// The durability rule, watched from outside: every message a replica hands
// its transport is checked against what that replica's storage holds at
// that moment (DiskStorage updates the MemoryStorage only after its fsync).
// A follower's MsgAppResp must not acknowledge an index its storage lacks; a
// granted vote, and a candidate's own vote request, must be in its persisted
// hard state. Three replicas, proposals, then the leader stopped, so that
// a second election runs. With the planted bug ackBeforeFsync (for fault
// tests), the same check sees followers' acks go out before their fsync.
import { assert, assertEquals } from "@std/assert";
import { type Message, MessageType, silentLogger, Transport } from "../mod.ts";
import { DiskStorage, FaultyFs } from "../storage/mod.ts";
import { freePorts } from "../tests/harness.ts";
import {
  NoLeaderError,
  OutcomeUnknownError,
  type Replica,
  type ReplicaOptions,
  startReplica,
} from "./mod.ts";

function check(m: Message, disk: DiskStorage, problems: string[], seen: Record<string, number>) {
  const s = disk.storage;
  const hs = s.initialState().hardState;
  const what = `${MessageType[m.type]} ${m.from}->${m.to} term ${m.term} index ${m.index}`;
  if (m.type === MessageType.MsgAppResp && !m.reject) {
    seen.appResp++;
    if (s.lastIndex() < m.index) problems.push(`${what} before its entries were saved`);
  } else if (m.type === MessageType.MsgVoteResp && !m.reject) {
    seen.voteResp++;
    if (hs.term !== m.term || hs.vote !== m.to) problems.push(`${what} before the vote was saved`);
  } else if (m.type === MessageType.MsgVote) {
    seen.vote++;
    if (hs.term !== m.term || hs.vote !== m.from) {
      problems.push(`${what} before its term was saved`);
    }
  }
}

async function write(r: Replica, i: number): Promise<void> {
  for (let attempt = 0;; attempt++) {
    try {
      await r.propose(new TextEncoder().encode(`${i}`));
      return;
    } catch (e) {
      const again = e instanceof NoLeaderError || e instanceof OutcomeUnknownError;
      if (!again || attempt > 30) throw e;
      await new Promise((ok) => setTimeout(ok, 100));
    }
  }
}

/**
 * Three replicas with `extra` options, every message they send checked;
 * `writes` proposals, then the leader stopped and as many again.
 */
async function watchedCluster(writes: number, extra: Partial<ReplicaOptions> = {}) {
  const root = await Deno.makeTempDir({ prefix: "replica-durability-" });
  const disks = new Map<string, DiskStorage>();
  const open = DiskStorage.open;
  const send = Transport.prototype.send;
  const problems: string[] = [];
  const seen = { appResp: 0, voteResp: 0, vote: 0 };
  DiskStorage.open = async (dir, opts) => {
    const d = await open(dir, opts);
    disks.set(dir, d);
    return d;
  };
  Transport.prototype.send = function (msgs: Message[]) {
    const disk = disks.get(`${root}/${this.id}/raft`)!;
    for (const m of msgs) check(m, disk, problems, seen);
    return send.call(this, msgs);
  };
  const ports = freePorts(3);
  const peers = Object.fromEntries(ports.map((p, i) => [`${i + 1}`, `http://127.0.0.1:${p}`]));
  const replicas: Replica[] = [];
  try {
    const sm = { apply() {}, snapshot: () => new Uint8Array(), restore() {} };
    for (const id of [1, 2, 3]) {
      const o = { id, peers, dataDir: `${root}/${id}`, stateMachine: sm, tickMs: 50 };
      replicas.push(await startReplica({ ...o, logger: silentLogger, ...extra }));
    }
    for (let i = 0; i < writes; i++) await write(replicas[i % 3], i);
    const leader = await replicas[0].waitForLeader();
    await replicas[Number(leader) - 1].stop();
    const rest = replicas.filter((r) => r.id !== leader);
    for (let i = 0; i < writes; i++) await write(rest[i % 2], i);
    return { problems, seen };
  } finally {
    DiskStorage.open = open;
    Transport.prototype.send = send;
    await Promise.all(replicas.map((r) => r.stop()));
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("durability: acknowledgements and votes go out only after the fsync they depend on", async () => {
  const { problems, seen } = await watchedCluster(30);
  assertEquals(problems, []);
  assert(seen.appResp > 30 && seen.voteResp >= 2 && seen.vote >= 2, JSON.stringify(seen));
});

Deno.test("durability: the planted bug ackBeforeFsync sends followers' acks before their fsync", async () => {
  const { problems } = await watchedCluster(10, {
    plantedBugs: { ackBeforeFsync: true },
    storageFs: new FaultyFs({ lazy: true }), // what a crash of a follower would lose then
  });
  const early = problems.filter((p) => p.startsWith("MsgAppResp"));
  assert(early.length >= 10, `only ${early.length} early acks: ${problems.join("; ")}`);
  assertEquals(problems.filter((p) => !p.startsWith("MsgAppResp")), [], "votes still wait");
});

Deno.test("durability: a one-member cluster applies only entries its own disk holds", async () => {
  const root = await Deno.makeTempDir({ prefix: "replica-durability-" });
  const open = DiskStorage.open;
  let disk: DiskStorage | undefined;
  DiskStorage.open = async (dir, opts) => disk = await open(dir, opts);
  const early: bigint[] = [];
  let applied = 0;
  const sm = {
    apply(_: Uint8Array, index: bigint) {
      applied++;
      if (disk!.storage.lastIndex() < index) early.push(index);
    },
    snapshot: () => new Uint8Array(),
    restore() {},
  };
  const port = freePorts(1)[0];
  const peers = { 1: `http://127.0.0.1:${port}` };
  let replica: Replica | undefined;
  try {
    replica = await startReplica({ id: 1, peers, dataDir: root, stateMachine: sm, tickMs: 20 });
    DiskStorage.open = open;
    await replica.waitForLeader();
    const bytes = new TextEncoder().encode("x");
    await Promise.all(Array.from({ length: 50 }, () => replica!.propose(bytes)));
    assertEquals([applied, early], [50, []]);
  } finally {
    DiskStorage.open = open;
    await replica?.stop();
    await Deno.remove(root, { recursive: true });
  }
});
