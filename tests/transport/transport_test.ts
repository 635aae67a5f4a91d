import { assertEquals } from "@std/assert";
import { MessageType } from "../../raftpb/raft_pb.ts";
import { msg, startCluster, streamsUp, waitUntil } from "../harness.ts";

Deno.test("transport: two nodes connect both streams and exchange messages", async () => {
  await using nodes = startCluster(2);
  const [a, b] = nodes;
  await waitUntil(() => streamsUp(a, b) && streamsUp(b, a), 5000, "streams up");
  assertEquals(a.transport.activePeers(), 1);
  a.transport.send([msg(MessageType.MsgHeartbeat, 1n, 2n, { term: 3n })]);
  await b.raft.until(() => b.raft.received.length === 1);
  assertEquals(b.raft.received[0].type, MessageType.MsgHeartbeat);
  assertEquals(b.raft.received[0].term, 3n);
});
