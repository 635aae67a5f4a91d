/**
 * The extensions a transport speaks unless its options list their own.
 *
 * @module
 */

import type { TransportExtension } from "../extension/extension.ts";
import { snapshotResume } from "./snapshot_resume/mod.ts";

/**
 * The extensions a transport speaks when `TransportOptions.extensions` is
 * not given: `[snapshotResume()]` (snapshot digests, retries and resumed
 * transfers with members of this library). Fresh values on every call.
 *
 * @example
 * ```ts
 * import { defaultExtensions } from "@rafthttp/rafthttp";
 * console.log(defaultExtensions().map((e) => e.name)); // [ "snapshot-resume" ]
 * ```
 */
export function defaultExtensions(): TransportExtension[] {
  return [snapshotResume()];
}
