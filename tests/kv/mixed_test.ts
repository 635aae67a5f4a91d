// One cluster, two implementations: Go raftexample 3.4.23 (etcd's raft and
// rafthttp, built offline from Debian's sources by bench/raftexample.ts) and
// our KV members with --raftexample-compat, as OS processes on 127.0.0.1.
// 2 raftexample + 1 ours, and 1 raftexample + 2 ours: a PUT on any member is
// readable on every member; the leader (either implementation) is killed
// with SIGKILL, the others elect a new one and keep taking writes; the
// killed member restarts and catches up.
//
// A member of ours also joins a raftexample-led cluster (POST /4, --join)
// after raftexample compacted its log, and catches up from the snapshot Go
// sends: for that raftexample is built a second time, from a copy of its
// sources in a temp GOPATH where only its snapshot constants are made small
// with sed (snapshot every 20 entries, keep 5 behind it; etcd's code is not
// committed here).
//
// raftexample's KV API listens on every interface, so the test runs itself
// again in a private network namespace that has only loopback (`unshare
// -rn`), and nothing listens beyond it. Without Go or etcd's sources the test
// is skipped with a message; with RAFTHTTP_REQUIRE_GO=1 (CI) it fails then.

import { assert, assertEquals } from "@std/assert";
import { ensureRaftexample, RaftexampleUnavailableError } from "../../bench/raftexample.ts";
import { KvClients } from "./clients.ts";
import { assertLinearizable } from "./assert_linearizable.ts";
import { ProcessCluster } from "./processes.ts";

const IN_NETNS = Deno.env.get("RAFTHTTP_MIXED_IN_NETNS") === "1";
const REQUIRE_GO = Deno.env.get("RAFTHTTP_REQUIRE_GO") === "1";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function succeeds(cmd: string, args: string[]): Promise<boolean> {
  try {
    return (await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output())
      .success;
  } catch {
    return false;
  }
}

const SOURCES = "/usr/share/gocode/src/go.etcd.io/etcd/contrib/raftexample";

