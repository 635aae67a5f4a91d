import { assert, assertEquals } from "@std/assert";
import { checkImports, readTree, stripComments } from "./check_imports.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** A small tree that keeps every rule. */
function goodTree(): Map<string, string> {
  return new Map([
    ["raftpb/mod.ts", "export type Message = { to: bigint };"],
    [
      "raft/mod.ts",
      'import type { Message } from "../raftpb/mod.ts";\nexport { RawNode } from "./raw_node.ts";',
    ],
    [
      "raft/raw_node.ts",
      'import type { Message } from "../raftpb/mod.ts";\nexport class RawNode {}',
    ],
    ["storage/mod.ts", 'import { RawNode } from "../raft/mod.ts";'],
    ["mod.ts", 'export * from "./src/transport.ts";'],
    ["src/transport.ts", 'import type { Message } from "../raftpb/mod.ts";'],
    ["replica/mod.ts", 'import { RawNode } from "../raft/raw_node.ts";\nimport "../mod.ts";'],
    ["apps/kv/main.ts", 'import "../../replica/mod.ts";\nimport "@rafthttp/rafthttp/storage";'],
    ["raft/testing/sim.ts", 'import "../raw_node.ts";'],
    ["raft/log_test.ts", 'import "./testing/sim.ts";\nimport "../tests/harness.ts";'],
  ]);
}

Deno.test("check_imports: the project's own tree keeps every rule", async () => {
  const problems = checkImports(await readTree(ROOT));
  assertEquals(problems, []);
});

Deno.test("check_imports: a tree that keeps the rules has no problem", () => {
  assertEquals(checkImports(goodTree()), []);
});

Deno.test("check_imports: a wrong-way import is caught, with the file and line", () => {
  for (
    const [file, text] of [
      ["raft/raw_node.ts", '\nimport { Transport } from "../src/transport.ts";'],
      ["raftpb/mod.ts", '\nimport type { RawNode } from "../raft/mod.ts";'],
      ["src/transport.ts", '\nimport { DiskStorage } from "../storage/mod.ts";'],
      ["storage/mod.ts", '\nexport { startReplica } from "../replica/mod.ts";'],
      ["raft/raw_node.ts", '\nimport "./testing/sim.ts";'],
    ]
  ) {
    const tree = goodTree();
    tree.set(file, text);
    // raftpb importing raft also closes a circle: only the direction is asked here.
    const wrongWay = checkImports(tree).filter((p) => p.rule === "direction");
    assertEquals(wrongWay.map((p) => p.at), [`${file}:2`], file);
  }
});

Deno.test("check_imports: an app reaching past a layer's mod.ts is caught", () => {
  const tree = goodTree();
  tree.set("apps/kv/main.ts", 'import { RawNode } from "../../raft/raw_node.ts";');
  assertEquals(checkImports(tree).map((p) => p.rule), ["entry"]);
});

Deno.test("check_imports: the core naming Deno or node: is caught", () => {
  const tree = goodTree();
  tree.set("raft/raw_node.ts", "// Deno.exit in a comment is fine\nconst t = Deno.now;");
  tree.set("raftpb/mod.ts", 'import { Buffer } from "node:buffer";');
  assertEquals(checkImports(tree).map((p) => [p.rule, p.at]), [
    ["runtime", "raftpb/mod.ts:1"],
    ["runtime", "raft/raw_node.ts:2"],
  ]);
});

Deno.test("check_imports: a circle is caught, type-only imports included", () => {
  const tree = goodTree();
  tree.set("raft/a.ts", 'import type { B } from "./b.ts";\nexport type A = 1;');
  tree.set("raft/b.ts", 'import type { C } from "./c.ts";\nexport type B = 1;');
  tree.set("raft/c.ts", 'import type { A } from "./a.ts";\nexport type C = 1;');
  const problems = checkImports(tree);
  assertEquals(problems.length, 1);
  assertEquals(problems[0].rule, "circle");
  assert(problems[0].message.includes("raft/a.ts, raft/b.ts, raft/c.ts"), problems[0].message);
});

Deno.test("check_imports: imports in comments and doc examples do not count", () => {
  const tree = goodTree();
  tree.set(
    "raft/raw_node.ts",
    '/**\n * ```ts\n * import { Transport } from "../src/transport.ts";\n * ```\n */\n' +
      "const re = /[\"']/;\nexport class RawNode {}",
  );
  assertEquals(checkImports(tree), []);
  assertEquals(stripComments('a /* b */ "c // d"').trim(), 'a         "c // d"');
});
