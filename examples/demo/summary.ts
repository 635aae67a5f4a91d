/**
 * The summary printed when the demo ends: per member its raft role, term,
 * log and what it sent and received on each channel, the snapshot, and the
 * checks that decide the exit code.
 *
 * @module
 */

import type { PeerStats } from "@rafthttp/rafthttp";
import type { Demo } from "./scenario.ts";
import { formatBytes, table } from "./view.ts";

function perChannel(on: PeerStats["sentOn"]): string[] {
  return [String(on.message), String(on.msgappv2), String(on.pipeline)];
}

/** One member's notes: what it proposed, restored and applied; the leader's reports about it. */
function notes(demo: Demo, id: bigint): string {
  const n = demo.nodes.get(id);
  const leader = demo.leader();
  const before = demo.earlierRuns.get(id);
  const bad = (n?.badEntries ?? 0) + (before?.badEntries ?? 0);
  const out = [
    n?.leaderSince === undefined
      ? ""
      : `leader since t+${((n.leaderSince - demo.startedAt) / 1000).toFixed(2)} s`,
    n !== undefined && n.proposed > 0 ? `proposed ${n.proposed}` : "",
    before === undefined ? "" : `applied ${before.goodEntries} before its restart`,
    n?.restoredFrom === undefined ? "" : `restored from snapshot ${n.restoredFrom}`,
    `applied ${n?.goodEntries ?? 0}${before === undefined ? "" : " more"}`,
    bad > 0 ? `${bad} with WRONG data` : "",
  ].filter((x) => x !== "");
  if (bad === 0) out[out.length - 1] += ", all checked";
  if (leader !== undefined && leader !== n) {
    out.push(`leader's reportUnreachable(${id}): ${leader.unreachable.get(id) ?? 0}x`);
  }
  return out.join("; ");
}

/**
 * The summary, as lines: each member's raft state and log, the traffic per
 * channel, the snapshot transfers, and the checks.
 *
 * @example
 * ```ts ignore
 * await demo.run(signal);
 * await demo.close();
 * console.log(summary(demo).join("\n"));
 * ```
 */
export function summary(demo: Demo): string[] {
  const secs = ((Date.now() - demo.startedAt) / 1000).toFixed(1);
  const lines = [`summary after ${secs} s`, ""];

  const logRows = demo.members.map((m) => {
    const n = demo.nodes.get(m.id);
    const st = n?.raft.status();
    return [
      String(m.id),
      st?.state ?? "-",
      String(st?.term ?? "-"),
      n === undefined ? "-" : `${n.firstIndex}..${n.lastIndex}`,
      String(st?.commit ?? "-"),
      notes(demo, m.id),
    ];
  });
  lines.push(
    ...table(["member", "role", "term", "log", "commit", "entries"], logRows, [
      false,
      false,
      true,
      false,
      true,
      false,
    ]),
    "",
  );

  const trafficRows = demo.members.map((m) => {
    const s = m.totals();
    return [
      String(m.id),
      String(s.sentMessages),
      ...perChannel(s.sentOn),
      formatBytes(s.sentBytes),
      String(s.receivedMessages),
      ...perChannel(s.receivedOn),
      formatBytes(s.receivedBytes),
      `${s.sendDrops}/${s.receiveDrops}`,
    ];
  });
  lines.push(
    "messages each member sent and received, in all and per channel, over all its peers",
    "(the sum of peerStatus(id).stats; member 3: both of its runs)",
    ...table(
      [
        "member",
        "sent",
        "message",
        "msgappv2",
        "pipeline",
        "bytes",
        "received",
        "message",
        "msgappv2",
        "pipeline",
        "bytes",
        "drops out/in",
      ],
      trafficRows,
      [false, true, true, true, true, true, true, true, true, true, true, true],
    ),
    "",
  );

  const shown = demo.transfers.length <= 3
    ? demo.transfers
    : [demo.transfers[0], ...demo.transfers.slice(-2)];
  for (const t of shown) {
    if (t === demo.transfers.at(-2) && shown.length < demo.transfers.length) {
      lines.push(`snapshot: ... ${demo.transfers.length - 3} more attempts ...`);
    }
    const secs = ((t.finishedAt ?? Date.now()) - t.startedAt) / 1000;
    const outcome = t.ok === true
      ? `finished in ${secs.toFixed(2)} s (${formatBytes(t.size / Math.max(secs, 0.001))}/s)`
      : t.ok === false
      ? `failed after ${formatBytes(t.handedOut)}`
      : `unfinished after ${formatBytes(t.handedOut)}`;
    lines.push(
      `snapshot: ${formatBytes(t.size)} at index ${t.index} to member ${t.to}, ${outcome}`,
    );
  }
  if (demo.transfers.length === 0) lines.push("snapshot: none was sent");
  lines.push("");

  const checks = demo.checks();
  for (const c of checks) lines.push(`${c.ok ? "ok    " : "FAILED"}  ${c.text}`);
  return lines;
}
