/**
 * The one-time migration of a data directory written by the KV before it
 * ran on the replica layer (up to commit 501e411). The write-ahead log is
 * the same (the entries are the codec's bytes, which the replica keeps as
 * raw entries); what differs is where a snapshot's parts live:
 *
 * | what                 | before                                  | replica                                     |
 * | -------------------- | --------------------------------------- | ------------------------------------------- |
 * | the map (JSON)       | the raft snapshot's `data`              | `snap.db/%016x.snap.db`                     |
 * | peer URLs, removals  | `members.json`                          | the raft snapshot's `data` (the URL table)  |
 *
 * For each raft snapshot file (`raft/snap/%016x-%016x.snap`) whose data is
 * not a URL table, the map is written to its `snap.db` file (kept if there
 * already), then the raft snapshot is written again with the URL table
 * from `--cluster` and `members.json` (the file wins, as it did). Last,
 * `members.json` is renamed `members.json.migrated`. Every step is atomic
 * and the whole is idempotent: interrupted, it is done again at the next
 * start, since `members.json` and the files not yet rewritten are still
 * there.
 *
 * @module
 */

import type { Logger, Snapshot } from "../../mod.ts";
import { MemberTable, SnapshotFiles } from "../../replica/mod.ts";
import { Snapshotter } from "../../storage/mod.ts";

interface MembersFile {
  urls?: Record<string, string>;
  removed?: string[];
}

async function readMembersFile(path: string): Promise<MembersFile | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as MembersFile;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw new Error(`cannot read ${path}: ${(e as Error).message}; fix or delete the file`);
  }
}

/** The URL table the old member knew: `--cluster` (member i+1 at i), then `members.json`. */
function tableOf(cluster: readonly string[], file: MembersFile | undefined): MemberTable {
  const urls = new Map<bigint, string[]>(cluster.map((u, i) => [BigInt(i + 1), [u]]));
  for (const [id, url] of Object.entries(file?.urls ?? {})) urls.set(BigInt(id), [url]);
  return new MemberTable(urls, (file?.removed ?? []).map((id) => BigInt(id)));
}

/** True if a raft snapshot's data is the old layout's map rather than a URL table. */
function holdsTheMap(snap: Snapshot): boolean {
  try {
    MemberTable.decode(snap.data);
    return false;
  } catch {
    return true;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * Migrates `dataDir` from the old layout if it has one; true if it did
 * anything. Run before `startReplica` opens the directory.
 *
 * @example
 * ```ts
 * import { silentLogger } from "@rafthttp/rafthttp";
 * import { migrateDataDir } from "./migrate.ts";
 * const dir = await Deno.makeTempDir();
 * console.log(await migrateDataDir(dir, ["http://127.0.0.1:9021"], silentLogger)); // false: nothing old
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function migrateDataDir(
  dataDir: string,
  cluster: readonly string[],
  log: Logger,
): Promise<boolean> {
  const membersPath = `${dataDir}/members.json`;
  const file = await readMembersFile(membersPath);
  let rewritten = 0;
  if (await exists(`${dataDir}/raft/snap`)) {
    const snapshotter = await Snapshotter.open(`${dataDir}/raft/snap`, log);
    const files = new SnapshotFiles(`${dataDir}/snap.db`);
    const table = tableOf(cluster, file).encode();
    for (const f of await snapshotter.list()) {
      const snap = await snapshotter.read(f);
      if (snap === undefined || !holdsTheMap(snap)) continue;
      await files.write(f.index, snap.data, AbortSignal.timeout(60_000));
      await snapshotter.save({ ...snap, data: table });
      rewritten++;
    }
  }
  if (file !== undefined) await Deno.rename(membersPath, `${membersPath}.migrated`);
  if (rewritten === 0 && file === undefined) return false;
  log.warn("migrated a data directory of the KV before the replica layer", {
    dataDir,
    snapshots: rewritten,
    membersFile: file !== undefined,
  });
  return true;
}
