/**
 * Whether a peer is reachable, shared by all of its channels, as etcd's
 * peerStatus: `since` is set on the inactive-to-active transition only and
 * cleared on deactivation.
 *
 * @module
 */

import { F, type Logger } from "../logger.ts";

/** Active/inactive state of one peer. */
export class PeerStatus {
  #since: Date | undefined;
  #peer: string;
  #log: Logger;
  #disconnects = 0;

  /** Creates the status of `peer` (its hex id, for logs). */
  constructor(peer: string, log: Logger) {
    this.#peer = peer;
    this.#log = log;
  }

  /** True while the peer is active. */
  get active(): boolean {
    return this.#since !== undefined;
  }

  /** Active-to-inactive transitions so far (etcd_network_disconnected_peers_total). */
  get disconnects(): number {
    return this.#disconnects;
  }

  /** When the peer became active, or undefined while inactive. */
  get since(): Date | undefined {
    return this.#since;
  }

  /** Marks the peer active (keeping the time of the first activation). */
  activate(): void {
    if (this.#since === undefined) {
      this.#since = new Date();
      this.#log.info("peer became active", { [F.remote]: this.#peer });
    }
  }

  /** Marks the peer inactive, logging why. */
  deactivate(reason: string): void {
    if (this.#since !== undefined) {
      this.#since = undefined;
      this.#disconnects++;
      this.#log.warn("peer became inactive (message send to peer failed)", {
        [F.remote]: this.#peer,
        [F.error]: reason,
      });
    }
  }
}
