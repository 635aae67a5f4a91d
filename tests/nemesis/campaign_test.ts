// The CI campaign: about 85 s of seeded faults against a 5-member cluster
// of our KV, checked for linearizability and lost acknowledged writes. As
// root the members run in network namespaces (partitions by routes and
// links, slow links by tc); elsewhere on 127.0.0.1 with partitions through
// the transport's hooks, unless RAFTHTTP_REQUIRE_NETNS=1 (CI), which makes
// missing namespaces a failure. The campaign runs as `deno task nemesis`
// does, in a child process; its JSON report is what is asserted.

import { assert, assertEquals } from "@std/assert";
import { NETNS_MISSING, REQUIRE_NETNS } from "../netns/netns.ts";
import type { Summary } from "./report.ts";
import { oursTarget } from "./target_ours.ts";
import { assertLinearizable } from "../kv/assert_linearizable.ts";
import type { Operation } from "../kv/linearizability.ts";

const MAIN = new URL("./main.ts", import.meta.url).pathname;
const SEED = 20_241;
const SECONDS = 85;

if (NETNS_MISSING !== undefined && !REQUIRE_NETNS) {
  console.warn(`nemesis campaign: ${NETNS_MISSING}; partitions go through the transport's hooks`);
}

Deno.test("nemesis: a seeded campaign against ours ends with no anomaly, faults of many kinds applied", async () => {
  if (NETNS_MISSING !== undefined && REQUIRE_NETNS) {
    throw new Error(`RAFTHTTP_REQUIRE_NETNS=1 but ${NETNS_MISSING}`);
  }
  const net = NETNS_MISSING === undefined ? "netns" : "loopback";
  const out = await Deno.makeTempDir({ prefix: "nemesis-ci-" });
  try {
    const args = [
      "run",
      "-A",
      MAIN,
      "--target",
      "ours",
      "--seed",
      `${SEED}`,
      "--seconds",
      `${SECONDS}`,
    ];
    // A lazy disk: what a member wrote but did not fsync is lost when it is killed.
    args.push("--members", "5", "--net", net, "--out", out, "--member-flags", "--lazy-disk");
    const r = await new Deno.Command(Deno.execPath(), {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    const text = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
    const tail = text.split("\n").filter((l) => !l.includes("rafthttp")).slice(-40).join("\n");
    const s: Summary = JSON.parse(await Deno.readTextFile(`${out}/report-ours.json`));
    const report = await Deno.readTextFile(`${out}/report-ours.md`);
    const detail = `${tail}\n${report.slice(0, 6000)}`;
    assertEquals(s.anomalies.count, 0, detail);
    assertEquals(s.anomalies.lostWrites, [], detail);
    assertEquals(s.unexpectedExits.length, 0, detail);
    assertEquals(s.liveness, [], detail);
    assertEquals(r.code, 0, detail);
    assert(s.clean, detail);
    // The campaign did something: traffic, faults of several kinds, leaders changing, heals.
    assert(s.operations.putOk > 500 && s.operations.getOk > 500, detail);
    assert(s.operations.ownAcked > 100, detail);
    const applied = Object.entries(s.faults).filter(([, f]) => f.applied > 0).map(([k]) => k);
    for (const k of ["kill", "crash", "amnesia", "pause", "partition", "transfer", "member"]) {
      assert(applied.includes(k), `no ${k} fault applied: ${applied}\n${detail}`);
    }
    // Every kind the KV advertises (its hooks: snapshot, joint, disk faults; slow links on the LAN).
    for (const k of oursTarget().supports(net === "netns")) {
      assert(applied.includes(k), `no ${k} fault applied: ${applied}\n${detail}`);
    }
    assert(s.leaderChanges >= 3, `${s.leaderChanges} leader changes\n${detail}`);
    assert(s.recovery.count >= 5, detail);
    // The recorded history, checked again here: linearizable, and not once one read is changed.
    const { history } = JSON.parse(await Deno.readTextFile(`${out}/history-ours.json`));
    assertEquals((history as Operation[]).length, s.operations.total);
    assertLinearizable(history);
    const svg = await Deno.readTextFile(`${out}/timeline-ours.svg`);
    assert(svg.startsWith("<svg") && svg.includes("slot 5"), "the timeline picture");
    console.log(
      `  ${net}: ${s.operations.total} operations, faults applied: ${applied.join(", ")}; ` +
        `recovery median ${s.recovery.p50?.toFixed(0)} ms, max ${s.recovery.max?.toFixed(0)} ms`,
    );
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
