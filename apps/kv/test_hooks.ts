/**
 * The `/_test/...` endpoints of a member, for fault tests only (served with
 * `--test-hooks`):
 *
 * - `POST /_test/cut/ID`, `/_test/mend/ID`: drop (or stop dropping) all raft
 *   traffic with peer ID; `POST /_test/transfer/ID`: ask for a leadership
 *   transfer to ID; `GET /_test/status`: the raft status as JSON.
 * - `POST /_test/disk/fail-fsync`: the next fsync fails; the member stops
 *   and the process exits 1 with a message naming the file.
 * - `POST /_test/disk/tear`: the next WAL sync writes only half of its
 *   batch, then the process kills itself with SIGKILL.
 * - `POST /_test/snapshot`: a snapshot at the applied index; 204 once saved.
 * - `POST /_test/joint` with `{"add":[{"id":"6","url":"http://h:p"}],"remove":["2"]}`:
 *   one membership change through joint consensus; 204 once applied here,
 *   400 for a bad body or a change the configuration refuses.
 *
 * Each answers 204 when done, 404 for a hook this member does not have.
 *
 * @module
 */

import { ConfChangeError } from "../../raft/mod.ts";
import type { MembershipUpdate } from "../../replica/mod.ts";

/** The `/_test/...` endpoints' work, for fault tests only (`--test-hooks`). */
export interface KvTestHooks {
  /** Drops all raft traffic with peer `id` (the transport's `cutPeer`). */
  cut(id: bigint): void;
  /** Undoes {@link KvTestHooks.cut}. */
  mend(id: bigint): void;
  /** The member's raft status, as JSON-ready data. */
  status(): unknown;
  /** Asks the leader (through this member) to hand leadership to member `id`. */
  transfer?(id: bigint): void;
  /** The next fsync of the raft storage fails (the member then stops). */
  failFsync?(): void;
  /** The next WAL sync is torn, and the process killed. */
  tear?(): void;
  /** Every fsync of the raft storage waits `ms` first (a slow disk; 0 ends it). */
  slowFsync?(ms: number): void;
  /** Takes a snapshot at the applied index; resolves once it is saved. */
  snapshot?(): Promise<void>;
  /** One membership change through joint consensus; resolves once applied here. */
  joint?(update: MembershipUpdate, signal: AbortSignal): Promise<void>;
}

const TEXT = { "content-type": "text/plain; charset=utf-8" };
const MAX_BODY = 64 << 10;

function text(status: number, body: string): Response {
  return new Response(body === "" ? null : body, { status, headers: TEXT });
}

/** A member id in a hook's JSON: a decimal string or a safe integer, above 0. */
function memberId(v: unknown, where: string): bigint {
  const ok = (typeof v === "string" && /^[1-9][0-9]{0,19}$/.test(v)) ||
    (typeof v === "number" && Number.isSafeInteger(v) && v > 0);
  const id = ok ? BigInt(v as string | number) : 0n;
  if (id <= 0n || id >= 1n << 64n) {
    throw new RangeError(
      `${where} must be a member id (a positive decimal), got ${JSON.stringify(v)}`,
    );
  }
  return id;
}

/**
 * Reads `POST /_test/joint`'s body: `add` (objects with `id` and `url`) and
 * `remove` (ids), at least one change in all. Throws RangeError saying what
 * is wrong.
 *
 * @example
 * ```ts
 * import { parseJointBody } from "./test_hooks.ts";
 * const u = parseJointBody('{"add":[{"id":"6","url":"http://127.0.0.1:9006"}],"remove":["2"]}');
 * console.log(u.add?.[0].id, u.remove); // 6n [ 2n ]
 * ```
 */
export function parseJointBody(body: string): MembershipUpdate {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    throw new RangeError("the body must be JSON");
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new RangeError('the body must be a JSON object {"add": [...], "remove": [...]}');
  }
  const o = v as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => k !== "add" && k !== "remove");
  if (unknown.length > 0) throw new RangeError(`unknown field ${unknown[0]} (add, remove)`);
  const list = (k: string) => {
    if (o[k] === undefined) return [];
    if (!Array.isArray(o[k])) throw new RangeError(`${k} must be an array`);
    return o[k] as unknown[];
  };
  const add = list("add").map((a, i) => {
    if (typeof a !== "object" || a === null) throw new RangeError(`add[${i}] must be an object`);
    const { id, url } = a as Record<string, unknown>;
    if (typeof url !== "string" || !URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
      throw new RangeError(`add[${i}].url must be a peer URL (http://host:port)`);
    }
    return { id: memberId(id, `add[${i}].id`), urls: url };
  });
  const remove = list("remove").map((id, i) => memberId(id, `remove[${i}]`));
  if (add.length + remove.length === 0) throw new RangeError("the change adds and removes nobody");
  return { add, remove };
}

/** Answers a `/_test/...` request (`path` starts with `/_test/`). */
export async function testHook(
  req: Request,
  path: string,
  hooks: KvTestHooks,
  signal: AbortSignal,
): Promise<Response> {
  const method = req.method;
  if (path === "/_test/status" && method === "GET") {
    const body = JSON.stringify(hooks.status(), (_k, v) => typeof v === "bigint" ? `${v}` : v);
    return new Response(body, { headers: { "content-type": "application/json" } });
  }
  if (method !== "POST") return text(404, "unknown test hook\n");
  if (path === "/_test/disk/fail-fsync" && hooks.failFsync) hooks.failFsync();
  else if (path === "/_test/disk/tear" && hooks.tear) hooks.tear();
  else if (path.startsWith("/_test/disk/slow/") && hooks.slowFsync) {
    const ms = /^\/_test\/disk\/slow\/(\d{1,5})$/.exec(path)?.[1];
    if (ms === undefined || Number(ms) > 60_000) {
      return text(400, "/_test/disk/slow/MS takes a delay from 0 to 60000 ms\n");
    }
    hooks.slowFsync(Number(ms));
  } else if (path === "/_test/snapshot" && hooks.snapshot) await hooks.snapshot();
  else if (path === "/_test/joint" && hooks.joint) return await joint(req, hooks.joint, signal);
  else {
    const m = /^\/_test\/(cut|mend|transfer)\/(\d+)$/.exec(path);
    if (m === null) return text(404, "unknown test hook\n");
    const id = BigInt(m[2]);
    if (m[1] === "cut") hooks.cut(id);
    else if (m[1] === "mend") hooks.mend(id);
    else if (hooks.transfer !== undefined) hooks.transfer(id);
    else return text(404, "unknown test hook\n");
  }
  return text(204, "");
}

async function joint(
  req: Request,
  change: NonNullable<KvTestHooks["joint"]>,
  signal: AbortSignal,
): Promise<Response> {
  const bytes = new Uint8Array(await req.arrayBuffer());
  if (bytes.length > MAX_BODY) return text(413, `body larger than ${MAX_BODY} bytes\n`);
  let update: MembershipUpdate;
  try {
    update = parseJointBody(new TextDecoder().decode(bytes));
  } catch (e) {
    return text(400, `${(e as Error).message}\n`);
  }
  try {
    await change(update, signal);
  } catch (e) {
    if (e instanceof RangeError || e instanceof ConfChangeError) {
      return text(400, `the change was refused: ${e.message}\n`);
    }
    throw e;
  }
  return text(204, "");
}
