// The core must run on any runtime with fetch and Web streams: only the
// runtime edges (src/edge/) may use the Deno namespace. Checked by type-checking src/
// without Deno's types, which sees code and ignores comments (the doc
// examples, run by Deno only, may use Deno.*).
import { assert, assertStringIncludes } from "@std/assert";

const root = new URL("../../", import.meta.url);

/** Type-checks `files` (paths under src/) with only the ES and DOM libraries. */
async function checkWithoutDeno(files: string[]): Promise<{ ok: boolean; output: string }> {
  const project = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  const dir = await Deno.makeTempDir({ prefix: "rafthttp-portable-" });
  try {
    await Deno.writeTextFile(
      `${dir}/deno.json`,
      JSON.stringify({
        imports: project.imports,
        nodeModulesDir: "none",
        compilerOptions: { lib: ["esnext", "dom", "dom.iterable"] },
      }),
    );
    const entry = files.map((f) => `import ${JSON.stringify(new URL(f, root).href)};`).join("\n");
    await Deno.writeTextFile(`${dir}/entry.ts`, entry + "\n");
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--quiet", "--no-lock", "--config", `${dir}/deno.json`, `${dir}/entry.ts`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder();
    return { ok: code === 0, output: text.decode(stdout) + text.decode(stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function sources(dir = "src"): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(new URL(dir, root))) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...await sources(path));
    else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) out.push(path);
  }
  return out.sort();
}

/** Runtime edges may use Deno.*; the core may not. */
const isCore = (f: string) => !f.startsWith("src/edge/");

Deno.test("portable: src/ apart from the runtime edges uses no Deno API", async () => {
  const files = (await sources()).filter(isCore);
  assert(files.length > 20, `found only ${files.length} sources`);
  const { ok, output } = await checkWithoutDeno(files);
  assert(ok, `only src/edge/ may use Deno.*; found:\n${output}`);
});

Deno.test("portable: the same check catches Deno.* in the Deno edge", async () => {
  const { ok, output } = await checkWithoutDeno(["src/edge/serve.ts"]);
  assert(!ok, "serve.ts uses Deno.serve, so this check must fail on it");
  assertStringIncludes(output, "Deno");
});

Deno.test("portable: the Node.js edge uses no Deno API either (it runs on Node)", async () => {
  const { ok, output } = await checkWithoutDeno(["src/edge/node_server.ts"]);
  assert(ok, `src/edge/node_server.ts needs Deno's types:\n${output}`);
});
