// Builds what other runtimes load, into dist/ (not committed):
//   dist/rafthttp.js                   mod.ts as one ES module, @bufbuild/protobuf inside
//   dist/runtimes/workerd_member.js    the workerd test member (workerd runs no TypeScript);
//                                      it imports "@rafthttp/rafthttp", which the workerd
//                                      config maps to dist/rafthttp.js
// Bun runs tests/runtimes/bun_member.ts as it is; its tsconfig.json maps
// "@rafthttp/rafthttp" to dist/rafthttp.js.
//
//   deno task build

const root = new URL("../", import.meta.url);

/** One `deno bundle` run. */
async function bundle(entry: string, output: string, extra: string[] = []): Promise<void> {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform",
      "browser",
      "--format",
      "esm",
      ...extra,
      "-o",
      output,
      entry,
    ],
    cwd: root,
    stdout: "inherit",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(
      `deno bundle ${entry} failed (exit ${code}):\n${new TextDecoder().decode(stderr)}`,
    );
  }
}

/** Builds dist/; returns the path of the module bundle. */
export async function build(): Promise<string> {
  await bundle("mod.ts", "dist/rafthttp.js");
  await bundle("tests/runtimes/workerd_member.ts", "dist/runtimes/workerd_member.js", [
    "--external",
    "@rafthttp/rafthttp",
  ]);
  const out = new URL("dist/rafthttp.js", root);
  const text = await Deno.readTextFile(out);
  // The bundle must stand alone: no imports left but the lazy node:fs/promises
  // of the default snapshot sink (a custom sink never loads it).
  const imports = [
    ...[...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*"([^"]+)"/gm)].map((m) => m[1]),
    ...[...text.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g)].map((m) => m[1]),
  ];
  const unexpected = imports.filter((s) => s !== "node:fs/promises");
  if (unexpected.length > 0) {
    throw new Error(`dist/rafthttp.js still imports ${unexpected.join(", ")}`);
  }
  return out.pathname;
}

if (import.meta.main) {
  const path = await build();
  console.log(`built ${path} (${(await Deno.stat(path)).size} bytes)`);
}