/** Builds raftexample with snapshots every `count` entries, `catchUp` kept behind, into `dir`. */
async function buildSmallSnapshots(dir: string, count: number, catchUp: number): Promise<string> {
  const pkg = `${dir}/src/go.etcd.io/etcd/contrib/raftexample`;
  await Deno.mkdir(pkg, { recursive: true });
  for await (const f of Deno.readDir(SOURCES)) {
    if (!f.name.endsWith(".go") || f.name.endsWith("_test.go")) continue;
    let text = await Deno.readTextFile(`${SOURCES}/${f.name}`);
    if (f.name === "raft.go") {
      const before = text;
      text = text
        .replace(
          /^var defaultSnapshotCount uint64 = 10000$/m,
          `var defaultSnapshotCount uint64 = ${count}`,
        )
        .replace(
          /^var snapshotCatchUpEntriesN uint64 = 10000$/m,
          `var snapshotCatchUpEntriesN uint64 = ${catchUp}`,
        );
      const changed = before.split("\n").filter((l, i) => l !== text.split("\n")[i]).length;
      if (changed !== 2) {
        throw new Error(`raft.go: expected 2 constants to change, changed ${changed}`);
      }
    }
    await Deno.writeTextFile(`${pkg}/${f.name}`, text);
  }
  const out = `${dir}/raftexample-small-snapshots`;
  const r = await new Deno.Command("go", {
    args: ["build", "-o", out, "go.etcd.io/etcd/contrib/raftexample"],
    env: { GO111MODULE: "off", GOPATH: `${dir}:/usr/share/gocode`, GOFLAGS: "", GOPROXY: "off" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!r.success) throw new Error(`go build failed:\n${new TextDecoder().decode(r.stderr)}`);
  return out;
}

// Outside the namespace: build raftexample (or say why not), then run this file inside one.
let bin: string | undefined;
let why = "";
if (!IN_NETNS) {
  try {
    bin = await ensureRaftexample();
  } catch (e) {
    if (!(e instanceof RaftexampleUnavailableError)) throw e;
    why = e.message;
  }
  const haveSources = await Deno.stat(`${SOURCES}/raft.go`).then(() => true, () => false);
  if (bin !== undefined && (!await succeeds("go", ["version"]) || !haveSources)) {
    why = `building raftexample with small snapshot constants needs go on PATH and ${SOURCES}`;
    bin = undefined;
  }
  if (bin !== undefined && !await succeeds("unshare", ["-rn", "true"])) {
    why = "unshare -rn is not available (raftexample's KV port would listen on all interfaces)";
    bin = undefined;
  }
  if (bin === undefined && !REQUIRE_GO) console.log(`mixed_test skipped: ${why}`);
} else bin = Deno.env.get("RAFTHTTP_RAFTEXAMPLE_BIN");

if (!IN_NETNS) {
  Deno.test({
    name: "mixed raftexample/ours clusters (in a loopback-only network namespace)",
    ignore: bin === undefined && !REQUIRE_GO,
    async fn() {
      if (bin === undefined) throw new Error(`RAFTHTTP_REQUIRE_GO=1 but: ${why}`);
      const path: string = bin;
      const tmp = await Deno.makeTempDir({ prefix: "raftexample-small-" });
      try {
        const small = await buildSmallSnapshots(tmp, 20, 5);
        const inner = [Deno.execPath(), "test", "-A", new URL(import.meta.url).pathname];
        const child = new Deno.Command("unshare", {
          args: ["-rn", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", ...inner],
          env: {
            RAFTHTTP_MIXED_IN_NETNS: "1",
            RAFTHTTP_RAFTEXAMPLE_BIN: path,
            RAFTHTTP_RAFTEXAMPLE_SMALL_BIN: small,
            NO_COLOR: "1",
          },
          stdin: "null",
        }).spawn();
        const { code } = await child.status;
        assertEquals(code, 0, "the mixed-cluster tests failed inside the namespace (above)");
      } finally {
        await Deno.remove(tmp, { recursive: true });
      }
    },
  });
}

async function req(url: string, init: RequestInit = {}, ms = 2000) {
  try {
    const r = await fetch(url, { ...init, signal: AbortSignal.timeout(ms) });
    return { status: r.status, body: await r.text() };
  } catch {
    return undefined;
  }
}

/** The cluster as our members see it: a leader id all running ones of ours agree on. */
async function leaderSeenByOurs(c: ProcessCluster, live: number[]): Promise<number | undefined> {
  const ours = live.filter((id) => !c.isRaftexample(id));
  if (ours.length === 0) return undefined;
  const all = await Promise.all(ours.map((id) => c.status(id)));
  if (all.some((s) => s === undefined || s.lead === "0")) return undefined;
  const lead = all[0]!.lead;
  if (!all.every((s) => s!.lead === lead)) return undefined;
  const n = Number(lead);
  if (!live.includes(n)) return undefined;
  if (!c.isRaftexample(n) && all[ours.indexOf(n)]!.state !== "leader") return undefined;
  return n;
}

/** Whether `key` reads `value` on each of `ids` within `ms`. */
async function readableOn(
  c: ProcessCluster,
  ids: number[],
  key: string,
  value: string,
  ms: number,
) {
  const deadline = Date.now() + ms;
  const pending = new Set(ids);
  while (pending.size > 0 && Date.now() < deadline) {
    for (const id of [...pending]) {
      const r = await req(`${c.apiUrl(id)}${key}`, {}, 1000);
      if (r?.status === 200 && r.body === value) pending.delete(id);
    }
    if (pending.size > 0) await sleep(50);
  }
  return [...pending];
}

/**
 * PUT key=value on member `on` until it is readable on every member in
 * `live` (raftexample answers 204 before commit and may drop a proposal
 * made without a leader, so a write through it is retried); the attempts.
 */
async function write(c: ProcessCluster, on: number, live: number[], key: string, value: string) {
  for (let attempt = 1; attempt <= 10; attempt++) {
    const put = await req(`${c.apiUrl(on)}${key}`, { method: "PUT", body: value }, 6000);
    if (put?.status === 204) {
      const missing = await readableOn(c, live, key, value, 3000);
      if (missing.length === 0) return attempt;
    } else await sleep(200);
  }
  throw new Error(`PUT ${key} on member ${on} never became readable on ${live}\n${c.logs()}`);
}

const impl = (c: ProcessCluster, id: number) => c.isRaftexample(id) ? "raftexample" : "ours";

/**
 * Makes a member of implementation `want` the leader: if another leads, it
 * is asked for a transfer (POST /_test/transfer/ID): directly when it is one
 * of ours, else through one of ours, which forwards MsgTransferLeader to the
 * Go leader (our transport drops a forwarded one arriving from a follower,
 * whose from is the transferee, not the stream's peer). Returns the leader.
 */
async function leadBy(c: ProcessCluster, ids: number[], want: string): Promise<number> {
  const target = ids.find((id) => impl(c, id) === want)!;
  return await c.until(`member ${target} (${want}) leading`, 15_000, async () => {
    const lead = await leaderSeenByOurs(c, ids);
    if (lead === undefined) return undefined;
    if (impl(c, lead) === want) return lead;
    const asker = c.isRaftexample(lead) ? ids.find((id) => !c.isRaftexample(id))! : lead;
    await req(`${c.apiUrl(asker)}/_test/transfer/${target}`, { method: "POST" });
    await sleep(400);
    return undefined;
  });
}

async function mixed(t: Deno.TestContext, goIds: number[]) {
  const c = await ProcessCluster.create(3, 3, {
    raftexampleCompat: true,
    requestTimeoutMs: 5000,
    raftexample: { bin: bin!, ids: goIds },
  });
  const ids = [1, 2, 3];
  const written = new Map<string, string>();
  try {
    for (const id of ids) c.start(id);
    const leader = await c.until("a leader", 20_000, () => leaderSeenByOurs(c, ids));
    await t.step(
      `a PUT on any member is readable on every member (leader ${leader}, ${impl(c, leader)})`,
      async () => {
        for (const id of ids) {
          const key = `/first-${id}`;
          await write(c, id, ids, key, `v${id}`);
          written.set(key, `v${id}`);
        }
      },
    );
    let retried = 0;
    const killed: string[] = [];
    // Round 1 kills a raftexample leader, round 2 one of ours (made leader by a transfer).
    for (const [round, want] of [[1, "raftexample"], [2, "ours"]] as const) {
      const dead = await leadBy(c, ids, want);
      killed.push(`${dead} (${impl(c, dead)})`);
      await t.step(
        `round ${round}: the leader ${dead} (${
          impl(c, dead)
        }) is killed with SIGKILL; the others take writes`,
        async () => {
          await c.kill(dead);
          const rest = ids.filter((id) => id !== dead);
          for (let i = 0; i < 6; i++) {
            const on = rest[i % rest.length];
            const key = `/after-${round}-${i}`;
            retried += (await write(c, on, rest, key, `a${i}`)) - 1;
            written.set(key, `a${i}`);
          }
          if (rest.some((id) => !c.isRaftexample(id))) {
            const next = await c.until("a new leader", 10_000, () => leaderSeenByOurs(c, rest));
            assert(next !== dead);
          }
        },
      );
      await t.step(
        `round ${round}: the killed member ${dead} restarts and catches up`,
        async () => {
          c.start(dead);
          for (const [key, value] of written) {
            const missing = await readableOn(c, [dead], key, value, 15_000);
            assertEquals(missing, [], `member ${dead} lacks ${key}\n${c.logs()}`);
          }
          await c.until(
            "a leader after the restart",
            20_000,
            () => leaderSeenByOurs(c, ids),
          );
          await write(c, dead, ids, `/back-${round}`, "z");
          written.set(`/back-${round}`, "z");
        },
      );
    }
    await t.step("every write is on every member", async () => {
      for (const [key, value] of written) {
        assertEquals(await readableOn(c, ids, key, value, 5000), [], `${key} missing`);
      }
    });
    console.log(
      `  ${goIds.length} raftexample + ${3 - goIds.length} ours: leaders killed: ` +
        `${killed.join(", ")}; ${retried} writes retried (not readable on all within 3 s)`,
    );
    // Where the other implementation is alone after a kill, it must have led once.
    const other = goIds.length === 1 ? "ours" : "raftexample";
    assert(
      killed.some((k) => k.includes(`(${other})`)),
      `no ${other} leader was killed: ${killed}`,
    );
  } catch (e) {
    console.error(c.logs(40));
    throw e;
  } finally {
    await c.close();
  }
}

async function joinAfterCompaction(t: Deno.TestContext) {
  const small = Deno.env.get("RAFTHTTP_RAFTEXAMPLE_SMALL_BIN")!;
  const c = await ProcessCluster.create(4, 3, {
    raftexampleCompat: true,
    raftexample: { bin: small, ids: [1, 2, 3] },
  });
  const go = [1, 2, 3];
  const written = new Map<string, string>();
  try {
    for (const id of go) c.start(id);
    await t.step(
      "three raftexample members compact their log (snapshot every 20 entries)",
      async () => {
        await write(c, 1, go, "/ready", "yes"); // a leader exists
        written.set("/ready", "yes");
        for (let i = 0; i < 60; i++) {
          const r = await req(`${c.apiUrl(1 + (i % 3))}/k${i}`, { method: "PUT", body: `v${i}` });
          assertEquals(r?.status, 204);
          written.set(`/k${i}`, `v${i}`);
        }
        for (const [key, value] of written) {
          assertEquals(await readableOn(c, go, key, value, 5000), [], `${key} not on all`);
        }
        // raftexample 3.4.23 can take a snapshot before its store (another
        // goroutine) applied the last entries it covers, so a key written
        // just before a snapshot can be missing from it and from a member
        // that starts from it (seen in 3 of ~10 runs). Every key checked on
        // the new member was applied on all three before these fillers made
        // raftexample snapshot again; the fillers are not checked.
        for (let i = 0; i < 25; i++) {
          const r = await req(`${c.apiUrl(1 + (i % 3))}/filler${i}`, { method: "PUT", body: "x" });
          assertEquals(r?.status, 204);
        }
        const compacted = c.logs(1000).match(/compacted log at index (\d+)/g) ?? [];
        assert(compacted.length >= 3, `raftexample did not compact its log:\n${c.logs()}`);
      },
    );
    await t.step(
      "POST /4 on raftexample, then ours with --join catches up from Go's snapshot",
      async () => {
        const add = await req(`${c.apiUrl(2)}/4`, { method: "POST", body: c.peerUrl(4) });
        assertEquals(add?.status, 204);
        await sleep(500); // raftexample answers before the conf change is applied
        c.start(4);
        const s = await c.until("member 4 applied a snapshot", 20_000, async () => {
          const st = await c.status(4);
          return st !== undefined && st.snapshotsReceived >= 1 ? st : undefined;
        });
        assert(BigInt(s.snapshotIndex) > 20n, `snapshot at ${s.snapshotIndex}`);
        for (const [key, value] of written) {
          assertEquals(await readableOn(c, [4], key, value, 10_000), [], `member 4 lacks ${key}`);
        }
      },
    );
    await t.step("a write through the new member is on every raftexample member", async () => {
      const r = await req(`${c.apiUrl(4)}/from-4`, { method: "PUT", body: "ours" }, 6000);
      assertEquals(r?.status, 204);
      assertEquals(await readableOn(c, [1, 2, 3, 4], "/from-4", "ours", 5000), []);
    });
  } catch (e) {
    console.error(c.logs(40));
    throw e;
  } finally {
    await c.close();
  }
}

/**
 * 1 raftexample + 2 ours under load: clients write and read through our
 * members only (their PUT is answered after commit) while a raftexample
 * leader and then one of ours are killed and restarted; their history must
 * be linearizable and every acknowledged write on every member. Meanwhile
 * one writer puts keys through raftexample, which answers before commit:
 * how many of those it acknowledged are gone at the end is measured and
 * printed, not asserted.
 */
async function linearizableUnderLoad(t: Deno.TestContext) {
  const c = await ProcessCluster.create(3, 3, {
    raftexampleCompat: true,
    requestTimeoutMs: 3000,
    raftexample: { bin: bin!, ids: [1] },
  });
  const ids = [1, 2, 3];
  const clients = new KvClients((id) => c.apiUrl(id), 5000);
  const stop = new AbortController();
  const viaGo: string[] = [];
  let running: Promise<unknown> | undefined;
  try {
    for (const id of ids) c.start(id);
    await c.until("a leader", 20_000, () => leaderSeenByOurs(c, ids));
    const ours = () => [2, 3].filter((id) => c.running(id));
    const goWriter = async () => {
      for (let i = 0; !stop.signal.aborted; i++) {
        if (c.running(1)) {
          const r = await req(`${c.apiUrl(1)}/go-${i}`, { method: "PUT", body: `g${i}` }, 1000);
          if (r?.status === 204) viaGo.push(`/go-${i}`);
        }
        await sleep(10);
      }
    };
    running = Promise.all([clients.run(3, ["/x", "/y"], ours, stop.signal), goWriter()]);
    await sleep(1000);
    for (const want of ["raftexample", "ours"]) {
      await t.step(`a ${want} leader is killed under load and restarted`, async () => {
        const dead = await leadBy(c, ids, want);
        await c.kill(dead);
        await sleep(2500);
        c.start(dead);
        await c.until("a leader again", 20_000, () => leaderSeenByOurs(c, ids));
        await sleep(1000);
      });
    }
    stop.abort();
    await running;
    running = undefined;
    await t.step("every acknowledged write is on every member", async () => {
      assert(clients.ackedOwn.size >= 10, `only ${clients.ackedOwn.size} own keys acknowledged`);
      for (const [key, value] of clients.ackedOwn) {
        assertEquals(await readableOn(c, ids, key, value, 5000), [], `${key} missing`);
      }
    });
    await t.step("the history of our members' clients is linearizable", () => {
      const ops = clients.history.operations();
      assertLinearizable(ops);
      console.log(`  ${ops.length} operations through ours (${JSON.stringify(clients.counts)})`);
    });
    let lost = 0;
    for (const key of viaGo) {
      const r = await req(`${c.apiUrl(2)}${key}`, {}, 5000);
      if (r?.status === 404) lost++;
    }
    console.log(
      `  raftexample acknowledged ${viaGo.length} PUTs; ${lost} of them are not in the cluster ` +
        "at the end (measured, not asserted)",
    );
  } catch (e) {
    console.error(c.logs(40));
    throw e;
  } finally {
    stop.abort();
    await running;
    await c.close();
  }
}

if (IN_NETNS) {
  Deno.test("mixed: histories through ours are linearizable under leader kills", (t) =>
    linearizableUnderLoad(t));
  Deno.test("mixed: 2 raftexample + 1 ours", (t) => mixed(t, [1, 2]));
  Deno.test("mixed: 1 raftexample + 2 ours", (t) => mixed(t, [1]));
  Deno.test("mixed: ours joins a raftexample cluster after it compacted its log", (t) =>
    joinAfterCompaction(t));
}
