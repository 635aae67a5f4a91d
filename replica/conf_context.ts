/**
 * The context of a ConfChangeV2 made by `changeMembership`: the request id
 * (a ConfChangeV2 has no `id` field, and the replica matches an applied
 * change to its request by it) and the peer URLs of each member it adds,
 * as UTF-8 JSON: `{"v":1,"id":"<decimal>","urls":{"4":["http://…"],…}}`.
 * A V1 ConfChange keeps its context as it was, the one member's URLs
 * comma-separated (`encodeUrlsContext`), as the KV and raftexample write
 * it; a URL never starts with `{`, so the two never meet.
 *
 * @module
 */

import type { ConfChangeType } from "../raftpb/mod.ts";
import { decodeUrlsContext } from "./member_table.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const OPEN_BRACE = 0x7b;
const DECIMAL = /^[0-9]{1,20}$/;

/**
 * What a multi-member context carries.
 *
 * @example
 * ```ts
 * import type { MembersContext } from "@rafthttp/rafthttp/replica";
 * const c: MembersContext = { requestId: 7n, urls: new Map([[4n, ["http://127.0.0.1:9004"]]]) };
 * console.log(c.urls.get(4n)); // [ "http://127.0.0.1:9004" ]
 * ```
 */
export interface MembersContext {
  /** The request id the proposer waits on (0n: none). */
  requestId: bigint;
  /** Peer URLs of the members the change adds (or promotes), by id. */
  urls: ReadonlyMap<bigint, readonly string[]>;
}

interface ContextJson {
  v: 1;
  id: string;
  urls: Record<string, string[]>;
}

/**
 * Encodes a multi-member context (see the module's doc for the bytes).
 *
 * @example
 * ```ts
 * import { encodeMembersContext } from "@rafthttp/rafthttp/replica";
 * const bytes = encodeMembersContext({ requestId: 7n, urls: new Map([[4n, ["http://h:1"]]]) });
 * console.log(new TextDecoder().decode(bytes)); // {"v":1,"id":"7","urls":{"4":["http://h:1"]}}
 * ```
 */
export function encodeMembersContext(c: MembersContext): Uint8Array {
  const json: ContextJson = {
    v: 1,
    id: `${c.requestId}`,
    urls: Object.fromEntries([...c.urls].map(([id, u]) => [`${id}`, [...u]])),
  };
  return encoder.encode(JSON.stringify(json));
}

/**
 * Decodes a multi-member context; undefined for anything else (empty, a V1
 * URL list, a context some other program wrote), which is never an error:
 * every replica must apply every committed change, whatever its context.
 *
 * @example
 * ```ts
 * import { decodeMembersContext, encodeMembersContext } from "@rafthttp/rafthttp/replica";
 * const urls = new Map([[4n, ["http://h:1"]], [5n, ["http://h:2", "http://h:3"]]]);
 * const c = decodeMembersContext(encodeMembersContext({ requestId: 7n, urls }))!;
 * console.log(c.requestId, c.urls.get(5n)); // 7n [ "http://h:2", "http://h:3" ]
 * console.log(decodeMembersContext(new TextEncoder().encode("http://h:1"))); // undefined
 * ```
 */
export function decodeMembersContext(context: Uint8Array): MembersContext | undefined {
  if (context.length === 0 || context[0] !== OPEN_BRACE) return undefined;
  let json: Partial<ContextJson>;
  try {
    json = JSON.parse(decoder.decode(context));
  } catch {
    return undefined;
  }
  if (json?.v !== 1 || typeof json.id !== "string" || !DECIMAL.test(json.id)) return undefined;
  if (typeof json.urls !== "object" || json.urls === null) return undefined;
  const urls = new Map<bigint, string[]>();
  for (const [id, list] of Object.entries(json.urls)) {
    if (!DECIMAL.test(id) || !Array.isArray(list)) return undefined;
    if (!list.every((u) => typeof u === "string")) return undefined;
    urls.set(BigInt(id), list);
  }
  return { requestId: BigInt(json.id), urls };
}

/**
 * The peer URLs a change's context gives, by member: a multi-member
 * context's table, or a V1 context's URL list for the one member a
 * single-step change names; empty otherwise.
 *
 * @example
 * ```ts
 * import { ConfChangeType } from "@rafthttp/rafthttp";
 * import { contextUrls } from "./conf_context.ts";
 * const steps = [{ type: ConfChangeType.ConfChangeAddNode, nodeId: 4n }];
 * console.log(contextUrls(new TextEncoder().encode("http://h:1"), steps)); // Map(1) { 4n => [ "http://h:1" ] }
 * ```
 */
export function contextUrls(
  context: Uint8Array,
  steps: readonly { type: ConfChangeType; nodeId: bigint }[],
): Map<bigint, readonly string[]> {
  const multi = decodeMembersContext(context);
  if (multi !== undefined) return new Map(multi.urls);
  if (steps.length !== 1) return new Map();
  return new Map([[steps[0].nodeId, decodeUrlsContext(context)]]);
}
