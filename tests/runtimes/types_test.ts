// The npm package `deno task build` writes into dist/, used as a Bun or Node
// TypeScript user would: `npm pack` packs it, `npm install` installs the
// tarball (with @bufbuild/protobuf, for its types) into a temporary project,
// Node imports it, and tsc (npm:typescript, the version tools/build.ts emits
// the declarations with; no Deno types) type-checks against its declarations:
// typed_consumer.ts and an exports check under strict settings, the runtime
// examples (examples/runtimes/bun.js and workerd/worker.js) as JavaScript with
// checkJs, and wrong uses (in TypeScript, and in bun.js), which must fail.
// Deno checks the consumer against the installed package as well.
//
// Needs npm and its registry (tsc comes from Deno's npm cache, the
// dependency from npm's): without them the test is skipped with a note, and
// with RAFTHTTP_REQUIRE_RUNTIMES=1 (CI) it fails instead.
import { assert, assertEquals, assertMatch } from "@std/assert";
import { TSC, TYPESCRIPT_VERSION } from "../../tools/build.ts";
import { buildOnce } from "./harness.ts";

const root = new URL("../../", import.meta.url);
const dist = new URL("dist/", root);

interface Output {
  code: number;
  out: string;
}

/** Runs a command to its end, stdout and stderr together. */
async function run(cmd: string, args: string[], cwd: string, timeoutMs = 60_000): Promise<Output> {
  const { code, stdout, stderr } = await new Deno.Command(cmd, {
    args,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  const text = new TextDecoder();
  return { code, out: (text.decode(stdout) + text.decode(stderr)).trim() };
}

/** Like {@link run}, but a non-zero exit fails the test with the output. */
async function ok(cmd: string, args: string[], cwd: string): Promise<string> {
  const { code, out } = await run(cmd, args, cwd);
  assertEquals(code, 0, `${cmd} ${args.join(" ")} (in ${cwd}) exited ${code}:\n${out}`);
  return out;
}

/** Whether npm is installed and reaches its registry (`npm ping`). */
async function npmReachable(): Promise<boolean> {
  let why: string;
  try {
    const args = ["ping", "--fetch-retries=0", "--fetch-timeout=10000"];
    const { code, out } = await run("npm", args, Deno.cwd(), 15_000);
    if (code === 0) return true;
    const lines = out.split("\n");
    const reason = lines.find((l) => /FetchError|request to /.test(l)) ?? lines.at(-1) ?? "";
    why = `npm ping exited ${code}: ${reason.replace(/^npm error /, "")}`;
  } catch (e) {
    why = e instanceof Deno.errors.NotFound ? "npm is not on PATH" : String(e);
  }
  if (Deno.env.get("RAFTHTTP_REQUIRE_RUNTIMES") === "1") {
    throw new Error(`the types test needs npm (RAFTHTTP_REQUIRE_RUNTIMES=1): ${why}`);
  }
  console.warn(
    `%cskipping the types test (npm package and tsc): npm or its registry is unavailable (${why})`,
    "color: yellow",
  );
  return false;
}

const NPM = await npmReachable();

/** tsc over one project; its diagnostics, one a line. */
function tsc(cwd: string, project: string, extra: string[] = []): Promise<Output> {
  return run(Deno.execPath(), [...TSC, "-p", project, "--pretty", "false", ...extra], cwd);
}

/** Compiler options of a strict TypeScript user on Bun or Node (ESM, node resolution). */
const STRICT = {
  strict: true,
  noEmit: true,
  target: "es2022",
  module: "nodenext",
  moduleResolution: "nodenext",
  lib: ["esnext", "dom"],
  types: [],
  skipLibCheck: false,
  noUnusedLocals: true,
};

/** The globals the examples use of Bun and Node, as no @types package is installed. */
const EXAMPLE_GLOBALS = `declare const process: { env: Record<string, string | undefined> };
declare const Bun: {
  serve(options: {
    hostname?: string;
    port?: number;
    fetch(req: Request): Response | Promise<Response>;
  }): unknown;
};
`;

/** A wrong use: a number where the options want a bigint id (line 4). */
const WRONG = `import { Transport } from "@rafthttp/rafthttp";
export const transport = new Transport({
  // a number, not a bigint:
  id: 1,
  clusterId: 7n,
  urls: ["http://127.0.0.1:23801"],
  raft: { process() {}, isIDRemoved: () => false, reportUnreachable() {}, reportSnapshot() {} },
});
`;

/** Checks compiled JavaScript as the strict projects check TypeScript, but not strict. */
const LENIENT = { ...STRICT, strict: false, allowJs: true, checkJs: true };

/** dist/package.json says what deno.json does; returns the @bufbuild/protobuf version it pins. */
async function checkPackageJson(): Promise<string> {
  const deno = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  const protobuf = deno.imports["@bufbuild/protobuf"].replace(/^npm:@bufbuild\/protobuf@/, "");
  const pkg = JSON.parse(await Deno.readTextFile(new URL("package.json", dist)));
  assertEquals(
    [pkg.name, pkg.version, pkg.license, pkg.type],
    [deno.name, deno.version, deno.license, "module"],
  );
  assertEquals(pkg.exports, {
    ".": { types: "./rafthttp.d.ts", default: "./rafthttp.js" },
    "./raftpb": { types: "./types/raftpb/mod.d.ts", default: "./raftpb.js" },
    "./raft": { types: "./types/raft/mod.d.ts", default: "./raft.js" },
  });
  assertEquals(pkg.dependencies, { "@bufbuild/protobuf": protobuf });
  return protobuf;
}

/**
 * npm pack into `tmp`: the bundle, its declarations, package.json, README
 * and LICENSE; no test member. Returns the tarball's file name.
 */
async function pack(tmp: string): Promise<string> {
  const packed = JSON.parse(
    await ok("npm", ["pack", dist.pathname, "--pack-destination", tmp, "--json"], tmp),
  )[0];
  const files: string[] = packed.files.map((f: { path: string }) => f.path);
  for (
    const f of [
      "package.json",
      "rafthttp.js",
      "rafthttp.d.ts",
      "types/src/transport.d.ts",
      "raftpb.js",
      "raft.js",
      "types/src/raft_node.d.ts",
      "types/raftpb/mod.d.ts",
      "types/raft/mod.d.ts",
      "types/src/options.d.ts",
      "types/raftpb/schemas.d.ts",
      "types/src/snapshot/message.d.ts",
      "README.md",
      "LICENSE",
    ]
  ) {
    assert(files.includes(f), `the tarball lists ${f}: ${files.join(", ")}`);
  }
  assert(
    files.every((f) => f.endsWith(".d.ts") || !f.startsWith("types/")),
    `types/ holds declarations only: ${files.join(", ")}`,
  );
  assert(!files.some((f) => f.startsWith("runtimes/")), "the test member is not packed");
  return packed.filename;
}

/** npm install of the tarball into a project of its own, `app`, with the pinned protobuf. */
async function install(app: string, tarball: string, protobuf: string): Promise<void> {
  await Deno.mkdir(app);
  await Deno.writeTextFile(`${app}/package.json`, '{ "private": true, "type": "module" }\n');
  await ok("npm", [
    "install",
    "--no-audit",
    "--no-fund",
    "--prefer-offline",
    "--loglevel=error",
    tarball,
  ], app);
  const installed = JSON.parse(
    await Deno.readTextFile(`${app}/node_modules/@bufbuild/protobuf/package.json`),
  );
  assertEquals(installed.version, protobuf, "the pinned @bufbuild/protobuf is installed");
}

/** Node loads the package by its name; returns the names it exports. */
async function loadWithNode(app: string): Promise<string[]> {
  await Deno.writeTextFile(
    `${app}/run.mjs`,
    `import * as m from "@rafthttp/rafthttp";
const bytes = m.encodeMessage(m.create(m.MessageSchema, { type: m.MessageType.MsgHeartbeat, to: 2n }));
console.log(JSON.stringify({ names: Object.keys(m).sort(), to: String(m.decodeMessage(bytes).to) }));
`,
  );
  const loaded = JSON.parse(await ok("node", ["run.mjs"], app));
  assertEquals(loaded.to, "2");
  assert(loaded.names.includes("Transport") && loaded.names.includes("SnapshotMessage"));
  return loaded.names;
}

/** Writes a tsc project file `name` into `app`. */
function writeProject(
  app: string,
  name: string,
  options: Record<string, unknown>,
  files: string[],
): Promise<void> {
  return Deno.writeTextFile(
    `${app}/${name}`,
    JSON.stringify({ compilerOptions: options, files }, null, 2),
  );
}

/**
 * The projects tsc checks in `app`: the typed consumer with the exports
 * `names`, the runtime examples, and the wrong uses. Returns the line of
 * bun.js that the wrong use changes.
 */
async function writeProjects(app: string, names: string[]): Promise<number> {
  // Strict: the typed consumer, and every runtime export against the declared values
  // (an excess name or a missing one fails).
  await Deno.copyFile(new URL("tests/runtimes/typed_consumer.ts", root), `${app}/consumer.ts`);
  await Deno.writeTextFile(
    `${app}/exports.ts`,
    `import * as m from "@rafthttp/rafthttp";
export const values: { [K in keyof typeof m]: true } = {
${names.map((n) => `  ${n}: true,`).join("\n")}
};
`,
  );
  await writeProject(app, "tsconfig.json", STRICT, ["consumer.ts", "exports.ts"]);

  // The runtime examples, JavaScript checked against the same declarations.
  await Deno.copyFile(new URL("examples/runtimes/bun.js", root), `${app}/bun.js`);
  await Deno.copyFile(new URL("examples/runtimes/workerd/worker.js", root), `${app}/worker.js`);
  await Deno.writeTextFile(`${app}/globals.d.ts`, EXAMPLE_GLOBALS);
  await writeProject(app, "tsconfig.examples.json", LENIENT, [
    "globals.d.ts",
    "bun.js",
    "worker.js",
  ]);

  // And wrong uses, which must fail: a number id, in TypeScript and in bun.js.
  await Deno.writeTextFile(`${app}/wrong.ts`, WRONG);
  await writeProject(app, "tsconfig.wrong.json", STRICT, ["wrong.ts"]);
  const bun = await Deno.readTextFile(`${app}/bun.js`);
  const line = bun.split("\n").findIndex((l) => l.trim() === "id: me.id,") + 1;
  assert(line > 0, "bun.js passes `id: me.id`");
  await Deno.writeTextFile(
    `${app}/wrong_bun.js`,
    bun.replace("id: me.id,", "id: Number(me.id),"),
  );
  await writeProject(app, "tsconfig.wrong_bun.json", LENIENT, ["globals.d.ts", "wrong_bun.js"]);
  return line;
}

/**
 * tsc (from `tmp`) over the projects of `app`, and Deno over the consumer:
 * the right uses pass, each wrong use fails on its id (in bun.js, at
 * `bunIdLine`).
 */
async function typeCheck(tmp: string, app: string, bunIdLine: number): Promise<void> {
  const [strict, examples, wrong, wrongJs, deno] = await Promise.all([
    tsc(tmp, `${app}/tsconfig.json`),
    tsc(tmp, `${app}/tsconfig.examples.json`, ["--listFiles"]),
    tsc(tmp, `${app}/tsconfig.wrong.json`),
    tsc(tmp, `${app}/tsconfig.wrong_bun.json`),
    // Deno, too, types the installed package through its package.json.
    run(Deno.execPath(), ["check", "--no-lock", "--quiet", "consumer.ts"], app),
  ]);
  assertEquals(strict, { code: 0, out: "" }, "the consumer and the exports type-check");
  assertEquals(deno, { code: 0, out: "" }, "Deno type-checks the consumer of the package");
  assertEquals(examples.code, 0, `the runtime examples type-check:\n${examples.out}`);
  assert(
    examples.out.split("\n").includes(`${app}/node_modules/@rafthttp/rafthttp/rafthttp.d.ts`),
    `the examples' import resolves to the package's declarations:\n${examples.out}`,
  );
  const numberId = "error TS2322: Type 'number' is not assignable to type 'bigint'\\.";
  assert(wrong.code !== 0, `tsc accepted wrong.ts:\n${wrong.out}`);
  assertMatch(wrong.out, new RegExp(`^app/wrong\\.ts\\(4,3\\): ${numberId}$`, "m"));
  assertEquals(
    wrong.out.split("\n").filter((l) => / error TS\d+/.test(l)).length,
    1,
    `one error, the id:\n${wrong.out}`,
  );
  assert(wrongJs.code !== 0, `tsc accepted bun.js with a number id:\n${wrongJs.out}`);
  assertMatch(
    wrongJs.out,
    new RegExp(`^app/wrong_bun\\.js\\(${bunIdLine},\\d+\\): ${numberId}$`, "m"),
  );
}

Deno.test({
  name: `types: dist/ packs and installs as an npm package, and tsc ${TYPESCRIPT_VERSION} ` +
    "type-checks consumers and the runtime examples against its declarations",
  ignore: !NPM,
  async fn() {
    await buildOnce();
    const protobuf = await checkPackageJson();
    const tmp = await Deno.makeTempDir({ prefix: "rafthttp-types-test-" });
    try {
      const tarball = await pack(tmp);
      const app = `${tmp}/app`;
      await install(app, `${tmp}/${tarball}`, protobuf);
      const names = await loadWithNode(app);
      const bunIdLine = await writeProjects(app, names);
      await typeCheck(tmp, app, bunIdLine);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
