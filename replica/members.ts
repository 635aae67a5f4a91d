/**
 * Who is in the cluster, as this member knows it: peer URLs (from
 * `--cluster` and from applied `POST /ID` conf changes) and the ids that
 * were removed. Kept in `members.json` in the data directory, so that a
 * restarted member still reaches members added, and still refuses members
 * removed, after the conf changes were compacted into a snapshot.
 *
 * @module
 */

interface MembersFile {
  urls: Record<string, string>;
  removed: string[];
}

/**
 * The membership record of one member.
 *
 * @example
 * ```ts
 * import { Members } from "./members.ts";
 * const dir = await Deno.makeTempDir();
 * const m = await Members.load(dir, ["http://127.0.0.1:12379", "http://127.0.0.1:22379"]);
 * await m.remove(2n);
 * console.log((await Members.load(dir, [])).isRemoved(2n)); // true
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class Members {
  readonly #path: string;
  readonly #urls: Map<bigint, string>;
  readonly #removed: Set<bigint>;
  readonly #removedAt = new Map<bigint, number>();

  private constructor(path: string, urls: Map<bigint, string>, removed: Set<bigint>) {
    this.#path = path;
    this.#urls = urls;
    this.#removed = removed;
  }

  /**
   * Reads `dir/members.json` (if any) over the `--cluster` list (member i+1
   * at cluster[i]); the file wins, as it records applied conf changes.
   */
  static async load(dir: string, cluster: string[]): Promise<Members> {
    const path = `${dir}/members.json`;
    const urls = new Map<bigint, string>(cluster.map((u, i) => [BigInt(i + 1), u]));
    const removed = new Set<bigint>();
    let file: MembersFile | undefined;
    try {
      file = JSON.parse(await Deno.readTextFile(path)) as MembersFile;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) {
        throw new Error(`cannot read ${path}: ${(e as Error).message}; fix or delete the file`);
      }
    }
    for (const [id, url] of Object.entries(file?.urls ?? {})) {
      urls.set(BigInt(id), url);
    }
    for (const id of file?.removed ?? []) removed.add(BigInt(id));
    return new Members(path, urls, removed);
  }

  /** Peer URL of member `id`, if known. */
  url(id: bigint): string | undefined {
    return this.#urls.get(id);
  }

  /** Known members that were not removed, with their URLs. */
  current(): [bigint, string][] {
    return [...this.#urls].filter(([id]) => !this.#removed.has(id));
  }

  /** True if member `id` was removed from the cluster. */
  isRemoved(id: bigint): boolean {
    return this.#removed.has(id);
  }

  /** When this process recorded the removal of `id` (performance.now()), if it did. */
  removedAt(id: bigint): number | undefined {
    return this.#removedAt.get(id);
  }

  /** Records an added member (an applied ConfChangeAddNode with its URL). */
  async add(id: bigint, url: string): Promise<void> {
    const changed = this.#urls.get(id) !== url || this.#removed.has(id);
    this.#urls.set(id, url);
    this.#removed.delete(id);
    if (changed) await this.#save();
  }

  /** Records a removed member. */
  async remove(id: bigint): Promise<void> {
    if (this.#removed.has(id)) return;
    this.#removed.add(id);
    this.#removedAt.set(id, performance.now());
    await this.#save();
  }

  /** Writes the record to a temporary file, fsyncs it, and renames it over the old one. */
  async #save(): Promise<void> {
    const body: MembersFile = {
      urls: Object.fromEntries([...this.#urls].map(([id, u]) => [`${id}`, u])),
      removed: [...this.#removed].map((id) => `${id}`),
    };
    const tmp = `${this.#path}.tmp`;
    await Deno.writeTextFile(tmp, JSON.stringify(body));
    using f = await Deno.open(tmp, { read: true, write: true });
    await f.sync();
    await Deno.rename(tmp, this.#path);
  }
}
