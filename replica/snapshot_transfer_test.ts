import { assertEquals } from "@std/assert";
import { create, MessageSchema, MessageType } from "../mod.ts";
import { SnapshotInbox } from "./snapshot_transfer.ts";

const snapMsg = (index: bigint, data = new Uint8Array()) =>
  create(MessageSchema, { type: MessageType.MsgSnap, snapshot: { metadata: { index }, data } });

Deno.test("snapshot inbox: fills only the MsgSnap of the same index, once, and only if empty", async () => {
  const inbox = new SnapshotInbox();
  await inbox.save(snapMsg(5n), ReadableStream.from([new Uint8Array([1]), new Uint8Array([2, 3])]));
  const other = snapMsg(6n);
  assertEquals(inbox.fill(other), false);
  const full = snapMsg(5n, new Uint8Array([9]));
  assertEquals(inbox.fill(full), false);
  assertEquals(full.snapshot?.data, new Uint8Array([9]));
  const m = snapMsg(5n);
  assertEquals(inbox.fill(m), true);
  assertEquals(m.snapshot?.data, new Uint8Array([1, 2, 3]));
  assertEquals(inbox.fill(snapMsg(5n)), false); // handed over once
  await inbox.save(snapMsg(7n), ReadableStream.from([new Uint8Array([4])]));
  await inbox.save(snapMsg(8n), ReadableStream.from([new Uint8Array([5])])); // the newer one wins
  assertEquals(inbox.fill(snapMsg(7n)), false);
});
