// Builds etcdpeer (this directory's Go program) into .tools/etcdpeer/etcdpeer
// when it is missing or older than its Go sources: offline, in GOPATH mode,
// against Debian's etcd 3.4.23 sources (golang-go, golang-etcd-server-dev).
// bench/compare.ts and tests/bench/peer_test.ts call ensureEtcdpeer();
// `deno run -A bench/etcdpeer/build.ts [--force]` builds by hand.

/** Where Debian's golang-* -dev packages put their sources (GOPATH layout). */
export const GOCODE = "/usr/share/gocode";
const ETCD_SRC = `${GOCODE}/src/go.etcd.io/etcd`;
const HINT = "install Debian's golang-go and golang-etcd-server-dev";

const SRC_DIR = new URL(".", import.meta.url);
const REPO = new URL("../../", import.meta.url);

/** The default binary: .tools/etcdpeer/etcdpeer in the repository. */
export const ETCDPEER_BIN = new URL(".tools/etcdpeer/etcdpeer", REPO).pathname;

/** Go or the etcd sources are not there: the binary cannot be built here. */
export class EtcdpeerUnavailable extends Error {}

/** A path relative to the repository root when it is inside, for messages. */
function shown(path: string): string {
  const root = REPO.pathname;
  return path.startsWith(root) ? path.slice(root.length) : path;
}

async function mtime(path: string): Promise<number | undefined> {
  try {
    return (await Deno.stat(path)).mtime?.getTime() ?? 0;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/** The newest modification time of the program's Go sources (tests excluded). */
async function sourcesTime(): Promise<number> {
  let newest = 0;
  for await (const e of Deno.readDir(SRC_DIR)) {
    if (!e.isFile || !e.name.endsWith(".go") || e.name.endsWith("_test.go")) continue;
    newest = Math.max(newest, (await mtime(new URL(e.name, SRC_DIR).pathname)) ?? 0);
  }
  return newest;
}

/** Why `bin` needs building ("missing", "older than its sources"), or undefined. */
export async function staleness(bin = ETCDPEER_BIN): Promise<string | undefined> {
  const t = await mtime(bin);
  if (t === undefined) return "missing";
  if (t < await sourcesTime()) return "older than its sources";
  return undefined;
}

/**
 * Checks that the build can run here: the etcd sources are installed and
 * `go` is on PATH. Returns go's version; throws EtcdpeerUnavailable.
 */
export async function buildPrerequisites(): Promise<string> {
  try {
    await Deno.stat(ETCD_SRC);
  } catch {
    throw new EtcdpeerUnavailable(`${ETCD_SRC} is missing; ${HINT}`);
  }
  try {
    const res = await new Deno.Command("go", { args: ["env", "GOVERSION"], stderr: "null" })
      .output();
    return new TextDecoder().decode(res.stdout).trim() || "go";
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new EtcdpeerUnavailable(`\`go\` is not on PATH; ${HINT}`);
    }
    throw e;
  }
}

/**
 * Builds the binary to `out` with
 * `GO111MODULE=off GOPATH=<temp>:/usr/share/gocode GOFLAGS= CGO_ENABLED=0
 * go build -trimpath -o <out> .`, into a temporary name renamed at the end,
 * so that a concurrent build or a failed one never leaves half a binary.
 * Throws EtcdpeerUnavailable when go or the etcd sources are missing, Error
 * when the build fails.
 */
export async function buildEtcdpeer(out = ETCDPEER_BIN): Promise<void> {
  await buildPrerequisites();
  const outDir = out.slice(0, out.lastIndexOf("/")) || "/";
  await Deno.mkdir(outDir, { recursive: true });
  const gopath = await Deno.makeTempDir({ prefix: "etcdpeer-gopath-" });
  const tmp = `${out}.${Deno.pid}.tmp`;
  try {
    const env: Record<string, string> = {
      GO111MODULE: "off",
      GOPATH: `${gopath}:${GOCODE}`,
      GOFLAGS: "",
      CGO_ENABLED: "0",
    };
    // go needs a build cache; without HOME it has no default one
    const home = Deno.env.get("HOME") ?? Deno.env.get("XDG_CACHE_HOME");
    if (home === undefined && Deno.env.get("GOCACHE") === undefined) {
      env.GOCACHE = `${gopath}/cache`;
    }
    let res: Deno.CommandOutput;
    try {
      res = await new Deno.Command("go", {
        args: ["build", "-trimpath", "-o", tmp, "."],
        cwd: SRC_DIR.pathname,
        env,
        stdout: "piped",
        stderr: "piped",
      }).output();
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new EtcdpeerUnavailable(`\`go\` is not on PATH; ${HINT}`);
      }
      throw e;
    }
    if (!res.success) {
      const dec = new TextDecoder();
      throw new Error(
        `building ${shown(out)} failed (go build exit ${res.code}):\n` +
          dec.decode(res.stdout) + dec.decode(res.stderr),
      );
    }
    await Deno.rename(tmp, out);
  } finally {
    await Deno.remove(tmp).catch(() => {});
    await Deno.remove(gopath, { recursive: true }).catch(() => {});
  }
}

/**
 * Makes sure `bin` (default .tools/etcdpeer/etcdpeer) exists and is not
 * older than its sources, building it if not, with one line on stderr.
 * Returns the path.
 */
export async function ensureEtcdpeer(bin = ETCDPEER_BIN, who = "etcdpeer"): Promise<string> {
  const why = await staleness(bin);
  if (why === undefined) return bin;
  const go = await buildPrerequisites();
  console.error(
    `${who}: building ${shown(bin)} from bench/etcdpeer (${why}; ${go}, etcd from ${GOCODE})`,
  );
  await buildEtcdpeer(bin);
  return bin;
}

if (import.meta.main) {
  try {
    if (Deno.args.includes("--force")) {
      const go = await buildPrerequisites();
      console.error(`etcdpeer: building ${shown(ETCDPEER_BIN)} from bench/etcdpeer (${go})`);
      await buildEtcdpeer();
    } else if (await staleness() === undefined) {
      console.error(`etcdpeer: ${shown(ETCDPEER_BIN)} is up to date`);
    } else {
      await ensureEtcdpeer();
    }
  } catch (e) {
    console.error(`etcdpeer: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
