import { assertEquals, assertThrows } from "@std/assert";
import { resolveReplicaOptions } from "./options.ts";

const base = {
  id: 1,
  peers: { 1: "http://127.0.0.1:9001" },
  dataDir: "unused",
  stateMachine: { apply() {}, snapshot: () => new Uint8Array(), restore() {} },
};

Deno.test("replica options: reads default to ReadIndex rounds; a lease is asked for", () => {
  assertEquals(resolveReplicaOptions(base).reads, "read-index");
  assertEquals(resolveReplicaOptions({ ...base, reads: "lease" }).reads, "lease");
});

Deno.test("replica options: a lease without preVote (CheckQuorum) or an unknown mode is refused", () => {
  assertThrows(
    () => resolveReplicaOptions({ ...base, reads: "lease", preVote: false }),
    TypeError,
    "needs preVote",
  );
  assertThrows(
    () => resolveReplicaOptions({ ...base, reads: "stale" as "lease" }),
    TypeError,
    'reads must be "read-index" or "lease"',
  );
});
