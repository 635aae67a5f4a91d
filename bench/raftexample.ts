/**
 * Finds or builds etcd 3.4's contrib/raftexample (Go) for the kv-bench
 * comparison, offline, from Debian's golang-etcd-server-dev sources:
 * `GO111MODULE=off GOPATH=<tmp>:/usr/share/gocode go build`. The binary goes
 * to `.tools/raftexample/raftexample` (git-ignored) and is reused.
 *
 * Run alone to build it: `deno run -A bench/raftexample.ts`.
 *
 * @module
 */

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const GOPATH_SHARE = "/usr/share/gocode";
const PACKAGE = "go.etcd.io/etcd/contrib/raftexample";

/** The binary's default location in this checkout. */
export const RAFTEXAMPLE_BIN = `${ROOT}/.tools/raftexample/raftexample`;

/** raftexample cannot be found or built; the message says what to install. */
export class RaftexampleUnavailableError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "RaftexampleUnavailableError";
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function goVersion(): Promise<string | undefined> {
  try {
    const out = await new Deno.Command("go", { args: ["version"], stdout: "piped", stderr: "null" })
      .output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : undefined;
  } catch {
    return undefined; // not on PATH
  }
}

/** Returns the path of a raftexample binary, building it first when missing. */
export async function ensureRaftexample(bin = RAFTEXAMPLE_BIN): Promise<string> {
  if (await exists(bin)) return bin;
  const go = await goVersion();
  if (go === undefined) {
    throw new RaftexampleUnavailableError(
      "cannot build raftexample: `go` is not on PATH; install Go (Debian: apt-get install golang-go)",
    );
  }
  if (!await exists(`${GOPATH_SHARE}/src/${PACKAGE}/main.go`)) {
    throw new RaftexampleUnavailableError(
      `cannot build raftexample: its sources are not in ${GOPATH_SHARE}/src/${PACKAGE}; ` +
        "install Debian's golang-etcd-server-dev (etcd 3.4 sources)",
    );
  }
  await Deno.mkdir(bin.replace(/\/[^/]+$/, ""), { recursive: true });
  const gopath = await Deno.makeTempDir({ prefix: "raftexample_gopath_" });
  try {
    const out = await new Deno.Command("go", {
      args: ["build", "-o", bin, PACKAGE],
      env: { GO111MODULE: "off", GOPATH: `${gopath}:${GOPATH_SHARE}`, GOFLAGS: "", GOPROXY: "off" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      const err = new TextDecoder().decode(out.stderr).trim();
      throw new RaftexampleUnavailableError(`go build ${PACKAGE} failed (${go}):\n${err}`);
    }
  } finally {
    await Deno.remove(gopath, { recursive: true });
  }
  return bin;
}

if (import.meta.main) {
  try {
    console.log(await ensureRaftexample());
  } catch (e) {
    console.error((e as Error).message);
    Deno.exit(1);
  }
}
