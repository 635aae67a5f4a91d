import { assertEquals, assertThrows } from "@std/assert";
import { type ConfChangeType, type ConfState, ConfStateSchema, create } from "../../raftpb/mod.ts";
import { ConfChangeError } from "../errors.ts";
import { ccV2 } from "../testing/test_cluster.ts";
import { configFromConfState, describeConfig } from "../tracker/config.ts";
import { Changer, restoreConfig } from "./changer.ts";

/** "1 2 3&&1 2 l4 n3 auto": voters, outgoing, learners, learners_next, autoLeave. */
function cs(spec: string): ConfState {
  const words = spec.split(" ").filter((w) => w !== "");
  const out = create(ConfStateSchema);
  let outgoing = false;
  for (const w of words) {
    if (w === "auto") out.autoLeave = true;
    else if (w.startsWith("l")) out.learners.push(BigInt(w.slice(1)));
    else if (w.startsWith("n")) out.learnersNext.push(BigInt(w.slice(1)));
    else {
      for (const [i, part] of w.split("&&").entries()) {
        if (i > 0) outgoing = true;
        if (part === "") continue;
        (outgoing ? out.votersOutgoing : out.voters).push(BigInt(part));
      }
    }
  }
  return out;
}

const show = (c: ConfState) => describeConfig(configFromConfState(c));

type Op = "simple" | "joint" | "joint-auto" | "leave";

/** [from, operation, changes, the resulting config or the error it throws]. */
const CASES: [string, Op, string, string][] = [
  // simple: at most one voter changes, never in a joint config
  ["", "simple", "v1", "voters=(1)"],
  ["1", "simple", "v2", "voters=(1 2)"],
  ["1 2", "simple", "v3 v4", "error: more than one voter changed without entering joint config"],
  ["1 2 3", "simple", "r1 v4", "error: more than one voter changed without entering joint config"],
  ["1 2 3", "simple", "l4", "voters=(1 2 3) learners=(4)"],
  ["1 2 3", "simple", "l4 l5", "voters=(1 2 3) learners=(4 5)"],
  ["1 2 3 l4", "simple", "v4", "voters=(1 2 3 4)"], // promotion
  ["1 2 3", "simple", "l3", "voters=(1 2) learners=(3)"], // demotion
  ["1 2 3 l4", "simple", "r4", "voters=(1 2 3)"],
  ["1 2 3", "simple", "r9 u1 v0", "voters=(1 2 3)"], // unknown, update, node 0: nothing
  ["1", "simple", "r1", "error: removed all voters"],
  ["1 2 3&&1 2", "simple", "v4", "error: can't apply simple config change in joint config"],
  // enterJoint: the voters become the outgoing set, the changes apply to the incoming one
  ["1 2 3", "joint-auto", "v4 v5 r2 r3", "voters=(1 4 5)&&(1 2 3) autoleave"],
  ["1 2 3", "joint", "", "voters=(1 2 3)&&(1 2 3)"],
  ["1 2 3 l4", "joint", "v4 r1", "voters=(2 3 4)&&(1 2 3)"],
  ["1 2 3", "joint", "l3", "voters=(1 2)&&(1 2 3) learners_next=(3)"],
  ["1 2 3", "joint", "r3 l3", "voters=(1 2)&&(1 2 3) learners_next=(3)"],
  ["1 2 3", "joint", "l3 v3", "voters=(1 2 3)&&(1 2 3)"], // staged, then made a voter again
  ["1 2 3", "joint", "v4 l4", "voters=(1 2 3)&&(1 2 3) learners=(4)"], // 4 is no outgoing voter
  ["1 2 3", "joint", "r1 r2 r3", "error: removed all voters"],
  ["", "joint", "v1", "error: can't make a zero-voter config joint"],
  ["1 2&&1 2 3", "joint", "v4", "error: config is already joint"],
  ["1 2 3", "joint", "x4", "error: unexpected conf change type 9"],
  // leaveJoint: the incoming voters decide alone, staged learners become learners
  ["1 4 5&&1 2 3 auto", "leave", "", "voters=(1 4 5)"],
  ["1 2&&1 2 3 n3", "leave", "", "voters=(1 2) learners=(3)"],
  ["1 2&&1 2 3 l4 n3", "leave", "", "voters=(1 2) learners=(3 4)"],
  ["1 2 3", "leave", "", "error: can't leave a non-joint config"],
  // inconsistent starting points are refused
  ["1 2 l2", "simple", "v3", "error: 2 is a learner and an incoming voter"],
  ["1 2&&1 3 l3", "leave", "", "error: 3 is a learner and an outgoing voter"],
  ["1 2 n2", "simple", "v3", "error: 2 is in learnersNext but not an outgoing voter"],
  ["1 2 auto", "simple", "v3", "error: autoLeave must be false when not joint"],
];

function run(from: string, op: Op, changes: string): string {
  const spec = changes.replace(/x(\d+)/g, "v$1");
  const singles = ccV2(spec).changes;
  if (changes.startsWith("x")) singles[0].type = 9 as ConfChangeType;
  const changer = new Changer(cs(from));
  try {
    switch (op) {
      case "simple":
        return show(changer.simple(...singles));
      case "joint":
        return show(changer.enterJoint(false, ...singles));
      case "joint-auto":
        return show(changer.enterJoint(true, ...singles));
      case "leave":
        return show(changer.leaveJoint());
    }
  } catch (e) {
    if (!(e instanceof ConfChangeError)) throw e;
    return `error: ${e.detail}`;
  }
}

Deno.test("changer: simple, joint and leave, with etcd's validation", () => {
  for (const [from, op, changes, want] of CASES) {
    assertEquals(run(from, op, changes), want, `${op} "${changes}" from "${from}"`);
  }
});

Deno.test("changer: the current configuration is never modified", () => {
  const current = cs("1 2 3");
  new Changer(current).enterJoint(true, ...ccV2("v4 r1").changes);
  assertEquals(show(current), "voters=(1 2 3)");
});

Deno.test("changer: entering and leaving replaces two of three voters", () => {
  const joint = new Changer(cs("1 2 3")).enterJoint(true, ...ccV2("v4 v5 r2 r3").changes);
  assertEquals(joint.voters, [1n, 4n, 5n]);
  assertEquals(joint.votersOutgoing, [1n, 2n, 3n]);
  assertEquals(joint.autoLeave, true);
  const left = new Changer(joint).leaveJoint();
  assertEquals(show(left), "voters=(1 4 5)");
  assertEquals(left.autoLeave, false);
});

Deno.test("changer: restoreConfig checks a ConfState and keeps a joint one", () => {
  assertEquals(
    show(restoreConfig(cs("1 2&&1 2 3 l4 n3 auto"))),
    "voters=(1 2)&&(1 2 3) learners=(4) learners_next=(3) autoleave",
  );
  assertEquals(show(restoreConfig(undefined)), "voters=()");
  assertThrows(() => restoreConfig(cs("1 l1")), ConfChangeError, "learner and an incoming voter");
  assertThrows(() => restoreConfig(cs("&&1 2")), ConfChangeError, "no incoming voters");
});
