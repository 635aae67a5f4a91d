// GET /raft/snapshot/resume, the snapshot extension's query, against
// hand-made requests: it passes the same checks as POST /raft/snapshot, and
// answers 404 (as etcd does) wherever the extension cannot be spoken.
import { assertEquals } from "@std/assert";
import { Transport } from "../../src/transport.ts";
import type { TransportOptions } from "../../src/options.ts";
import { silentLogger } from "../../src/logger.ts";
import { encodeMessageFrame } from "../../src/codec/message.ts";
import { MessageType } from "../../raftpb/raft_pb.ts";
import {
  extensionHeaders,
  resumeQuery,
  type TransferParams,
} from "../../src/extensions/snapshot_resume/resume.ts";
import { msg, RecordingRaft } from "../harness.ts";

const LOCAL = 0xaaaan;
const PEER = 0xbbbbn;
const CLUSTER = 0xc1n;

function setup(extra: Partial<TransportOptions> = {}) {
  const raft = new RecordingRaft();
  const transport = new Transport({
    id: LOCAL,
    clusterId: CLUSTER,
    urls: ["http://127.0.0.1:1"],
    raft,
    logger: silentLogger,
    probeIntervalMs: 0,
    snapshot: {
      sink: {
        async save(_m, data) {
          for await (const _ of data) { /* discard */ }
        },
      },
    },
    ...extra,
  });
  transport.addPeer(PEER, ["http://127.0.0.1:2"]); // not started: dials nothing
  return {
    raft,
    handle: transport.handler(),
    [Symbol.asyncDispose]: () => transport.stop(),
  };
}

const params: TransferParams = {
  transfer: "t1",
  index: 9n,
  term: 2n,
  size: 10_000,
  window: 4096,
  digest: "crc32,sha256",
};

function get(
  query = resumeQuery(params),
  over: Record<string, string | null> = {},
  method = "GET",
) {
  const h = new Headers({
    "X-Server-From": PEER.toString(16),
    "X-Server-Version": "3.4.23",
    "X-Min-Cluster-Version": "3.0.0",
    "X-Etcd-Cluster-ID": CLUSTER.toString(16),
  });
  for (const [k, v] of Object.entries(over)) v === null ? h.delete(k) : h.set(k, v);
  return new Request("http://127.0.0.1:9" + query, { method, headers: h });
}

async function status(res: Response): Promise<number> {
  await res.body?.cancel();
  return res.status;
}

Deno.test("resume route: a peer of ours learns its offset and the digest chosen", async () => {
  await using t = setup();
  const res = await t.handle(get());
  assertEquals(res.status, 200);
  assertEquals(await res.json(), { offset: 0, digest: "crc32" });
  assertEquals(res.headers.get("X-Etcd-Cluster-ID"), "c1");
  const sha = await t.handle(get(resumeQuery({ ...params, digest: "md5,sha256" })));
  assertEquals(await sha.json(), { offset: 0, digest: "sha256" });
});

Deno.test("resume route: the checks of POST /raft/snapshot, and 404 where there is no extension", async () => {
  await using t = setup();
  assertEquals(await status(await t.handle(get(undefined, { "X-Etcd-Cluster-ID": "1" }))), 412);
  assertEquals(await status(await t.handle(get(undefined, { "X-Server-Version": "x" }))), 400);
  assertEquals(await status(await t.handle(get(undefined, {}, "POST"))), 405);
  assertEquals(await status(await t.handle(get(undefined, { "X-Server-From": "cccc" }))), 404);
  assertEquals(await status(await t.handle(get(undefined, { "X-Server-From": null }))), 400);
  assertEquals(
    await status(await t.handle(get(resumeQuery({ ...params, digest: "md5" })))),
    404,
  );
  assertEquals(await status(await t.handle(get(resumeQuery({ ...params, window: 10 })))), 400);
  t.raft.removed.add(PEER);
  assertEquals(await status(await t.handle(get())), 403);
  await using off = setup({ extensions: [] });
  assertEquals(await status(await off.handle(get())), 404);
  await using signed = setup({
    security: { auth: { secret: "0123456789abcdef0123456789abcdef" } },
  });
  assertEquals(await status(await signed.handle(get())), 401);
});

Deno.test("resume route: an extended POST at an offset the receiver does not hold gets 409", async () => {
  await using t = setup();
  const m = msg(MessageType.MsgSnap, PEER, LOCAL, {
    snapshot: { metadata: { index: 9n, term: 2n } },
  });
  const res = await t.handle(
    new Request("http://127.0.0.1:9/raft/snapshot", {
      method: "POST",
      headers: {
        "X-Server-From": PEER.toString(16),
        "X-Server-Version": "3.4.23",
        "X-Min-Cluster-Version": "3.0.0",
        "X-Etcd-Cluster-ID": CLUSTER.toString(16),
        ...extensionHeaders({ ...params, digest: "crc32" }, 5000),
      },
      body: encodeMessageFrame(m),
    }),
  );
  assertEquals(await status(res), 409);
  assertEquals(t.raft.received.length, 0);
});
