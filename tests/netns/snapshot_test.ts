// A 256 MiB snapshot over a link limited with tbf to 200 Mbit/s, between
// members in network namespaces, while every member keeps sending the
// others a heartbeat every 50 ms: the snapshot finishes (at the link's
// rate, so the limit is real), and heartbeats keep arriving on the streams
// throughout, none dropped, no stream lost.
import { assert, assertEquals } from "@std/assert";
import { Lan, netnsTest, tc } from "./netns.ts";
import { startMembers, type Status } from "./cluster.ts";
import { sleep, waitUntil } from "../harness.ts";

const BYTES = 256 * 1024 * 1024;
const RATE_MBIT = 200;
const BEAT_MS = 50;

netnsTest(
  "a 256 MiB snapshot over a 200 Mbit/s tbf link finishes with heartbeats flowing",
  async () => {
    await using lan = await Lan.create(3);
    // Member 1's egress: everything it sends (the snapshot, its stream writes) shares the limit.
    await tc(
      lan.ns(1),
      "qdisc",
      "add",
      "dev",
      "eth0",
      "root",
      "tbf",
      "rate",
      `${RATE_MBIT}mbit`,
      "burst",
      "64kb",
      "latency",
      "50ms",
    );
    // etcd's timings (link heartbeat 1667 ms, read timeout 3333 ms): the heartbeat streams share
    // a saturated link, and a packet of theirs lost in tbf's queue waits for TCP's retransmission
    // timeout (no later packets trigger a fast retransmit), 0.2 s and doubling.
    await using ms = await startMembers(lan, 3, {});
    await waitUntil(
      async () => {
        const st = await Promise.all(ms.map((m) => m.status()));
        return st.every((s) =>
          Object.values(s.peers).every((p) =>
            p.streams.message.outgoing && p.streams.message.incoming
          )
        );
      },
      10000,
      "streams up",
    );
    for (const m of ms) {
      await m.request({
        cmd: "beat",
        to: ms.filter((x) => x !== m).map((x) => String(x.id)),
        intervalMs: BEAT_MS,
      });
    }
    await sleep(300);
    const snap = ms[0].request<{ ok: boolean; ms: number }>({
      cmd: "snapshot",
      to: "2",
      bytes: BYTES,
    }, 60000);
    // While it runs: every half second, member 2 has new heartbeats from 1 (on the same link).
    const samples: number[] = [];
    let done: { ok: boolean; ms: number } | undefined;
    snap.then((r) => done = r, () => {});
    let last = (await ms[1].status()).peers["1"].received;
    while (done === undefined && samples.length < 100) {
      await sleep(500);
      const now = (await ms[1].status()).peers["1"].received;
      if (done === undefined) samples.push(now - last);
      last = now;
    }
    const result = await snap;
    for (const m of ms) await m.request({ cmd: "unbeat" });
    await sleep(300);
    const st: Status[] = await Promise.all(ms.map((m) => m.status()));
    const mbit = (BYTES * 8) / (result.ms / 1000) / 1e6;
    console.log(
      JSON.stringify({
        snapshot: result,
        mbit: Math.round(mbit),
        heartbeatsPerHalfSecond: samples,
      }),
    );
    assert(result.ok, "the snapshot failed");
    assertEquals(st[1].snapshots, [{ from: "1", bytes: BYTES }]);
    assertEquals(st[0].snapshotReports, [["2", "Finish"]]);
    assert(mbit <= RATE_MBIT * 1.05, `${Math.round(mbit)} Mbit/s: the tbf limit was not in force`);
    assert(mbit >= RATE_MBIT * 0.5, `${Math.round(mbit)} Mbit/s: far below the link's rate`);
    assert(samples.length >= 10, `only ${samples.length} samples during the snapshot`);
    // Heartbeats flow throughout: never a second without one (two empty samples in a row), and
    // on the whole at least 80 % of their rate (20 a second) while the snapshot ran.
    const gap = samples.some((n, i) => n === 0 && samples[i + 1] === 0);
    assert(!gap, `a second without heartbeats from 1 at 2: ${samples}`);
    const total = samples.reduce((a, b) => a + b, 0);
    assert(total >= 0.8 * samples.length * (500 / BEAT_MS), `heartbeats from 1 at 2: ${samples}`);
    for (const [a, b] of [[1, 2], [1, 3], [2, 1], [3, 1]]) {
      const out = st[a - 1].peers[String(b)];
      assertEquals(out.stats.sendDrops, 0, `${a}->${b} dropped`);
      assertEquals(st[b - 1].peers[String(a)].received, out.sent, `${a}->${b} delivered`);
      assertEquals(out.unreachable, [], `${a} reported ${b} unreachable`);
    }
  },
);
