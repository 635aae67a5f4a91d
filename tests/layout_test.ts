// The layout rules the architecture relies on, checked so that they stay:
// src/ has at most 8 files at its top level (the rest lives in one folder
// per concept), and no function or method in the project's code is longer
// than 100 lines (generated code aside). tools/check_imports.ts keeps the
// layers' import direction.
import { assert, assertEquals } from "@std/assert";

const ROOT = new URL("../", import.meta.url);
const SRC = new URL("src/", ROOT);
/** The folders of our code: the layers, and what runs, tests and measures them. */
const CODE = [
  "mod.ts",
  "src/",
  "raftpb/",
  "raft/",
  "storage/",
  "replica/",
  "apps/",
  "examples/",
  "bench/",
  "tools/",
  "tests/",
];
const MAX_TOP_LEVEL_FILES = 8;
const MAX_FUNCTION_LINES = 100;
const GENERATED = new Set(["raftpb/raft_pb.ts"]);

async function sources(dir: string): Promise<string[]> {
  if (!dir.endsWith("/")) return [dir];
  const out: string[] = [];
  for await (const e of Deno.readDir(new URL(dir, ROOT))) {
    const path = dir + e.name;
    if (e.isDirectory) out.push(...await sources(path + "/"));
    else if (e.name.endsWith(".ts") && !GENERATED.has(path)) out.push(path);
  }
  return out.sort();
}

/**
 * Functions and methods of a `deno fmt`-formatted file, with their length:
 * a declaration line that opens a block, up to the line at the same indent
 * that closes it.
 */
export function functionLengths(text: string): { name: string; line: number; lines: number }[] {
  const lines = text.split("\n");
  const declaration =
    /^(\s*)(?:export\s+)?(?:default\s+)?(?:static\s+)?(?:async\s+)?(?:function\*?\s+([\w$]+)|(?:get\s+|set\s+)?(#?[\w$]+)\s*(?:<[^>]*>)?\s*\(|(?:const|let)\s+([\w$]+)\s*=\s*(?:async\s*)?(?:\([^)]*\)|[\w$]+)\s*(?::[^=]+)?=>)/;
  const found: { name: string; line: number; lines: number }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = declaration.exec(lines[i]);
    if (m === null) continue;
    const name = m[2] ?? m[3] ?? m[4];
    if (["if", "for", "while", "switch", "catch", "return"].includes(name)) continue;
    // The block opens on the declaration line or on the line that ends its signature.
    let open = i;
    while (open < lines.length && !/[{]\s*$/.test(lines[open]) && !/;\s*$/.test(lines[open])) {
      open++;
    }
    if (open >= lines.length || !/[{]\s*$/.test(lines[open])) continue;
    const close = lines.findIndex((l, k) => k > open && l.startsWith(m[1] + "}"));
    if (close < 0) continue;
    found.push({ name, line: i + 1, lines: close - i + 1 });
  }
  return found;
}

Deno.test("layout: src/ has at most 8 files at its top level", async () => {
  const top: string[] = [];
  for await (const e of Deno.readDir(SRC)) if (e.isFile) top.push(e.name);
  assert(top.length <= MAX_TOP_LEVEL_FILES, `src/ has ${top.length} files: ${top.sort()}`);
});

Deno.test("layout: no function of ours is longer than 100 lines", async () => {
  const long: string[] = [];
  let counted = 0;
  for (const file of (await Promise.all(CODE.map((d) => sources(d)))).flat()) {
    const text = await Deno.readTextFile(new URL(file, ROOT));
    for (const f of functionLengths(text)) {
      counted++;
      if (f.lines > MAX_FUNCTION_LINES) {
        long.push(`${file}:${f.line} ${f.name} (${f.lines} lines)`);
      }
    }
  }
  assert(counted > 200, `found only ${counted} functions: the scanner is broken`);
  assertEquals(long, [], `functions longer than ${MAX_FUNCTION_LINES} lines`);
});

Deno.test("layout: the function scanner measures what it should", () => {
  const body = Array.from({ length: 120 }, (_, i) => `  x${i}();`).join("\n");
  const text =
    `export function big(a: number): void {\n${body}\n}\n\nclass C {\n  async #m(\n    a: number,\n  ): Promise<void> {\n    a;\n  }\n}\nconst f = (x: number) => {\n  x;\n};\n`;
  const got = functionLengths(text).map((f) => [f.name, f.lines]);
  assertEquals(got, [["big", 122], ["#m", 5], ["f", 3]]);
});
