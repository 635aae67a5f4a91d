/**
 * Large snapshots travel through the transport's `sendSnapshot` (the map's
 * JSON streamed after the MsgSnap in `POST /raft/snapshot`) rather than
 * inside one pipeline message. The receiving side keeps the streamed data
 * here until the MsgSnap that follows it reaches `process`, which puts the
 * data back into the message before raft steps it.
 *
 * @module
 */

import { clone } from "npm:@bufbuild/protobuf@2.17.0";
import {
  type Message,
  MessageSchema,
  MessageType,
  SnapshotMessage,
  type SnapshotSink,
  type Transport,
} from "../mod.ts";

/**
 * Sends a Ready's messages; a MsgSnap with more than `streamAbove` bytes of
 * data goes through `sendSnapshot` instead, its data streamed after it (the
 * transport reports the outcome to raft with `reportSnapshot`).
 *
 * @example
 * ```ts ignore
 * sendMessages(transport, rd.messages, 1 << 20); // a MsgSnap over 1 MiB is streamed
 * ```
 */
export function sendMessages(transport: Transport, messages: Message[], streamAbove: number): void {
  const small: Message[] = [];
  for (const m of messages) {
    const data = m.snapshot?.data;
    if (m.type !== MessageType.MsgSnap || data === undefined || data.length <= streamAbove) {
      small.push(m);
      continue;
    }
    const head = clone(MessageSchema, m);
    head.snapshot!.data = new Uint8Array();
    transport.sendSnapshot(new SnapshotMessage(head, ReadableStream.from([data]), data.length));
  }
  transport.send(small);
}

/**
 * A snapshot sink that holds the newest received snapshot data in memory
 * (the KV map is in memory anyway), keyed by its index.
 *
 * @example
 * ```ts
 * import { create, MessageSchema, MessageType } from "../mod.ts";
 * import { SnapshotInbox } from "./snapshot_transfer.ts";
 * const inbox = new SnapshotInbox();
 * const m = create(MessageSchema, { type: MessageType.MsgSnap, snapshot: { metadata: { index: 7n } } });
 * await inbox.save(m, ReadableStream.from([new Uint8Array([1, 2])]));
 * inbox.fill(m);
 * console.log(m.snapshot?.data.length); // 2
 * ```
 */
export class SnapshotInbox implements SnapshotSink {
  #index = -1n;
  #data: Uint8Array | undefined;

  /** Reads the data to its end and keeps it (replacing an older one). */
  async save(m: Message, data: ReadableStream<Uint8Array>): Promise<void> {
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of data) {
      chunks.push(chunk);
      size += chunk.length;
    }
    const all = new Uint8Array(size);
    let at = 0;
    for (const c of chunks) {
      all.set(c, at);
      at += c.length;
    }
    this.#index = m.snapshot?.metadata?.index ?? 0n;
    this.#data = all;
  }

  /** Puts the streamed data into a MsgSnap that arrived without it; false if none matches. */
  fill(m: Message): boolean {
    const snap = m.snapshot;
    if (snap === undefined || snap.data.length > 0) return false;
    if (this.#data === undefined || (snap.metadata?.index ?? 0n) !== this.#index) return false;
    snap.data = this.#data;
    this.#data = undefined;
    this.#index = -1n;
    return true;
  }
}
