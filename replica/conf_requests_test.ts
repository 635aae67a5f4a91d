import { assertEquals, assertRejects } from "@std/assert";
import { toBinary } from "npm:@bufbuild/protobuf@2.17.0";
import {
  type ConfChange,
  ConfChangeSchema,
  ConfChangeType,
  type ConfChangeV2,
  ConfChangeV2Schema,
  ConfStateSchema,
  create,
  EntrySchema,
  EntryType,
} from "../mod.ts";
import { ProposalDroppedError, type RawNode } from "../raft/mod.ts";
import { ConfRequests } from "./conf_requests.ts";
import { decodeMembersContext } from "./conf_context.ts";
import { NoLeaderError, OutcomeUnknownError, ReplicaStoppedError } from "./errors.ts";

/** A core that refuses while `drop` is set and records what it took. */
function core() {
  const state = { drop: "", taken: [] as (ConfChange | ConfChangeV2)[] };
  const raft = {
    proposeConfChange(cc: ConfChange | ConfChangeV2) {
      if (state.drop !== "") throw new ProposalDroppedError(state.drop);
      state.taken.push(cc);
    },
  } as unknown as RawNode;
  const run = (a: (r: RawNode) => void) => (queueMicrotask(() => a(raft)), true);
  return { state, run };
}
const inLog = (cc: ConfChange | ConfChangeV2) =>
  cc.$typeName === "raftpb.ConfChange"
    ? create(EntrySchema, { type: EntryType.EntryConfChange, data: toBinary(ConfChangeSchema, cc) })
    : create(EntrySchema, {
      type: EntryType.EntryConfChangeV2,
      data: toBinary(ConfChangeV2Schema, cc),
    });
const simple = create(ConfStateSchema, { voters: [1n, 2n, 3n] });
const joint = create(ConfStateSchema, { voters: [1n, 4n, 5n], votersOutgoing: [1n, 2n, 3n] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ADD = ConfChangeType.ConfChangeAddNode;

Deno.test("conf requests: proposed again until taken, and until seen in the log; applied answers", async () => {
  const { state, run } = core();
  const requests = new ConfRequests({ run, retryMs: 10, reproposeMs: 30 });
  state.drop = "a conf change is already pending";
  const done = requests.request(ADD, 4n, new Uint8Array([1]), { timeoutMs: 5000 });
  await sleep(35);
  assertEquals(state.taken.length, 0);
  state.drop = "";
  await sleep(20);
  assertEquals(state.taken.length, 1, "taken once raft stopped refusing");
  await sleep(40);
  assertEquals(state.taken.length >= 2, true, "a change not in this log is proposed again");
  requests.appended([inLog(state.taken[0])]);
  const n = state.taken.length;
  await sleep(70);
  assertEquals(state.taken.length, n, "not once it is in the log");
  requests.applied((state.taken[0] as ConfChange).id, simple);
  await done;
  assertEquals(requests.size, 0);
});

Deno.test("conf requests: never taken, nothing was sent; taken, the outcome is unknown", async () => {
  const { state, run } = core();
  const requests = new ConfRequests({ run, retryMs: 10, reproposeMs: 10_000 });
  state.drop = "no leader is known";
  await assertRejects(
    () => requests.request(ADD, 4n, new Uint8Array(), { timeoutMs: 50 }),
    NoLeaderError,
    "no leader is known",
  );
  const ac = new AbortController();
  const aborted = requests.request(ADD, 4n, new Uint8Array(), { signal: ac.signal });
  ac.abort(new Error("went away"));
  await assertRejects(() => aborted, Error, "went away");
  state.drop = "";
  await assertRejects(
    () => requests.request(ADD, 5n, new Uint8Array(), { timeoutMs: 50 }),
    OutcomeUnknownError,
    "not applied within 50 ms",
  );
  const pending = requests.request(ADD, 6n, new Uint8Array(), {});
  requests.close(new ReplicaStoppedError());
  await assertRejects(() => pending, ReplicaStoppedError);
  await assertRejects(() => requests.request(ADD, 7n, new Uint8Array(), {}), ReplicaStoppedError);
});

Deno.test("conf requests: several steps go as one ConfChangeV2, answered once the joint config is left", async () => {
  const { state, run } = core();
  const requests = new ConfRequests({ run, retryMs: 10, reproposeMs: 30 });
  const steps = [
    { type: ADD, nodeId: 4n },
    { type: ADD, nodeId: 5n },
    { type: ConfChangeType.ConfChangeRemoveNode, nodeId: 2n },
    { type: ConfChangeType.ConfChangeRemoveNode, nodeId: 3n },
  ];
  const urls = new Map([[4n, ["http://h:4"]], [5n, ["http://h:5"]]]);
  let answered = false;
  const done = requests.requestSteps(steps, urls, { timeoutMs: 5000 }).then(() => answered = true);
  await sleep(5);
  const cc = state.taken[0] as ConfChangeV2;
  assertEquals(cc.$typeName, "raftpb.ConfChangeV2");
  assertEquals(cc.changes.map((c) => [c.type, c.nodeId]), steps.map((s) => [s.type, s.nodeId]));
  const context = decodeMembersContext(cc.context)!;
  assertEquals(context.urls, urls);
  requests.appended([inLog(cc)]);
  requests.applied(context.requestId, joint);
  await sleep(50);
  assertEquals(answered, false, "not while joint");
  assertEquals(state.taken.length, 1, "applied: never proposed again");
  requests.applied(0n, joint); // another joint step answers nothing either
  await sleep(5);
  assertEquals(answered, false);
  requests.applied(0n, create(ConfStateSchema, { voters: [1n, 4n, 5n] })); // the leave
  await done;
  assertEquals(requests.size, 0);
});
