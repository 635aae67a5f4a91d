// Builds what other runtimes load, into dist/ (not committed):
//   dist/rafthttp.js                   mod.ts as one ES module, @bufbuild/protobuf inside
//   dist/rafthttp.d.ts, dist/types/    the declarations of mod.ts's public API, emitted by
//                                      TypeScript's tsc (npm:typescript@TYPESCRIPT_VERSION); they
//                                      import @bufbuild/protobuf's types by its bare name
//   dist/raftpb.js, dist/raft.js       the runtime-free layers, each one ES module on its own
//                                      (./raftpb and ./raft; ./storage and ./replica use Deno's
//                                      file API and load on Deno from source); their declarations
//                                      are dist/types/raftpb/ and dist/types/raft/
//   dist/package.json, README.md,      an npm package of the above ("@rafthttp/rafthttp"; version
//   LICENSE                            and license from deno.json; @bufbuild/protobuf pinned as a
//                                      dependency, for its types): `npm pack dist` packs it, and
//                                      Bun and Node resolve the name to rafthttp.js, typed
//   dist/runtimes/workerd_member.js    the workerd test member (workerd runs no TypeScript);
//                                      it imports "@rafthttp/rafthttp", which the workerd
//                                      config maps to dist/rafthttp.js
//   dist/runtimes/node_member.js       the Node.js test member, likewise; Node resolves
//                                      "@rafthttp/rafthttp" to dist/rafthttp.js by the
//                                      package's own name (dist/package.json's exports)
// Bun runs tests/runtimes/bun_member.ts as it is; its tsconfig.json maps
// "@rafthttp/rafthttp" to dist/rafthttp.js. tests/runtimes/types_test.ts packs
// and installs the package and type-checks consumers against it.
//
// The declarations: mod.ts and src/ are copied to a temporary directory with
// `npm:@bufbuild/protobuf@<version>` rewritten to `@bufbuild/protobuf`, next to a
// node_modules that `deno install` fills from Deno's cache, and tsc emits only
// declarations (`noCheck`: `deno check` checks the sources; tsc alone lacks
// the Deno and Node globals they use, and emits the same files either way).
// The emitted `.ts` specifiers become `.js`, and the Deno types `serve()` and
// `serveUnix()` name become local interfaces, so a Bun or Node user needs no Deno types.
// rafthttp.js carries no `// @ts-self-types`: Deno resolves a declaration's
// `./x.js` to x.d.ts only with sloppy imports (without them, importing the file
// directly would fail to type-check), while Deno, tsc and Bun all resolve the
// package through package.json's "types" as they do any npm package's.
//
//   deno task build

const root = new URL("../", import.meta.url);
const dist = new URL("dist/", root);

/** The TypeScript (npm `typescript`) that emits the declarations; the types test uses it too. */
export const TYPESCRIPT_VERSION = "5.9.3";
/** tsc, run by Deno from npm (cached in Deno's npm cache). */
export const TSC = [
  "run",
  "-A",
  "--no-config",
  "--no-lock",
  `npm:typescript@${TYPESCRIPT_VERSION}/tsc`,
];

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

/** Runs a command; throws with its output if it fails. */
async function run(what: string, cmd: string, args: string[], cwd: string): Promise<void> {
  const { code, stdout, stderr } = await new Deno.Command(cmd, { args, cwd, stdin: "null" })
    .output();
  if (code !== 0) {
    const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
    throw new Error(`${what} failed (exit ${code}):\n${text}`);
  }
}

/** The `.ts` files under a directory (relative paths), tests and test data left out. */
async function sources(dir: URL, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(new URL(prefix, dir))) {
    const path = prefix + e.name;
    if (e.isDirectory && e.name !== "testdata") out.push(...await sources(dir, path + "/"));
    else if (e.isFile && e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) out.push(path);
  }
  return out;
}

/** The `.d.ts` files under a directory (paths relative to it). */
async function declarationFiles(dir: URL, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(new URL(prefix, dir))) {
    const path = prefix + e.name;
    if (e.isDirectory) out.push(...await declarationFiles(dir, path + "/"));
    else if (e.name.endsWith(".d.ts")) out.push(path);
  }
  return out.sort();
}

