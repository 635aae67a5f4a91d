// The peer port beyond /raft with real etcd 3.4 members: a cluster of two
// etcd members and one Deno member settles its cluster version at 3.4.0
// (etcd's leader reads GET /version from every member; before the Deno
// handler served it, the cluster stayed at 3.0.0 and the leader logged
// "failed to get version" every few seconds), and GET /members answers the
// same members etcd lists.
import { assert, assertEquals } from "@std/assert";
import { interopTest } from "./etcd.ts";
import { waitUntil } from "../harness.ts";
import { MixedCluster } from "./member.ts";

interopTest("peer port: 2 etcd + 1 Deno member settle the cluster version at 3.4.0", async () => {
  await using c = await MixedCluster.start(2);
  let seen = "";
  await waitUntil(
    async () => {
      for (const e of c.etcds) {
        try {
          const v = await (await fetch(`${e.clientUrl}/version`)).json();
          seen = v.etcdcluster;
          if (seen === "3.4.0") return true;
        } catch {
          // not serving clients yet
        }
      }
      return false;
    },
    30000,
    () => `cluster version 3.4.0 (last seen ${seen || "none"})`,
    250,
  );
  for (const e of c.etcds) {
    const failed = e.lines.filter((l) => l.includes("failed to get version"));
    assertEquals(failed, [], `${e.name} could not read a member's version`);
  }
  // The Deno member's /version and /members, read as etcd reads them.
  const v = await fetch(`${c.deno.url}/version`);
  assertEquals(await v.text(), '{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}');
  const ours = await (await fetch(`${c.deno.url}/members`)).text();
  const theirs = await (await fetch(`${c.etcds[0].peerUrl}/members`)).text();
  // etcd's ids are uint64s in decimal, beyond 2^53: compare them as text.
  const members = (text: string) =>
    [...text.matchAll(/"id":(\d+),"peerURLs":(\[[^\]]*\])/g)].map((m) => `${m[1]} ${m[2]}`).sort();
  assertEquals(members(ours), members(theirs));
  assertEquals(members(ours).length, 3);
  assert(ours.endsWith("]\n"));
});
