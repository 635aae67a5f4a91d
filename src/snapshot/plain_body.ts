/**
 * etcd's snapshot body: after the MsgSnap frame, the data as it is.
 *
 * @module
 */

import type { SnapshotBody } from "../extension/extension.ts";
import { PeerRequestError } from "../errors.ts";

/** The data of `stream` as it is, exactly `total` bytes; `onData` counts them. */
export function plainBody(
  stream: ReadableStream<Uint8Array>,
  total: number,
  onData: (n: number) => void,
): SnapshotBody {
  const reader = stream.getReader();
  let sent = 0;
  return {
    async next() {
      const { done, value } = await reader.read();
      if (done) {
        if (sent !== total) {
          throw new PeerRequestError(
            `snapshot body ended after ${sent} bytes but ${total} were declared`,
          );
        }
        return undefined;
      }
      sent += value.length;
      if (sent > total) {
        throw new PeerRequestError(`snapshot body is longer than the ${total} bytes declared`);
      }
      onData(value.length);
      return value;
    },
    cancel: (reason) => reader.cancel(reason).catch(() => {}),
  };
}
