/**
 * Keeps the layers the right way up. Fails (exit 1, one line per problem)
 * when a file imports against the direction
 *
 *     raftpb <- raft <- storage;  raftpb <- transport (mod.ts, src/);
 *     raft, storage, transport <- replica <- apps
 *
 * when an app reaches into a layer past its `mod.ts`, when the core
 * (raftpb/, raft/ but its testing/) names `Deno.*` or a `node:` module, and
 * when files import each other in a circle. Type-only imports count: a
 * circle of types is still a circle.
 *
 * Tests (`*_test.ts`, `*_bench.ts`, `testdata/`) may also import
 * `raft/testing/` and what lies outside the layers (tests/, bench/); the
 * folders outside the layers (tests/, bench/, tools/, examples/) are free.
 *
 * Run: `deno run --allow-read tools/check_imports.ts` (`deno task test` does).
 *
 * @example
 * ```ts
 * import { checkImports } from "./check_imports.ts";
 * const problems = checkImports(new Map([
 *   ["raftpb/mod.ts", ""],
 *   ["raft/log.ts", 'import { Transport } from "../src/transport.ts";'],
 *   ["src/transport.ts", ""],
 * ]));
 * console.log(problems[0].rule); // "direction"
 * ```
 *
 * @module
 */

/** A layer, or "outside" for the folders no rule binds. */
export type Layer =
  | "raftpb"
  | "raft"
  | "raft-testing"
  | "storage"
  | "transport"
  | "replica"
  | "apps"
  | "outside";

/** What each layer's own (non-test) files may import, besides their own layer. */
export const ALLOWED: Record<Layer, readonly Layer[]> = {
  raftpb: [],
  raft: ["raftpb"],
  "raft-testing": ["raftpb", "raft"],
  storage: ["raftpb", "raft"],
  transport: ["raftpb"],
  replica: ["raftpb", "raft", "storage", "transport"],
  apps: ["raftpb", "raft", "storage", "transport", "replica"],
  outside: ["raftpb", "raft", "raft-testing", "storage", "transport", "replica", "apps", "outside"],
};

/** The package's subpath exports: bare specifiers resolve to these files. */
export const PACKAGE_EXPORTS: Record<string, string> = {
  "@rafthttp/rafthttp": "mod.ts",
  "@rafthttp/rafthttp/raftpb": "raftpb/mod.ts",
  "@rafthttp/rafthttp/raft": "raft/mod.ts",
  "@rafthttp/rafthttp/storage": "storage/mod.ts",
  "@rafthttp/rafthttp/replica": "replica/mod.ts",
};

/** One broken rule, at a file and line. */
export interface ImportProblem {
  /** "direction", "entry" (past a layer's mod.ts), "runtime" or "circle". */
  rule: "direction" | "entry" | "runtime" | "circle";
  /** The file, relative to the root, with `:line` where one line is at fault. */
  at: string;
  /** What is wrong and what to do about it. */
  message: string;
}

/** The layer a file (path relative to the root, `/` separated) belongs to. */
export function layerOf(path: string): Layer {
  if (path.startsWith("raftpb/")) return "raftpb";
  if (path.startsWith("raft/testing/")) return "raft-testing";
  if (path.startsWith("raft/")) return "raft";
  if (path.startsWith("storage/")) return "storage";
  if (path === "mod.ts" || path.startsWith("src/")) return "transport";
  if (path.startsWith("replica/")) return "replica";
  if (path.startsWith("apps/")) return "apps";
  return "outside";
}

/** True for tests, benchmarks and their data, which may also import test helpers. */
export function isTestFile(path: string): boolean {
  return /_(test|bench)\.ts$/.test(path) || path.includes("/testdata/") ||
    path.startsWith("raft/testing/");
}

