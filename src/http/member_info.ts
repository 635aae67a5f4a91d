/**
 * One member as `GET /members` lists it: shared by the option that supplies
 * the list and the receiver that serves it.
 *
 * @module
 */

/**
 * One member as `GET /members` lists it (etcd's `membership.Member`).
 *
 * @example
 * ```ts
 * import type { MemberInfo } from "@rafthttp/rafthttp";
 * const m: MemberInfo = { id: 0x8e9e05c52164694dn, name: "m1", peerURLs: ["http://10.0.0.1:2380"] };
 * console.log(m.peerURLs.length); // 1
 * ```
 */
export interface MemberInfo {
  /** The member's id. */
  id: bigint;
  /** Its name (omitted from the JSON when empty, as etcd does). */
  name?: string;
  /** Its peer URLs. */
  peerURLs: readonly string[];
  /** Its client URLs (omitted when empty). */
  clientURLs?: readonly string[];
  /** True for a learner (omitted when false). */
  isLearner?: boolean;
}