/** deno.json's name, version, license, and the @bufbuild/protobuf version it maps. */
async function manifest(): Promise<
  { name: string; version: string; license: string; protobuf: string }
> {
  const json = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  const protobuf = /^npm:@bufbuild\/protobuf@([^/]+)$/.exec(json.imports["@bufbuild/protobuf"])
    ?.[1];
  if (protobuf === undefined) throw new Error("deno.json maps no npm:@bufbuild/protobuf@<version>");
  return { name: json.name, version: json.version, license: json.license, protobuf };
}

/** A local stand-in for `Deno.HttpServer<A>`: what a Deno-only serving function returns. */
function serverInterface(name: string, addr: string, what: string): string {
  return `/** What \`${what}()\` returns: \`Deno.HttpServer\` (\`${what}\` runs on Deno only). */\n` +
    `export interface ${name} {\n` +
    "    /** Resolves once the server has finished. */\n" +
    "    finished: Promise<void>;\n" +
    "    /** The address it listens on. */\n" +
    `    addr: ${addr};\n` +
    "    /** Makes the server block the event loop from finishing again. */\n" +
    "    ref(): void;\n" +
    "    /** Makes the server not block the event loop from finishing. */\n" +
    "    unref(): void;\n" +
    "    /** Gracefully closes the server. */\n" +
    "    shutdown(): Promise<void>;\n" +
    "}\n";
}

/** What the Deno edges' declarations use of Deno's types, as local interfaces. */
const DENO_TYPES: [RegExp, string, string][] = [
  [
    /\bDeno\.HttpServer<Deno\.NetAddr>/g,
    "DenoHttpServer",
    serverInterface("DenoHttpServer", "DenoNetAddr", "serve"),
  ],
  [
    /\bDeno\.HttpServer<Deno\.UnixAddr>/g,
    "DenoUnixHttpServer",
    serverInterface("DenoUnixHttpServer", "DenoUnixAddr", "serveUnix"),
  ],
  [
    /\bDeno\.UnixAddr\b/g,
    "DenoUnixAddr",
    "/** `Deno.UnixAddr`: the socket a `serveUnix()` server listens on. */\n" +
    "export interface DenoUnixAddr {\n" +
    '    transport: "unix" | "unixpacket";\n' +
    "    path: string;\n" +
    "}\n",
  ],
  [
    /\bDeno\.NetAddr\b/g,
    "DenoNetAddr",
    "/** `Deno.NetAddr`: the address a `serve()` server listens on. */\n" +
    "export interface DenoNetAddr {\n" +
    '    transport: "tcp" | "udp";\n' +
    "    hostname: string;\n" +
    "    port: number;\n" +
    "}\n",
  ],
];

