import { assertEquals, assertThrows } from "@std/assert";
import { ConfChangeType, ConfStateSchema, create } from "../mod.ts";
import { ConfChangeError } from "../raft/mod.ts";
import { planMembershipUpdate } from "./membership_update.ts";

const conf = create(ConfStateSchema, { voters: [1n, 2n, 3n], learners: [6n] });
const known = (id: bigint) => id === 6n ? ["http://h:6"] : [];
const { ConfChangeAddNode, ConfChangeAddLearnerNode, ConfChangeRemoveNode } = ConfChangeType;

Deno.test("membership update: adds, promotions, demotions, then removals, with the URLs to carry", () => {
  const plan = planMembershipUpdate(
    {
      remove: [3],
      demote: ["2"],
      promote: [6n],
      add: [{ id: 4, urls: "http://h:4" }, { id: 5, urls: ["http://h:5"], role: "learner" }],
    },
    conf,
    known,
  );
  assertEquals(plan.steps, [
    { type: ConfChangeAddNode, nodeId: 4n },
    { type: ConfChangeAddLearnerNode, nodeId: 5n },
    { type: ConfChangeAddNode, nodeId: 6n },
    { type: ConfChangeAddLearnerNode, nodeId: 2n },
    { type: ConfChangeRemoveNode, nodeId: 3n },
  ]);
  assertEquals(
    plan.urls,
    new Map([[4n, ["http://h:4"]], [5n, ["http://h:5"]], [6n, ["http://h:6"]]]),
  );
});

Deno.test("membership update: refused before anything is sent", () => {
  const refused = (update: Parameters<typeof planMembershipUpdate>[0], message: string) =>
    assertThrows(() => planMembershipUpdate(update, conf, known), RangeError, message);
  refused({}, "at least one change");
  refused({ add: [{ id: 4, urls: [] }] }, "needs a peer URL");
  refused({ add: [{ id: 4, urls: "http://h:4" }], remove: [4] }, "named twice");
  refused({ remove: [2, "2"] }, "named twice");
  refused({ promote: [9] }, "not a member");
  refused({ demote: [9] }, "not a member");
  refused({ remove: [0] }, "member id");
  // The core's own rules: no configuration without voters.
  assertThrows(() => planMembershipUpdate({ remove: [1, 2, 3] }, conf, known), ConfChangeError);
  // While joint the leader decides (it refuses all but the leave until then).
  const joint = create(ConfStateSchema, { voters: [1n, 4n], votersOutgoing: [1n, 2n] });
  assertEquals(planMembershipUpdate({ remove: [4] }, joint, known).steps.length, 1);
});
