/**
 * The command line of one KV member: raftexample's flags (`--id`,
 * `--cluster`, `--port`, `--join`), plus ours for the data directory,
 * snapshots, timeouts, and for fault tests: test hooks, a lazy disk and
 * planted bugs.
 *
 * @module
 */

/**
 * The bugs a member can be started with on purpose (`--plant-bug`, with
 * `--test-hooks` only), to show that a fault campaign catches them:
 * `ack-before-commit` (a PUT is answered once proposed, before commit),
 * `stale-read` (a linearizable GET is served from local state, without the
 * ReadIndex round), `ack-before-fsync` (a follower acknowledges entries
 * before their fsync: the replica's planted bug `ackBeforeFsync`).
 */
export const PLANTED_BUGS = ["ack-before-commit", "stale-read", "ack-before-fsync"] as const;

/** One of {@link PLANTED_BUGS}. */
export type PlantedBug = typeof PLANTED_BUGS[number];

/** What one member is told on its command line. */
export interface KvArgs {
  /** This member's id: its 1-based position in `cluster`. */
  id: bigint;
  /** Peer URLs of the members, in id order (raftexample's `--cluster`). */
  cluster: string[];
  /** Port of the key-value HTTP API. */
  port: number;
  /** Address the key-value HTTP API listens on. */
  host: string;
  /** Join a running cluster: start with no log and wait for the leader's. */
  join: boolean;
  /** Where the write-ahead log and snapshots live. */
  dataDir: string;
  /** Take a snapshot after this many applied entries (raftexample: 10000). */
  snapshotCount: number;
  /** Entries kept behind a snapshot for slow followers (raftexample: 10000). */
  catchUpEntries: number;
  /** Time after which a PUT, GET or membership change gets 503, ms. */
  requestTimeoutMs: number;
  /** Raft tick period, ms (raftexample: 100). */
  tickMs: number;
  /** Serve the `/_test/...` endpoints (partitions, status, disk faults) for fault tests. */
  testHooks: boolean;
  /**
   * The raft storage holds written bytes in memory until their fsync (as
   * LazyFS): a SIGKILL then loses exactly what was not fsynced.
   */
  lazyDisk: boolean;
  /**
   * Put the fault layer under the raft storage so that the disk hooks can
   * arm faults (needs `testHooks`); without it the storage runs on the real
   * file system, as in production.
   */
  diskFaults: boolean;
  /** A bug planted on purpose, for fault tests (needs `testHooks`). */
  plantBug: PlantedBug | undefined;
  /**
   * Share a cluster with Go raftexample: proposals as its gob stream, raft
   * without PreVote and CheckQuorum (as raftexample), snapshots always inside
   * the MsgSnap (raftexample cannot take a streamed one).
   */
  raftexampleCompat: boolean;
  /** Record each write's steps and write them to this file (JSON lines) on exit. */
  trace?: string;
}

/**
 * A command line that cannot be used; the message says which flag and why.
 *
 * @example
 * ```ts
 * import { ArgsError, parseArgs } from "./args.ts";
 * try {
 *   parseArgs(["--id", "x"]);
 * } catch (e) {
 *   console.log(e instanceof ArgsError); // true
 * }
 * ```
 */
export class ArgsError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "ArgsError";
  }
}

/** Usage text printed with an {@link ArgsError}. */
export const USAGE = `usage: deno task kv [flags]
  --id N                  member id, its position in --cluster (default 1)
  --cluster URL,URL,...   peer URLs of all members (default http://127.0.0.1:9021)
  --port P                key-value HTTP API port (default 9121)
  --join                  join an existing cluster (after POST /ID on a member)
  --host H                address of the key-value API (default 127.0.0.1)
  --data-dir D            write-ahead log and snapshots (default kv-N)
  --snapshot-count N      applied entries between snapshots (default 10000)
  --catch-up-entries N    entries kept after a snapshot for slow followers (default 10000)
  --request-timeout-ms N  a request not done by then gets 503 (default 5000)
  --tick-ms N             raft tick period (default 100)
  --raftexample-compat    share a cluster with Go raftexample (gob proposals, its raft settings)
  --trace FILE            record each write's steps; written to FILE (JSON lines) on exit
 for fault tests only:
  --test-hooks            serve POST /_test/cut/ID, /_test/mend/ID, /_test/transfer/ID,
                          /_test/disk/fail-fsync (the next fsync fails: the member stops, exit 1),
                          /_test/disk/tear (the next WAL sync writes half its batch, then SIGKILL)
                          /_test/disk/slow/MS (every fsync waits MS first; 0 ends it)
                          (these three with --disk-faults),
                          /_test/snapshot (204 once a snapshot at the applied index is saved),
                          /_test/joint (JSON {"add":[{"id":"6","url":"http://h:p"}],"remove":["2"]}:
                          one joint-consensus change, 204 once applied here), GET /_test/status
  --disk-faults           with --test-hooks: the storage on a fault layer the disk hooks arm
  --lazy-disk             hold WAL and snapshot writes in memory until their fsync (as LazyFS):
                          a SIGKILL loses exactly what was not fsynced
  --plant-bug NAME        with --test-hooks: run with a bug, to show a campaign finds it:
                          ack-before-commit, stale-read or ack-before-fsync`;