/** The import specifiers of declarations, comments (and their examples) left out. */
function specifiers(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  return [
    ...[...code.matchAll(/\bfrom\s*"([^"]+)"/g)].map((m) => m[1]),
    ...[...code.matchAll(/\bimport\s*\(\s*"([^"]+)"\s*\)/g)].map((m) => m[1]),
    ...[...code.matchAll(/^\s*import\s*"([^"]+)"/gm)].map((m) => m[1]),
  ];
}

/**
 * Writes dist/rafthttp.d.ts and dist/types/: mod.ts's declarations, with `.js`
 * specifiers and `@bufbuild/protobuf` by its bare name.
 */
async function declarations(protobuf: string): Promise<void> {
  const tmp = await Deno.makeTempDir({ prefix: "rafthttp-types-" });
  try {
    const pkg = `${tmp}/pkg`;
    await Deno.mkdir(pkg);
    const pinned = /npm:@bufbuild\/protobuf@([^/"]+)/g;
    const layers = await Promise.all(
      ["src/", "raftpb/", "raft/"].map(async (d) =>
        (await sources(new URL(d, root))).filter((p) => !p.startsWith("testing/")).map((p) => d + p)
      ),
    );
    for (const path of ["mod.ts", ...layers.flat()]) {
      const text = await Deno.readTextFile(new URL(path, root));
      for (const [, version] of text.matchAll(pinned)) {
        if (version !== protobuf) {
          throw new Error(
            `${path} imports @bufbuild/protobuf@${version}; deno.json has ${protobuf}`,
          );
        }
      }
      const target = `${pkg}/${path}`;
      await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
      await Deno.writeTextFile(target, text.replace(pinned, "@bufbuild/protobuf"));
    }
    await Deno.writeTextFile(
      `${pkg}/package.json`,
      JSON.stringify({ private: true, dependencies: { "@bufbuild/protobuf": protobuf } }),
    );
    await run("deno install (@bufbuild/protobuf for tsc)", Deno.execPath(), [
      "install",
      "--quiet",
      "--no-lock",
    ], pkg);
    const out = new URL("types/", dist);
    await Deno.remove(out, { recursive: true }).catch(() => {});
    await Deno.writeTextFile(
      `${pkg}/tsconfig.json`,
      JSON.stringify({
        compilerOptions: {
          declaration: true,
          emitDeclarationOnly: true,
          noCheck: true,
          allowImportingTsExtensions: true,
          target: "esnext",
          module: "esnext",
          moduleResolution: "bundler",
          lib: ["esnext", "dom", "dom.iterable"],
          types: [],
          strict: true,
          rootDir: ".",
          outDir: out.pathname,
        },
        files: ["mod.ts", ...BUNDLED_LAYERS.map((l) => `${l}/mod.ts`)],
      }),
    );
    await run(`tsc ${TYPESCRIPT_VERSION} (declarations)`, Deno.execPath(), [
      ...TSC,
      "-p",
      `${pkg}/tsconfig.json`,
    ], tmp);

    const files = await declarationFiles(out);
    if (!files.includes("mod.d.ts")) throw new Error("tsc wrote no dist/types/mod.d.ts");
    const relative = /(\bfrom\s*|\bimport\s*\(\s*|^\s*import\s*)"(\.\.?\/[^"]+)\.ts"/gm;
    for (const file of files) {
      let text = (await Deno.readTextFile(new URL(file, out))).replace(relative, '$1"$2.js"');
      const local: string[] = [];
      // Matched against the text as emitted: an interface that names another
      // (a server and its address) brings that one along.
      const emitted = text;
      for (const [pattern, name, declaration] of DENO_TYPES) {
        if (emitted.search(pattern) < 0) continue;
        text = text.replace(pattern, name);
        local.push(declaration);
      }
      text += local.join("");
      if (file === "mod.d.ts") {
        // The entry point sits next to rafthttp.js ("types"; tsconfig paths to rafthttp.js).
        await Deno.writeTextFile(
          new URL("rafthttp.d.ts", dist),
          text.replace(/("\.\/)(src|raftpb|raft)\//g, "$1types/$2/"),
        );
        await Deno.remove(new URL(file, out));
      } else {
        await Deno.writeTextFile(new URL(file, out), text);
      }
    }
    await checkDeclarations();
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

/**
 * The declarations must stand alone: relative imports of files that exist,
 * @bufbuild/protobuf by its bare name, and no Deno types.
 */
async function checkDeclarations(): Promise<void> {
  const problems: string[] = [];
  const files = [
    "rafthttp.d.ts",
    ...(await declarationFiles(new URL("types/", dist))).map((f) => `types/${f}`),
  ];
  for (const file of files) {
    const url = new URL(file, dist);
    const text = await Deno.readTextFile(url);
    for (const s of specifiers(text)) {
      if (s.startsWith(".")) {
        if (!s.endsWith(".js")) problems.push(`${file}: imports ${s}`);
        else {
          await Deno.stat(new URL(s.replace(/\.js$/, ".d.ts"), url)).catch(() =>
            problems.push(`${file}: imports ${s}, which is missing`)
          );
        }
      } else if (!/^@bufbuild\/protobuf(\/[a-z0-9]+)?$/.test(s)) {
        problems.push(`${file}: imports ${s}`);
      }
    }
    const code = text.replace(/\/\*[\s\S]*?\*\//g, "");
    if (/\bDeno\./.test(code)) problems.push(`${file}: uses Deno's types`);
  }
  if (problems.length > 0) throw new Error(`dist/ declarations:\n  ${problems.join("\n  ")}`);
}

/** Writes dist/package.json and copies README.md and LICENSE in. */
async function npmPackage(m: Awaited<ReturnType<typeof manifest>>): Promise<void> {
  const pkg = {
    name: m.name,
    version: m.version,
    description:
      "etcd's rafthttp (the network layer of a Raft cluster, wire-compatible with etcd 3.4+ peers) over Web-standard APIs",
    license: m.license,
    type: "module",
    exports: {
      ".": { types: "./rafthttp.d.ts", default: "./rafthttp.js" },
      ...Object.fromEntries(
        BUNDLED_LAYERS.map((
          l,
        ) => [`./${l}`, { types: `./types/${l}/mod.d.ts`, default: `./${l}.js` }]),
      ),
    },
    main: "./rafthttp.js",
    types: "./rafthttp.d.ts",
    files: ["rafthttp.js", "rafthttp.d.ts", ...BUNDLED_LAYERS.map((l) => `${l}.js`), "types/"],
    // Types only: rafthttp.js has @bufbuild/protobuf inside, its declarations import its types.
    dependencies: { "@bufbuild/protobuf": m.protobuf },
  };
  await Deno.writeTextFile(new URL("package.json", dist), JSON.stringify(pkg, null, 2) + "\n");
  for (const file of ["README.md", "LICENSE"]) {
    await Deno.copyFile(new URL(file, root), new URL(file, dist));
  }
}

/** The layers bundled beside the transport: those free of runtime APIs. */
export const BUNDLED_LAYERS = ["raftpb", "raft"] as const;

/** A layer's bundle must stand alone: it imports nothing at all. */
async function bundleLayer(layer: string): Promise<void> {
  await bundle(`${layer}/mod.ts`, `dist/${layer}.js`);
  const text = await Deno.readTextFile(new URL(`dist/${layer}.js`, root));
  const left = [
    ...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*"([^"]+)"|\bimport\(\s*"([^"]+)"/gm),
  ];
  if (left.length > 0) {
    throw new Error(`dist/${layer}.js still imports ${left.map((m) => m[1] ?? m[2]).join(", ")}`);
  }
}

/** Builds dist/; returns the path of the module bundle. */
export async function build(): Promise<string> {
  await bundle("mod.ts", "dist/rafthttp.js");
  for (const layer of BUNDLED_LAYERS) await bundleLayer(layer);
  for (const member of ["workerd_member", "node_member"]) {
    await bundle(`tests/runtimes/${member}.ts`, `dist/runtimes/${member}.js`, [
      "--external",
      "@rafthttp/rafthttp",
    ]);
  }
  const out = new URL("dist/rafthttp.js", root);
  const text = await Deno.readTextFile(out);
  // The bundle must stand alone: no imports left but the lazy node:fs/promises
  // of the default snapshot sink (a custom sink never loads it) and the lazy
  // node:http of serveNode() and node:http/node:https of nodeDialer() (loaded
  // when called, so workerd never does), and the snapshot extension's
  // node:zlib / node:crypto (digests) and node:os (its temporary directory),
  // each imported in a try when a snapshot first moves (workerd falls back to
  // WebCrypto, or to the plain protocol).
  const statics = [
    ...[...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*"([^"]+)"/gm)].map((m) => m[1]),
    ...[...text.matchAll(/^\s*import\s*"([^"]+)"/gm)].map((m) => m[1]),
  ];
  const lazy = [
    "node:fs/promises",
    "node:http",
    "node:https",
    "node:zlib",
    "node:crypto",
    "node:os",
  ];
  const unexpected = [
    ...statics,
    ...[...text.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g)].map((m) => m[1])
      .filter((s) => !lazy.includes(s)),
  ];
  if (unexpected.length > 0) {
    throw new Error(`dist/rafthttp.js still imports ${unexpected.join(", ")}`);
  }
  const m = await manifest();
  await declarations(m.protobuf);
  await npmPackage(m);
  return out.pathname;
}

if (import.meta.main) {
  const path = await build();
  console.log(`built ${path} (${(await Deno.stat(path)).size} bytes), its types and package.json`);
}
