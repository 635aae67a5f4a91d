/**
 * The one place that decides, from what the runtime offers, how the
 * transport reaches peers by default: `node:http` where its client runs on
 * the runtime's own sockets (measured faster than fetch there), else fetch.
 * Nothing else in the transport asks which runtime it is on.
 *
 * @module
 */

/**
 * The default way to send requests to peers: `"node:http"` (a
 * `nodeDialer`) or `"fetch"` (a `fetchDialer` over the global fetch).
 *
 * @example
 * ```ts
 * import type { DefaultEdge } from "./runtime.ts";
 * const edge: DefaultEdge = "fetch";
 * console.log(edge); // fetch
 * ```
 */
export type DefaultEdge = "node:http" | "fetch";

/**
 * The globals the decision reads. A parameter, so that a test can pose as
 * any runtime; by default the real `globalThis`.
 *
 * @example
 * ```ts
 * import type { RuntimeGlobals } from "./runtime.ts";
 * const node: RuntimeGlobals = { process: { versions: { node: "22.0.0", uv: "1.51.0" } } };
 * console.log(node.process?.versions?.node); // 22.0.0
 * ```
 */
export interface RuntimeGlobals {
  /** Deno's namespace: `Deno.version.deno` is a version string on Deno. */
  Deno?: { version?: { deno?: unknown } };
  /** Bun's namespace. */
  Bun?: unknown;
  /** Node's `process` (Deno, Bun and workerd also offer one). */
  process?: { versions?: Record<string, unknown> };
}

/** A version string that is there and not empty (workerd reports `uv: ""`). */
function present(v: unknown): boolean {
  return typeof v === "string" && v !== "";
}

/**
 * Which edge the transport dials peers with when given no `dialer` or
 * `fetch`, from features rather than the runtime's name:
 *
 * - Deno (its `Deno.version.deno`): `node:http` runs on Deno's own sockets
 *   and reads a peer's many small flushes several times faster than fetch.
 * - Bun (`process.versions.bun`, or its `Bun` global): fetch; Bun's
 *   `node:http` client is built on its fetch, so it would add a layer.
 * - Node.js (`process.versions.node` with a real libuv, `process.versions.uv`):
 *   `node:http` on libuv sockets.
 * - Anything else, workerd included (its `process` reports Node's version
 *   but an empty `uv`: its `node:http` client is built on fetch): fetch.
 *
 * `node:http` cannot be probed by importing it here: the choice is made
 * synchronously, when the options are resolved.
 *
 * @example
 * ```ts
 * import { defaultEdge } from "./runtime.ts";
 * console.log(defaultEdge({ process: { versions: { node: "22.0.0", uv: "1.51.0" } } })); // node:http
 * console.log(defaultEdge({ process: { versions: { node: "22.0.0", bun: "1.2.0", uv: "1.48.0" } } })); // fetch
 * console.log(defaultEdge({})); // fetch
 * ```
 */
export function defaultEdge(g: RuntimeGlobals = globalThis as RuntimeGlobals): DefaultEdge {
  if (present(g.Deno?.version?.deno)) return "node:http";
  const versions = g.process?.versions ?? {};
  if (g.Bun !== undefined || present(versions.bun)) return "fetch";
  if (present(versions.node) && present(versions.uv)) return "node:http";
  return "fetch";
}
