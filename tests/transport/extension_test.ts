// The extension seam through whole transports: negotiation on stream dials,
// sends and receives an extension takes or leaves to etcd's protocol, its
// routes on the peer port, the default list and its lifecycle.
import { assert, assertEquals, assertThrows } from "@std/assert";
import { MessageType } from "../../raftpb/raft_pb.ts";
import { SnapshotStatus } from "../../raftpb/snapshot_status.ts";
import { Transport } from "../../src/transport.ts";
import type { TransportOptions } from "../../src/options.ts";
import { silentLogger } from "../../src/logger.ts";
import { encodeMessageFrame } from "../../src/codec/message.ts";
import { SnapshotMessage } from "../../src/snapshot/message.ts";
import type { ExtensionHooks, TransportExtension } from "../../src/extension/extension.ts";
import { defaultExtensions } from "../../src/extensions/defaults.ts";
import {
  CLUSTER,
  msg,
  readersUp,
  RecordingRaft,
  startCluster,
  streamsUp,
  waitUntil,
} from "../harness.ts";

const OFFER = "X-Rafthttp-Example";

/** An extension negotiated on stream dials; `log` records what each side saw. */
function negotiating(log: string[]): TransportExtension {
  return {
    name: "example",
    start(ctx): ExtensionHooks {
      const me = ctx.id;
      return {
        // etcd's X-Raft-To cannot be replaced: the streams still come up.
        requestHeaders: () => ({ [OFFER]: "1", "X-Raft-To": "ffff" }),
        answerHeaders: (req) => (req.headers.get(OFFER) === "1" ? { [OFFER]: "ok" } : undefined),
        responseHeaders(from, path, h) {
          if (h.get(OFFER) === "ok") log.push(`${me}<-${from} ${path.split("/")[3]}`);
        },
      };
    },
  };
}

Deno.test("extensions: negotiated on stream dials, with etcd's headers untouched", async () => {
  const log: string[] = [];
  await using nodes = startCluster(2, { extensions: [negotiating(log)] });
  const [a, b] = nodes;
  await waitUntil(() => streamsUp(a, b) && streamsUp(b, a), 10_000);
  // The writers attach when the answer is made; the readers read its headers just after.
  await waitUntil(() => readersUp(a, b) && readersUp(b, a), 10_000);
  assertEquals(log.sort(), ["1<-2 message", "1<-2 msgapp", "2<-1 message", "2<-1 msgapp"]);
});

Deno.test("extensions: a send the extension declines is etcd's; one it takes is its own", async () => {
  const taken: bigint[] = [];
  const picky: TransportExtension = {
    name: "picky",
    start: () => ({
      // Takes snapshots of even indexes only, and fails them on purpose.
      sendSnapshot(send) {
        const index = send.snapshot.message.snapshot?.metadata?.index ?? 0n;
        if (index % 2n === 1n) return undefined;
        taken.push(index);
        return Promise.resolve({ error: new Error("not today"), url: send.url(), bytes: 0 });
      },
    }),
  };
  await using nodes = startCluster(2, { extensions: [picky] });
  const [a] = nodes;
  const snap = (index: bigint) =>
    new SnapshotMessage(
      msg(MessageType.MsgSnap, 1n, 2n, { snapshot: { metadata: { index, term: 1n } } }),
      ReadableStream.from([new Uint8Array(100)]),
      100,
    );
  const odd = snap(7n);
  a.transport.sendSnapshot(odd);
  assertEquals(await odd.done, true);
  const even = snap(8n);
  a.transport.sendSnapshot(even);
  assertEquals(await even.done, false);
  assertEquals(taken, [8n]);
  const raft = a.raft as RecordingRaft;
  assertEquals(raft.snapshots, [[2n, SnapshotStatus.Finish], [2n, SnapshotStatus.Failure]]);
});

function handlerOf(extra: Partial<TransportOptions>) {
  const raft = new RecordingRaft();
  const transport = new Transport({
    id: 0xaan,
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
  transport.addPeer(0xbbn, ["http://127.0.0.1:2"]); // not started: dials nothing
  return { transport, raft, handle: transport.handler() };
}

const peerHeaders = {
  "X-Server-From": "bb",
  "X-Server-Version": "3.4.23",
  "X-Min-Cluster-Version": "3.0.0",
  "X-Etcd-Cluster-ID": CLUSTER.toString(16),
};

Deno.test("extensions: routes answer like etcd's endpoints; the defaults are on unless a list is given", async () => {
  let stopped = 0;
  const hello: TransportExtension = {
    name: "hello",
    start: (ctx) => ({
      routes: {
        "/raft/hello": {
          method: "GET",
          handle: (req) => new Response(`hi ${ctx.checkSender(ctx.checkRequest(req))}`),
        },
      },
      stop: () => Promise.resolve(void stopped++),
    }),
  };
  const t = handlerOf({ extensions: [hello] });
  const get = (path: string, h: Record<string, string> = peerHeaders, method = "GET") =>
    t.handle(new Request(`http://x${path}`, { method, headers: h }));
  const ok = await get("/raft/hello");
  assertEquals([ok.status, await ok.text()], [200, "hi 187"]);
  assertEquals(ok.headers.get("X-Etcd-Cluster-ID"), CLUSTER.toString(16));
  const refusals = [
    await get("/raft/hello", { ...peerHeaders, "X-Etcd-Cluster-ID": "1" }),
    await get("/raft/hello", { ...peerHeaders, "X-Server-From": "cc" }),
    await get("/raft/hello", {}, "POST"),
    await get("/raft/snapshot/resume"), // the default extension is not in this list
  ];
  for (const r of refusals) await r.body?.cancel();
  assertEquals(refusals.map((r) => r.status), [412, 404, 405, 404]);
  await t.transport.stop();
  assertEquals(stopped, 1);

  assertEquals(defaultExtensions().map((e) => e.name), ["snapshot-resume"]);
  const d = handlerOf({});
  const res = await d.handle(
    new Request(
      "http://x/raft/snapshot/resume?transfer=t&index=1&term=1&size=1&window=4096&digest=sha256",
      {
        headers: peerHeaders,
      },
    ),
  );
  assertEquals([res.status, (await res.json()).offset], [200, 0]);
  await d.transport.stop();
  assertThrows(
    () =>
      handlerOf({
        extensions: [{ name: "bad", start: () => ({ routes: { "/raft": hello as never } }) }],
      }),
    TypeError,
    "cannot serve /raft",
  );
});

Deno.test("extensions: a snapshot body with our headers that no extension took is refused, not stored", async () => {
  const t = handlerOf({ extensions: [] });
  const m = msg(MessageType.MsgSnap, 0xbbn, 0xaan, { snapshot: { metadata: { index: 9n } } });
  const res = await t.handle(
    new Request("http://x/raft/snapshot", {
      method: "POST",
      headers: { ...peerHeaders, "X-Rafthttp-Snapshot-Window": "4096" },
      body: encodeMessageFrame(m),
    }),
  );
  assertEquals(res.status, 400);
  assert((await res.text()).includes("not supported"));
  assertEquals(t.raft.received.length, 0);
  await t.transport.stop();
});