const BOOLEAN = new Set(["join", "test-hooks", "raftexample-compat", "lazy-disk", "disk-faults"]);
const VALUED = new Set([
  "id",
  "cluster",
  "port",
  "host",
  "data-dir",
  "snapshot-count",
  "catch-up-entries",
  "request-timeout-ms",
  "tick-ms",
  "trace",
  "plant-bug",
]);

/** Splits `-flag`, `--flag`, `--flag=value` and `--flag value` as Go's flag package does. */
function collect(argv: string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const m = /^--?([a-z][a-z-]*)(?:=(.*))?$/s.exec(arg);
    if (m === null) throw new ArgsError(`unexpected argument "${arg}"`);
    const [, name, inline] = m;
    if (BOOLEAN.has(name)) {
      if (inline !== undefined && inline !== "true" && inline !== "false") {
        throw new ArgsError(`--${name} takes no value or =true/=false, got "${inline}"`);
      }
      flags.set(name, inline ?? "true");
    } else if (VALUED.has(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new ArgsError(`--${name} needs a value`);
      flags.set(name, value);
    } else {
      throw new ArgsError(`unknown flag --${name}`);
    }
  }
  return flags;
}

function integer(flags: Map<string, string>, name: string, fallback: number, min: number): number {
  const raw = flags.get(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min) {
    throw new ArgsError(`--${name} must be an integer >= ${min}, got "${raw}"`);
  }
  return n;
}

function clusterUrls(raw: string): string[] {
  const urls = raw.split(",").map((u) => u.trim());
  for (const u of urls) {
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      throw new ArgsError(`--cluster has an invalid URL "${u}"`);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new ArgsError(`--cluster URL "${u}" must be http:// or https://`);
    }
    if (parsed.port === "") throw new ArgsError(`--cluster URL "${u}" needs a port`);
  }
  return urls;
}

/**
 * Parses a member's command line; throws {@link ArgsError} on a bad one.
 *
 * @example
 * ```ts
 * import { parseArgs } from "./args.ts";
 * const a = parseArgs(["--id", "2", "--cluster", "http://127.0.0.1:12379,http://127.0.0.1:22379", "--port", "22380"]);
 * console.log(a.id, a.port, a.dataDir); // 2n 22380 kv-2
 * ```
 */
export function parseArgs(argv: string[]): KvArgs {
  const flags = collect(argv);
  const cluster = clusterUrls(flags.get("cluster") ?? "http://127.0.0.1:9021");
  const id = integer(flags, "id", 1, 1);
  if (id > cluster.length) {
    throw new ArgsError(`--id ${id} has no URL in --cluster (${cluster.length} given)`);
  }
  const port = integer(flags, "port", 9121, 0);
  if (port > 65535) throw new ArgsError(`--port must be at most 65535, got ${port}`);
  const testHooks = flags.get("test-hooks") === "true";
  return {
    id: BigInt(id),
    cluster,
    port,
    host: flags.get("host") ?? "127.0.0.1",
    join: flags.get("join") === "true",
    dataDir: flags.get("data-dir") ?? `kv-${id}`,
    snapshotCount: integer(flags, "snapshot-count", 10000, 1),
    catchUpEntries: integer(flags, "catch-up-entries", 10000, 0),
    requestTimeoutMs: integer(flags, "request-timeout-ms", 5000, 1),
    tickMs: integer(flags, "tick-ms", 100, 1),
    testHooks,
    raftexampleCompat: flags.get("raftexample-compat") === "true",
    ...(flags.has("trace") ? { trace: flags.get("trace") } : {}),
    lazyDisk: flags.get("lazy-disk") === "true",
    diskFaults: diskFaults(flags.get("disk-faults") === "true", testHooks),
    plantBug: plantedBug(flags.get("plant-bug"), testHooks),
  };
}

function diskFaults(on: boolean, testHooks: boolean): boolean {
  if (on && !testHooks) {
    throw new ArgsError("--disk-faults is for fault tests only: it needs --test-hooks");
  }
  return on;
}

function plantedBug(name: string | undefined, testHooks: boolean): PlantedBug | undefined {
  if (name === undefined) return undefined;
  if (!testHooks) {
    throw new ArgsError(`--plant-bug is for fault tests only: it needs --test-hooks`);
  }
  const bug = PLANTED_BUGS.find((b) => b === name);
  if (bug === undefined) {
    throw new ArgsError(`--plant-bug must be one of ${PLANTED_BUGS.join(", ")}, got "${name}"`);
  }
  return bug;
}
