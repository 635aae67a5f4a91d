import { assertEquals, assertRejects } from "@std/assert";
import { fromBinary, toBinary } from "npm:@bufbuild/protobuf@2.17.0";
import {
  type ConfChange,
  ConfChangeSchema,
  ConfChangeType,
  create,
  EntrySchema,
  EntryType,
  type Message,
  MessageType,
} from "../../mod.ts";
import { ProposalDroppedError, type RawNode } from "../../raft/mod.ts";
import { jsonCodec } from "./codec.ts";
import { NodeStoppedError, RequestTimeoutError } from "./errors.ts";
import { Requests } from "./requests.ts";

/** A stand-in core that records what it was asked and drops the first `drops` proposals. */
function fakeCore(drops = 0) {
  const calls = {
    propose: [] as Uint8Array[],
    batches: 0,
    conf: [] as ConfChange[],
    reads: [] as Uint8Array[],
  };
  let left = drops;
  const core = {
    step(m: Message) {
      assertEquals([m.type, m.from], [MessageType.MsgProp, 1n]);
      if (left-- > 0) throw new ProposalDroppedError("no leader");
      calls.batches++;
      for (const e of m.entries) calls.propose.push(e.data);
    },
    proposeConfChange(cc: ConfChange) {
      calls.conf.push(cc);
    },
    readIndex(ctx: Uint8Array) {
      calls.reads.push(ctx);
    },
  } as unknown as RawNode;
  return { core, calls };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function setup(drops = 0, timeoutMs = 2000) {
  const { core, calls } = fakeCore(drops);
  const map = new Map([["/k", "v"]]);
  const requests = new Requests({
    run: (action) => { // as the member's RaftLoop: after the caller's synchronous burst
      queueMicrotask(() => action(core));
      return true;
    },
    read: (k) => map.get(k),
    codec: jsonCodec,
    timeoutMs,
    id: 1n,
  });
  return { requests, calls };
}

Deno.test("requests: a PUT dropped for want of a leader is proposed again; answered when applied", async () => {
  const { requests, calls } = setup(2);
  const put = requests.put("/a", "1");
  await sleep(350);
  assertEquals(calls.propose.length, 1, "two drops, then taken once");
  await sleep(250);
  assertEquals(calls.propose.length, 1, "never proposed again once raft took it");
  const p = jsonCodec.decode(calls.propose[0]);
  assertEquals([p.key, p.value], ["/a", "1"]);
  requests.writeApplied(p);
  await put;
  requests.close(new NodeStoppedError());
});

Deno.test("requests: PUTs queued together go as one MsgProp; GETs queued together share a ReadIndex", async () => {
  const { requests, calls } = setup();
  const puts = [requests.put("/a", "1"), requests.put("/b", "2"), requests.put("/c", "3")];
  const gets = [requests.get("/k", false), requests.get("/k", false)];
  await sleep(10);
  assertEquals([calls.batches, calls.propose.length, calls.reads.length], [1, 3, 1]);
  for (const d of calls.propose) requests.writeApplied(jsonCodec.decode(d));
  await Promise.all(puts);
  requests.readStates([{ index: 1n, requestCtx: calls.reads[0] }]);
  requests.appliedTo(1n);
  assertEquals(await Promise.all(gets), ["v", "v"]);
  const later = requests.get("/k", false); // after the batch was asked: a ReadIndex of its own
  await sleep(10);
  assertEquals(calls.reads.length, 2);
  requests.readStates([{ index: 1n, requestCtx: calls.reads[1] }]);
  assertEquals(await later, "v");
  requests.close(new NodeStoppedError());
});

Deno.test("requests: a PUT not applied in time gets RequestTimeoutError", async () => {
  const { requests } = setup(0, 50);
  await assertRejects(() => requests.put("/a", "1"), RequestTimeoutError, "may still take effect");
  requests.close(new NodeStoppedError());
});

Deno.test("requests: a GET asks for a read index until answered, then waits for that index", async () => {
  const { requests, calls } = setup();
  let done = false;
  const get = requests.get("/k", false).then((v) => (done = true, v));
  await sleep(400);
  assertEquals(calls.reads.length, 2, "asked again after 300 ms");
  requests.readStates([{ index: 9n, requestCtx: calls.reads[0] }]);
  await sleep(350);
  assertEquals(
    [calls.reads.length, done],
    [2, false],
    "answered: no more asks; index 9 not applied",
  );
  requests.appliedTo(9n);
  assertEquals(await get, "v");
  assertEquals(await requests.get("/k", true), "v"); // stale: no read index
  assertEquals(calls.reads.length, 2);
  requests.close(new NodeStoppedError());
});

Deno.test("requests: a conf change is proposed again each second until it is in the log", async () => {
  const { requests, calls } = setup(0, 5000);
  const change = requests.confChange(ConfChangeType.ConfChangeRemoveNode, 3n, new Uint8Array());
  await sleep(1100);
  assertEquals(calls.conf.length, 2);
  const cc = calls.conf[0];
  const entry = create(EntrySchema, {
    type: EntryType.EntryConfChange,
    data: toBinary(ConfChangeSchema, cc),
  });
  requests.appended([entry]);
  await sleep(1000);
  assertEquals(calls.conf.length, 2, "in the log: not proposed again");
  requests.confChangeApplied(fromBinary(ConfChangeSchema, entry.data));
  await change;
  assertEquals([cc.nodeId, cc.type], [3n, ConfChangeType.ConfChangeRemoveNode]);
  requests.close(new NodeStoppedError());
});

Deno.test("requests: close fails what is in flight and refuses new requests", async () => {
  const { requests } = setup();
  const put = requests.put("/a", "1");
  const get = requests.get("/a", false);
  requests.close(new NodeStoppedError("removed"));
  await assertRejects(() => put, NodeStoppedError, "removed");
  await assertRejects(() => get, NodeStoppedError, "removed");
  await assertRejects(() => requests.put("/b", "2"), NodeStoppedError);
});
