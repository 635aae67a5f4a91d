// The id computation against the worked examples of our etcd wire reference
// (values produced by etcd 3.4.23 itself). Needs no etcd binary.
import { assertEquals } from "@std/assert";
import { clusterId, clusterIds, hex, memberId } from "./ids.ts";

Deno.test("ids: two members, token tok (etcd-wire.md section 8)", async () => {
  const a = await memberId(["http://127.0.0.1:23800"], "tok");
  const b = await memberId(["http://127.0.0.1:23801"], "tok");
  assertEquals(hex(a), "25351fad42b3c84c");
  assertEquals(hex(b), "4036b1db24775ea0");
  assertEquals(hex(await clusterId([a, b])), "b27190a5159a0b47");
  // The order the ids are given in does not matter: they are sorted as u64.
  assertEquals(hex(await clusterId([b, a])), "b27190a5159a0b47");
});

Deno.test("ids: infra1 and infra2, default token (etcd-wire-details.md section 18)", async () => {
  const ids = await clusterIds({
    infra1: ["http://127.0.0.1:12380"],
    infra2: ["http://127.0.0.1:22380"],
  }, "etcd-cluster");
  assertEquals(hex(ids.members.infra1), "ddd67b312462fd7b");
  assertEquals(hex(ids.members.infra2), "9e737febb6b99eee");
  assertEquals(hex(ids.cluster), "e852dff9d0e7606c");
});

Deno.test("ids: single default member, unsorted URLs, unpadded hex", async () => {
  const one = await memberId(["http://localhost:2380"], "etcd-cluster");
  assertEquals(hex(one), "8e9e05c52164694d");
  assertEquals(hex(await clusterId([one])), "cdf818194e3a8c32");
  // URLs are sorted before hashing; the id prints without zero padding.
  const two = await memberId(["http://10.0.0.2:2380", "http://10.0.0.1:2380"], "tok");
  assertEquals(two, 0x0d3b8edf9430e965n);
  assertEquals(hex(two), "d3b8edf9430e965");
});