/** The source text with comments blanked out (kept line for line), strings kept. */
export function stripComments(text: string): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i], n = text[i + 1];
    if (c === "/" && n === "/") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === "/" && n === "*") {
      const end = text.indexOf("*/", i + 2);
      const stop = end < 0 ? text.length : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, " ");
      i = stop;
    } else if (c === '"' || c === "'" || c === "`") {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === "/" && startsRegex(out)) {
      const j = regexEnd(text, i);
      out += " ".repeat(j - i);
      i = j;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** True where a `/` begins a regular expression literal, judged by what precedes it. */
function startsRegex(before: string): boolean {
  const code = before.trimEnd();
  return code === "" || /[(,=:[!&|?{};+\-*%<>~^]$/.test(code) || /\b(return|typeof)$/.test(code);
}

/** The index just past the regular expression literal that starts at `i`. */
function regexEnd(text: string, i: number): number {
  let j = i + 1;
  let inClass = false;
  while (j < text.length && text[j] !== "\n") {
    const c = text[j];
    if (c === "\\") j++;
    else if (c === "[") inClass = true;
    else if (c === "]") inClass = false;
    else if (c === "/" && !inClass) return j + 1;
    j++;
  }
  return j;
}

const IMPORT =
  /(?:\bimport|\bexport)\s[^;]*?\bfrom\s*["']([^"']+)["']|\bimport\s*\(?\s*["']([^"']+)["']/g;

/** Every module specifier a file imports or re-exports, with its line. */
export function specifiers(text: string): { spec: string; line: number }[] {
  const code = stripComments(text);
  const found: { spec: string; line: number }[] = [];
  for (const m of code.matchAll(IMPORT)) {
    const line = code.slice(0, m.index).split("\n").length;
    found.push({ spec: m[1] ?? m[2], line });
  }
  return found;
}

/** The file a specifier names, relative to the root; undefined for packages outside. */
export function resolveSpecifier(from: string, spec: string): string | undefined {
  if (spec in PACKAGE_EXPORTS) return PACKAGE_EXPORTS[spec];
  if (!spec.startsWith("./") && !spec.startsWith("../")) return undefined;
  const parts = from.split("/").slice(0, -1);
  for (const seg of spec.split("/")) {
    if (seg === "..") parts.pop();
    else if (seg !== "." && seg !== "") parts.push(seg);
  }
  return parts.join("/");
}

/** The layer's entry point, which apps must import through. */
function entryOf(layer: Layer): string | undefined {
  if (layer === "transport") return "mod.ts";
  if (layer === "outside" || layer === "apps" || layer === "raft-testing") return undefined;
  return `${layer}/mod.ts`;
}

/** The direction, entry and runtime rules of one file. */
function checkFile(path: string, text: string): ImportProblem[] {
  const problems: ImportProblem[] = [];
  const from = layerOf(path);
  const test = isTestFile(path);
  for (const { spec, line } of specifiers(text)) {
    const at = `${path}:${line}`;
    if (spec.startsWith("node:") && (from === "raftpb" || from === "raft") && !test) {
      problems.push({
        rule: "runtime",
        at,
        message: `the core imports ${spec}: keep runtime APIs in storage/, src/edge/ or replica/`,
      });
    }
    const target = resolveSpecifier(path, spec);
    if (target === undefined) continue;
    const to = layerOf(target);
    if (to === from) continue;
    const allowed = ALLOWED[from].includes(to) ||
      (test && (to === "raft-testing" || to === "outside"));
    if (!allowed) {
      problems.push({
        rule: "direction",
        at,
        message: `${from} imports ${to} (${spec}); ${from} may import only ` +
          `${ALLOWED[from].join(", ") || "nothing of ours"}: move the shared part down a layer`,
      });
    } else if (from === "apps" && !test && entryOf(to) !== undefined && target !== entryOf(to)) {
      problems.push({
        rule: "entry",
        at,
        message: `an app imports ${spec}, inside the ${to} layer: import ${entryOf(to)} ` +
          `(export what it needs there)`,
      });
    }
  }
  if ((from === "raftpb" || from === "raft") && !test) {
    const code = stripComments(text);
    const m = /\bDeno\./.exec(code);
    if (m) {
      problems.push({
        rule: "runtime",
        at: `${path}:${code.slice(0, m.index).split("\n").length}`,
        message: "the core names Deno.*: take what it needs as a parameter instead",
      });
    }
  }
  return problems;
}

/** Circles between files (strongly connected components of the import graph). */
export function findCircles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) circles.push(component.sort());
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return circles;
}

/** Every problem in a tree given as path (relative, `/` separated) to source text. */
export function checkImports(files: Map<string, string>): ImportProblem[] {
  const problems: ImportProblem[] = [];
  const graph = new Map<string, string[]>();
  for (const [path, text] of files) {
    problems.push(...checkFile(path, text));
    const targets = specifiers(text)
      .map(({ spec }) => resolveSpecifier(path, spec))
      .filter((t): t is string => t !== undefined && files.has(t));
    graph.set(path, targets);
  }
  for (const circle of findCircles(graph)) {
    problems.push({
      rule: "circle",
      at: circle[0],
      message: `files import each other in a circle: ${circle.join(", ")}; ` +
        "move what they share into a file that imports none of them",
    });
  }
  return problems;
}

const SKIP = /^(\.git|\.tools|node_modules|dist|kv-[^/]*|snap)$/;

/** Reads every .ts file under `root` (skipping tool and build folders). */
export async function readTree(root: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (dir: string, rel: string) => {
    for await (const e of Deno.readDir(dir)) {
      const path = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory && !SKIP.test(e.name)) await walk(`${dir}/${e.name}`, path);
      else if (e.isFile && e.name.endsWith(".ts")) {
        files.set(path, await Deno.readTextFile(`${dir}/${e.name}`));
      }
    }
  };
  await walk(root, "");
  return files;
}

if (import.meta.main) {
  const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const files = await readTree(Deno.args[0] ?? root);
  const problems = checkImports(files);
  for (const p of problems) console.error(`${p.at}: [${p.rule}] ${p.message}`);
  if (problems.length > 0) {
    console.error(`check_imports: ${problems.length} problem(s) in ${files.size} files`);
    Deno.exit(1);
  }
  console.log(`check_imports: ${files.size} files, the layers point one way, no circles`);
}
