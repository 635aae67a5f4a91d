import { assertEquals } from "@std/assert";
import { toBinary } from "npm:@bufbuild/protobuf@2.17.0";
import {
  ConfChangeSchema,
  ConfChangeType,
  ConfChangeV2Schema,
  create,
  EntrySchema,
  EntryType,
} from "../mod.ts";
import { decodeMembershipChange } from "./conf_change.ts";
import { contextUrls, decodeMembersContext, encodeMembersContext } from "./conf_context.ts";
import { encodeUrlsContext } from "./member_table.ts";

const enc = new TextEncoder();
const { ConfChangeAddNode, ConfChangeAddLearnerNode, ConfChangeRemoveNode } = ConfChangeType;

Deno.test("conf context: several members' URLs and the request id survive a round trip", () => {
  const urls = new Map<bigint, string[]>([
    [4n, ["http://127.0.0.1:9004"]],
    [5n, ["https://[::1]:9005", "http://host,with-comma:9006"]], // a comma inside a URL too
    [(1n << 64n) - 1n, []],
  ]);
  for (const requestId of [0n, 1n, (1n << 64n) - 1n]) {
    const back = decodeMembersContext(encodeMembersContext({ requestId, urls }));
    assertEquals(back, { requestId, urls });
  }
  const steps = [
    { type: ConfChangeAddNode, nodeId: 4n },
    { type: ConfChangeAddLearnerNode, nodeId: 5n },
    { type: ConfChangeRemoveNode, nodeId: 2n },
  ];
  const c = encodeMembersContext({ requestId: 9n, urls });
  assertEquals(contextUrls(c, steps), urls, "each member gets its own URLs");
});

Deno.test("conf context: a V1 context keeps its bytes and its meaning", () => {
  // raftexample and the KV write the URL itself; several are comma-separated.
  assertEquals(encodeUrlsContext(["http://127.0.0.1:9004"]), enc.encode("http://127.0.0.1:9004"));
  assertEquals(
    encodeUrlsContext(["http://a:1", "http://b:2"]),
    enc.encode("http://a:1,http://b:2"),
  );
  const v1 = enc.encode("http://127.0.0.1:9004");
  assertEquals(decodeMembersContext(v1), undefined);
  const one = [{ type: ConfChangeAddNode, nodeId: 4n }];
  assertEquals(contextUrls(v1, one), new Map([[4n, ["http://127.0.0.1:9004"]]]));
  assertEquals(contextUrls(new Uint8Array(), one), new Map([[4n, []]]));
  assertEquals(contextUrls(v1, [...one, { type: ConfChangeRemoveNode, nodeId: 2n }]), new Map());
});

Deno.test("conf context: what others write is no members context, and no error", () => {
  const foreign = [
    '{"id":12,"peerURLs":["http://h:1"]}', // etcd's Member JSON
    '{"v":2,"id":"1","urls":{}}',
    '{"v":1,"id":"x","urls":{}}',
    '{"v":1,"id":"1","urls":{"4":"http://h:1"}}',
    '{"v":1,"id":"1","urls":{"four":["http://h:1"]}}',
    '{"v":1,"id":"1","urls":null}',
    "{not json",
    "null",
  ];
  for (const text of foreign) assertEquals(decodeMembersContext(enc.encode(text)), undefined, text);
});

Deno.test("conf context: a ConfChangeV2's request id is read from its context; V1's from its id", () => {
  const changes = [
    { type: ConfChangeAddNode, nodeId: 4n },
    { type: ConfChangeRemoveNode, nodeId: 2n },
  ];
  const context = encodeMembersContext({ requestId: 77n, urls: new Map([[4n, ["http://h:4"]]]) });
  const v2 = create(EntrySchema, {
    type: EntryType.EntryConfChangeV2,
    data: toBinary(ConfChangeV2Schema, create(ConfChangeV2Schema, { changes, context })),
  });
  const change = decodeMembershipChange(v2);
  assertEquals([change.id, change.steps.length, change.v2], [77n, 2, true]);
  const leave = create(EntrySchema, {
    type: EntryType.EntryConfChangeV2,
    data: toBinary(ConfChangeV2Schema, create(ConfChangeV2Schema)),
  });
  assertEquals(decodeMembershipChange(leave).id, 0n, "the leader's leave answers no request");
  const cc = create(ConfChangeSchema, { id: 5n, type: ConfChangeAddNode, nodeId: 4n, context });
  const v1 = create(EntrySchema, {
    type: EntryType.EntryConfChange,
    data: toBinary(ConfChangeSchema, cc),
  });
  assertEquals([decodeMembershipChange(v1).id, decodeMembershipChange(v1).v2], [5n, false]);
});
