// Generates raftpb/raft_pb.ts from raftpb/raft.proto with buf and
// protoc-gen-es (both from npm), using this very Deno to run the plugin.
//   deno task gen            regenerate in place
//   deno task gen --check    fail if the committed file is stale

export const BUF = "npm:@bufbuild/buf@1.75.0";
export const PROTOC_GEN_ES = "npm:@bufbuild/protoc-gen-es@2.17.0";
const root = new URL("../", import.meta.url);

/**
 * The generated code imports the runtime by its bare name; the module must
 * import by URL with no import map, so those imports become the npm:
 * specifier deno.json maps the name to.
 */
async function withNpmSpecifiers(code: string): Promise<string> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  const runtime: string = config.imports["@bufbuild/protobuf"];
  return code.replace(
    / from "@bufbuild\/protobuf(\/[a-z0-9]+)?";/g,
    (_m, sub) => ` from "${runtime}${sub ?? ""}";`,
  );
}

/** Runs buf generate with its output under `outDir`; returns the generated text. */
export async function generate(outDir: string): Promise<string> {
  const template = JSON.stringify({
    version: "v2",
    inputs: [{ directory: "raftpb" }],
    plugins: [{
      local: [Deno.execPath(), "run", "-A", PROTOC_GEN_ES],
      out: "raftpb",
      opt: ["target=ts", "import_extension=ts"],
    }],
  });
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", BUF, "generate", "--template", template, "-o", outDir],
    cwd: root,
    stdout: "inherit",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(`buf generate failed (exit ${code}):\n${new TextDecoder().decode(stderr)}`);
  }
  return await withNpmSpecifiers(await Deno.readTextFile(`${outDir}/raftpb/raft_pb.ts`));
}

if (import.meta.main) {
  const check = Deno.args.includes("--check");
  const tmp = await Deno.makeTempDir({ prefix: "raftpb-gen-" });
  try {
    const fresh = await generate(tmp);
    const target = new URL("raftpb/raft_pb.ts", root);
    if (check) {
      const committed = await Deno.readTextFile(target);
      if (committed !== fresh) {
        console.error("raftpb/raft_pb.ts is stale: run `deno task gen` and commit the result");
        Deno.exit(1);
      }
      console.log("raftpb/raft_pb.ts is up to date");
    } else {
      await Deno.writeTextFile(target, fresh);
      console.log("wrote raftpb/raft_pb.ts");
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}
