/**
 * The snapshot extension between members of this library: digests over
 * framed windows, retries, and transfers that resume where the receiver
 * stands after a break. Negotiated per send with `GET /raft/snapshot/resume`,
 * to which an etcd member answers 404: it then gets etcd's protocol.
 *
 * @module
 */

import type { TransportExtension } from "../../extension/extension.ts";
import { resolveSnapshotResume, type SnapshotResumeOptions } from "./resume_options.ts";
import { ResumeStore } from "./resume_store.ts";
import { RESUME_PATH, resumeRoute } from "./resume.ts";
import { sendWithRetries } from "./resume_sender.ts";
import { extendReceive } from "./resume_receiver.ts";

export type { SnapshotResumeOptions } from "./resume_options.ts";

/**
 * The snapshot extension, for `TransportOptions.extensions`; on by default
 * (`defaultExtensions()`). Sends to members that speak it are checked per
 * window, retried with backoff and resumed from what the receiver kept;
 * their broken receives are kept (bounded in bytes and time) for the
 * sender's retry. Options are checked here: a RangeError or TypeError names
 * `snapshotResume.<option>`.
 *
 * @example
 * ```ts
 * import { snapshotResume, Transport } from "@rafthttp/rafthttp";
 * await using t = new Transport({
 *   id: 1n,
 *   clusterId: 0xc1n,
 *   urls: ["http://127.0.0.1:12380"],
 *   raft: { process() {}, isIDRemoved: () => false, reportUnreachable() {}, reportSnapshot() {} },
 *   probeIntervalMs: 0,
 *   extensions: [snapshotResume({ retries: 8, memory: true })],
 * });
 * console.log(t.id); // 1n
 * ```
 */
export function snapshotResume(options?: SnapshotResumeOptions): TransportExtension {
  const opts = resolveSnapshotResume(options);
  return {
    name: "snapshot-resume",
    start(ctx) {
      const store = new ResumeStore({ ...opts, partials: ctx.snapshotSink.partial });
      return {
        routes: { [RESUME_PATH]: resumeRoute(ctx, store) },
        sendSnapshot: (send) => sendWithRetries(send, ctx, opts),
        receiveSnapshot: (r) => extendReceive(r, store),
        stop: () => store.stop(),
      };
    },
  };
}
