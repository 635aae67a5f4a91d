// A real network partition: three members in three network namespaces on
// one bridge, each sending the others a numbered heartbeat every 50 ms.
// Member 3's link is taken down at the bridge (`ip link set down`: no RST,
// packets vanish, TCP keeps retransmitting into the void), then brought back.
import { assert, assertEquals } from "@std/assert";
import { Lan, netnsTest } from "./netns.ts";
import { type Member, startMembers, type Status } from "./cluster.ts";
import { sleep, waitUntil } from "../harness.ts";

const HEARTBEAT_MS = 500; // link heartbeats; the read timeout is two of them
const BEAT_MS = 50; // the test's raft heartbeats
const CUT_MS = 4000;
/** Timers and the event loop of three processes on two shared cores. */
const SLACK_MS = 300;

/**
 * How fast streams come back after the link does is bounded by the dial
 * timeout plus the redial backoff: a dial sent while the link was down waits
 * for the kernel's SYN retransmission (1 s, then 3 s after its start), so it
 * is the next fresh dial that gets through. etcd's defaults (2000 ms, and up
 * to 600 ms) bound that at about 2.6 s; a LAN can afford these (~0.9 s).
 */
export const OPTIONS = {
  stream: { linkHeartbeatIntervalMs: HEARTBEAT_MS, dialTimeoutMs: 500, redialMaxMs: 300 },
};

async function statuses(ms: Member[]): Promise<Status[]> {
  return await Promise.all(ms.map((m) => m.status()));
}

function streamsUp(s: Status, peer: number): boolean {
  const p = s.peers[String(peer)];
  return p.streams.message.outgoing && p.streams.message.incoming &&
    p.streams.msgappv2.outgoing && p.streams.msgappv2.incoming;
}

async function allStreamsUp(ms: Member[]): Promise<boolean> {
  const st = await statuses(ms);
  return st.every((s, i) => ms.every((m) => m.id === i + 1 || streamsUp(s, m.id)));
}

/** Every heartbeat a sent b arrived, or was counted as dropped on a's side. */
function accounted(
  st: Status[],
  a: number,
  b: number,
): { sent: number; got: number; drops: number } {
  const out = st[a - 1].peers[String(b)];
  return { sent: out.sent, got: st[b - 1].peers[String(a)].received, drops: out.stats.sendDrops };
}

netnsTest(
  "a partition is reported to raft within two heartbeat periods; nothing sent meanwhile is lost unreported",
  async () => {
    await using lan = await Lan.create(3);
    await using ms = await startMembers(lan, 3, OPTIONS);
    await waitUntil(() => allStreamsUp(ms), 10000, "all streams up");
    for (const m of ms) {
      await m.request({
        cmd: "beat",
        to: ms.filter((x) => x !== m).map((x) => String(x.id)),
        intervalMs: BEAT_MS,
      });
    }
    await sleep(1000);
    const before = await statuses(ms);
    const cut = Date.now();
    await lan.link(3, false);
    await sleep(CUT_MS);
    const during = await statuses(ms);
    await lan.link(3, true);
    const up = Date.now();
    await waitUntil(() => allStreamsUp(ms), 5000, "all streams back");
    const back = Date.now() - up;
    await sleep(500);
    for (const m of ms) await m.request({ cmd: "unbeat" });
    // What is still in flight (pipeline POSTs in connect) settles.
    let after: Status[] = [];
    await waitUntil(
      async () => {
        after = await statuses(ms);
        return [[1, 3], [3, 1], [2, 3], [3, 2], [1, 2], [2, 1]].every(([a, b]) => {
          const x = accounted(after, a, b);
          return x.got + x.drops >= x.sent;
        });
      },
      15000,
      () =>
        JSON.stringify(
          [[1, 3], [3, 1], [2, 3], [3, 2], [1, 2], [2, 1]].map((
            [a, b],
          ) => [a, b, accounted(after, a, b)]),
        ),
    );

    const report: Record<string, unknown> = { back };
    for (const [a, b] of [[1, 3], [3, 1], [2, 3], [3, 2]]) {
      const first = during[a - 1].peers[String(b)].unreachable.find((t) => t >= cut);
      report[`${a}->${b}`] = {
        noticedMs: first === undefined ? null : first - cut,
        ...accounted(after, a, b),
      };
    }
    for (const [a, b] of [[1, 2], [2, 1]]) {
      report[`${a}->${b}`] = {
        duringCut: during[b - 1].peers[String(a)].received -
          before[b - 1].peers[String(a)].received,
        ...accounted(after, a, b),
      };
    }
    console.log(JSON.stringify(report));
    for (const [a, b] of [[1, 3], [3, 1], [2, 3], [3, 2]]) {
      const r = report[`${a}->${b}`] as { noticedMs: number | null };
      assert(r.noticedMs !== null, `${a} never reported ${b} unreachable during the cut`);
      assert(
        r.noticedMs! <= 2 * HEARTBEAT_MS + SLACK_MS,
        `${a} noticed ${b} after ${r.noticedMs} ms`,
      );
    }
    for (const [a, b] of [[1, 2], [2, 1]]) {
      const r = report[`${a}->${b}`] as {
        duringCut: number;
        sent: number;
        got: number;
        drops: number;
      };
      assert(
        r.duringCut >= (CUT_MS / BEAT_MS) * 0.8,
        `${a}->${b}: only ${r.duringCut} during the cut`,
      );
      assertEquals(r.drops, 0, `${a}->${b} dropped heartbeats`);
    }
    assert(back <= 1000, `streams back ${back} ms after the link came up`);
  },
);
