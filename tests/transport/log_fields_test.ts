// One field vocabulary on every log line (etcd's zap names): a scenario that
// makes the transport log a wide range of its lines (streams up and down, a
// killed peer, snapshots stored and refused, requests refused) through a
// recording logger, then every line's fields are checked.
import { assert, assertEquals, assertMatch } from "@std/assert";
import { group, msg, startNode, streamsUp, waitUntil } from "../harness.ts";
import { recordingLogger } from "../../src/testdata/recording_logger.ts";
import { MessageType } from "../../raftpb/raft_pb.ts";
import { SnapshotMessage } from "../../src/snapshot/message.ts";
import { H } from "../../src/http/headers.ts";

const LEGACY = ["peer", "stream", "remote", "index"];

function hasBigint(v: unknown): boolean {
  if (typeof v === "bigint") return true;
  if (v !== null && typeof v === "object") return Object.values(v).some(hasBigint);
  return false;
}

function snapshot(to: bigint): SnapshotMessage {
  return new SnapshotMessage(
    msg(MessageType.MsgSnap, 0xan, to, { snapshot: { metadata: { index: 7n, term: 1n } } }),
    new Blob([new Uint8Array(100)]).stream(),
    100,
  );
}

Deno.test("logs: local-member-id on every line, ids as hex strings, no bigint, etcd's names", async () => {
  const logs = [recordingLogger(), recordingLogger(), recordingLogger()];
  const failing = {
    async save(_m: unknown, data: ReadableStream<Uint8Array>) {
      await data.cancel();
      throw new Error("disk full");
    },
  };
  const fast = { stream: { redialMinMs: 20, redialMaxMs: 50 }, logIntervalMs: 1 };
  await using nodes = group(
    startNode(0xan, { ...fast, logger: logs[0] }),
    startNode(0xbn, { ...fast, logger: logs[1] }),
    startNode(0xcn, { ...fast, logger: logs[2], snapshot: { sink: failing } }),
  );
  const [a, b, c] = nodes;
  for (const x of nodes) for (const y of nodes) if (x !== y) x.transport.addPeer(y.id, [y.url]);
  await waitUntil(() => streamsUp(a, b) && streamsUp(a, c), 5000, "streams");
  a.transport.send([msg(MessageType.MsgHeartbeat, 0xan, 0x99n)]); // unknown member
  const ok = snapshot(0xbn);
  a.transport.sendSnapshot(ok);
  assert(await ok.done);
  const refused = snapshot(0xcn);
  a.transport.sendSnapshot(refused);
  assertEquals(await refused.done, false);
  a.transport.sendSnapshot(snapshot(0x99n)); // unknown target
  // Refused requests: a stream from an unknown member, a body that is no message.
  const unknown = await fetch(`${a.url}/raft/stream/message/99`, {
    headers: { [H.clusterId]: "c1", [H.serverVersion]: "3.4.23", [H.raftTo]: "a" },
  });
  await unknown.body?.cancel();
  const garbage = await fetch(`${a.url}/raft`, {
    method: "POST",
    headers: { [H.clusterId]: "c1", [H.serverVersion]: "3.4.23", [H.from]: "b" },
    body: new Uint8Array([0xff, 0xff, 0xff]),
  });
  await garbage.body?.cancel();
  // A killed peer: streams lost, dials fail, the peer becomes inactive.
  await c.close();
  await waitUntil(() => a.transport.peerStatus(0xcn)?.activeSince === undefined, 5000, "c down");
  await new Promise((r) => setTimeout(r, 200));
  await a.transport.removePeer(0xcn);

  const lines = logs.flatMap((l, i) => l.lines.map((line) => ({ ...line, node: i })));
  assert(lines.length >= 15, `a real scenario logs: ${lines.length} lines`);
  const ids = ["a", "b", "c"];
  for (const line of lines) {
    const f = line.fields ?? {};
    const shown = JSON.stringify(f, (_k, v) => typeof v === "bigint" ? `${v}n` : v);
    const what = `${line.level} "${line.msg}" ${shown}`;
    assertEquals(f["local-member-id"], ids[line.node], `local-member-id: ${what}`);
    assert(!hasBigint(f), `no bigint: ${what}`);
    for (const k of LEGACY) assert(!(k in f), `no legacy field "${k}": ${what}`);
    if ("remote-peer-id" in f) assertMatch(String(f["remote-peer-id"]), /^[0-9a-f]+$/, what);
    if ("stream-type" in f) {
      assert(["message", "msgappv2"].includes(String(f["stream-type"])), what);
    }
    if ("error" in f) assertEquals(typeof f.error, "string", what);
    JSON.stringify(f); // what pino and JSON sinks do: no bigint may throw here
  }
  const count = (k: string) => lines.filter((l) => l.fields !== undefined && k in l.fields).length;
  assert(count("remote-peer-id") >= 8, `remote-peer-id on peer lines: ${count("remote-peer-id")}`);
  assert(count("stream-type") >= 4, `stream-type on stream lines: ${count("stream-type")}`);
  assert(count("error") >= 3, `error on failures: ${count("error")}`);
  const msgs = new Set(lines.map((l) => l.msg));
  for (
    const m of [
      "added a peer",
      "established a stream to the peer",
      "sent a snapshot",
      "received a snapshot",
      "peer became inactive (message send to peer failed)",
      "refused a stream from an unknown member",
      "refused a POST /raft body that is not a raft message",
    ]
  ) assert(msgs.has(m), `the scenario logged "${m}"`);
});
