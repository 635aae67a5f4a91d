// The POST /raft/snapshot receiver alone, driven with Request objects whose
// bodies the test feeds; the sink and raft record what they get, and when.
import { NO_EXTENSIONS } from "../extension/host.ts";
import { assert, assertEquals, assertInstanceOf, assertMatch } from "@std/assert";
import { create, MessageSchema } from "../../raftpb/schemas.ts";
import { type Message, MessageType } from "../../raftpb/raft_pb.ts";
import { encodeMessageFrame } from "../codec/message.ts";
import { Admission } from "../http/admission.ts";
import { HttpError } from "../http/http_error.ts";
import type { ReceiverContext } from "../http/receiver.ts";
import type { SnapshotSink } from "./sink.ts";
import type { TransportOptions } from "../options.ts";
import { concat } from "../testdata/bytes.ts";
import { settle } from "../testdata/fake_clock.ts";
import { CLUSTER, LOCAL, PEER, testPeer } from "../testdata/peer_context.ts";
import { snapshotReceiver } from "./receiver.ts";

const snapMsg = (over: { type?: MessageType; from?: bigint; to?: bigint } = {}): Message =>
  create(MessageSchema, {
    type: MessageType.MsgSnap,
    from: PEER,
    to: LOCAL,
    snapshot: { metadata: { index: 42n, term: 2n } },
    ...over,
  });

/** A request body the test feeds: `push` chunks, then `end` or `fail`; `cancelled` once the receiver let go of it. */
function feed() {
  const f = {
    cancelled: false,
    push: (_c: Uint8Array) => {},
    end: () => {},
    fail: (_e: Error) => {},
    stream: undefined as unknown as ReadableStream<Uint8Array>,
  };
  f.stream = new ReadableStream<Uint8Array>({
    start(c) {
      f.push = (chunk) => c.enqueue(chunk);
      f.end = () => c.close();
      f.fail = (e) => c.error(e);
    },
    cancel() {
      f.cancelled = true;
    },
  });
  return f;
}

/** A POST /raft/snapshot from PEER with etcd's headers (`over` replaces some). */
function post(body: BodyInit | null, over: Record<string, string> = {}): Request {
  return new Request("http://local:2380/raft/snapshot", {
    method: "POST",
    headers: {
      "X-Server-From": PEER.toString(16),
      "X-Server-Version": "3.4.23",
      "X-Min-Cluster-Version": "3.0.0",
      "X-Etcd-Cluster-ID": CLUSTER.toString(16),
      ...over,
    },
    body,
  });
}

/** The receiver over a test peer's context, with `sink` and `options`. */
function setup(sink: SnapshotSink, options: Partial<TransportOptions> = {}) {
  const t = testPeer({ ...options, snapshot: { sink, ...options.snapshot } });
  const ac = new AbortController();
  const peer = {
    stats: t.ctx.stats,
    metrics: t.ctx.metrics,
    attachOutgoingConn: () => new ReadableStream(),
  };
  const ctx: ReceiverContext = {
    admission: new Admission(t.ctx.cfg, t.ctx.log, { addRemote() {}, isCut: () => false }),
    log: t.ctx.log,
    peer: (id) => id === PEER ? peer : undefined,
    members: () => [],
    signal: ac.signal,
    extensions: NO_EXTENSIONS, // etcd's protocol only
  };
  const receive = snapshotReceiver(ctx, t.ctx.cfg);
  return {
    t,
    receive: (req: Request) => receive(req, "/raft/snapshot"),
    [Symbol.dispose]: () => t[Symbol.dispose](),
  };
}

/** The status a receive ends with: the response's, or the refusal's, with its text. */
async function outcome(p: Promise<Response> | Response): Promise<[number, string]> {
  try {
    const res = await p;
    return [res.status, await res.text()];
  } catch (e) {
    assertInstanceOf(e, HttpError);
    const refusal = e as HttpError;
    return [refusal.status, refusal.text];
  }
}

/** A sink that reads everything and records it, and stores it only when `store()` is called. */
function recordingSink(events: string[]) {
  let store!: () => void;
  const stored = new Promise<void>((r) => store = r);
  const got: Uint8Array[] = [];
  const sink: SnapshotSink = {
    async save(m, data) {
      for await (const c of data) got.push(c);
      events.push(`read ${concat(got).length} bytes of snapshot ${m.snapshot?.metadata?.index}`);
      await stored;
      events.push("stored");
    },
  };
  return { sink, got, store: () => store() };
}

/** One request the receiver must refuse. */
interface Refusal {
  what: string;
  body: Uint8Array | null;
  /** The body ends after `body` (else more would follow). */
  end?: true;
  headers?: Record<string, string>;
  status: number;
  text: RegExp;
}

Deno.test("snapshotReceiver: bad envelopes are refused with etcd's status codes, the body released, nothing saved", async () => {
  const events: string[] = [];
  using s = setup(recordingSink(events).sink, { snapshot: { maxEnvelopeSize: 1024 } });
  s.t.raft.removed.add(0xdddn);
  const data = (envelope: Uint8Array) => concat([envelope, new Uint8Array(100)]);
  const frame = (over: Parameters<typeof snapMsg>[0] = {}) =>
    data(encodeMessageFrame(snapMsg(over)));
  const cases: Refusal[] = [
    {
      what: "no body",
      body: null,
      status: 400,
      text: /failed to decode raft message \(empty body\)/,
    },
    {
      what: "a cut frame",
      body: new Uint8Array([0, 0, 0]),
      end: true,
      status: 400,
      text: /failed to decode raft message/,
    },
    {
      what: "an envelope over the limit",
      body: data(new Uint8Array([0, 0, 0, 0, 0, 0, 8, 0])),
      status: 400,
      text: /frame of 2048 bytes exceeds/,
    },
    {
      what: "not a MsgSnap",
      body: frame({ type: MessageType.MsgApp }),
      status: 400,
      text: /wrong raft message type/,
    },
    {
      what: "for another member",
      body: frame({ to: 0xeeen }),
      status: 400,
      text: /is for member eee/,
    },
    {
      what: "from another than the header",
      body: frame(),
      headers: { "X-Server-From": "ccc" },
      status: 400,
      text: /does not match/,
    },
    {
      what: "from a removed member",
      body: frame({ from: 0xdddn }),
      headers: { "X-Server-From": "ddd" },
      status: 403,
      text: /removed member/,
    },
    {
      what: "from another cluster",
      body: frame(),
      headers: { "X-Etcd-Cluster-ID": "1" },
      status: 412,
      text: /cluster ID mismatch/,
    },
  ];
  for (const c of cases) {
    const body = feed();
    if (c.body !== null) body.push(c.body);
    if (c.end) body.end();
    const [status, text] = await outcome(
      s.receive(post(c.body === null ? null : body.stream, c.headers)),
    );
    assertEquals(status, c.status, `${c.what}: ${text}`);
    assertMatch(text, c.text, c.what);
    // The version and cluster checks come before the body is taken: the router releases it then.
    if (c.body !== null && !c.end && status !== 412) {
      assert(body.cancelled, `${c.what}: body released`);
    }
  }
  assertEquals(events, [], "the sink saw nothing");
  assertEquals(s.t.raft.received, []);
});

Deno.test("snapshotReceiver: the data is spooled into the sink, and raft gets the MsgSnap only once all of it is stored", async () => {
  const events: string[] = [];
  const { sink, got, store } = recordingSink(events);
  using s = setup(sink);
  s.t.raft.onProcess = (m) => void events.push(`process ${m.type}`);
  const body = feed();
  const answer = outcome(s.receive(post(body.stream)));
  const head = encodeMessageFrame(snapMsg());
  // The envelope's chunk carries the first data bytes; those go first.
  body.push(concat([head, new Uint8Array([1, 2, 3])]));
  body.push(new Uint8Array([4, 5]));
  await settle();
  assertEquals(events, [], "the sink is still reading");
  body.push(new Uint8Array([6]));
  body.end();
  await settle();
  assertEquals(concat(got), new Uint8Array([1, 2, 3, 4, 5, 6]));
  assertEquals(events, ["read 6 bytes of snapshot 42"], "no process before the sink stored it");
  store();
  assertEquals(await answer, [204, ""]);
  assertEquals(events, ["read 6 bytes of snapshot 42", "stored", `process ${MessageType.MsgSnap}`]);
  assertEquals(s.t.raft.received[0].snapshot?.metadata?.index, 42n);
  assertEquals(s.t.ctx.stats.receivedMessages, 1);
  assertEquals(s.t.ctx.stats.receivedBytes, head.length + 6);
  assertEquals(s.t.ctx.metrics.snapshotReceiveSuccess, 1);
});

Deno.test("snapshotReceiver: a sink that returns before reading all the data is a 500, and raft never sees the snapshot", async () => {
  using s = setup({
    async save(_m, data) {
      const reader = data.getReader();
      await reader.read(); // one chunk, then "done"
      reader.releaseLock();
    },
  });
  const body = feed();
  const answer = outcome(s.receive(post(body.stream)));
  body.push(concat([encodeMessageFrame(snapMsg()), new Uint8Array(10)]));
  body.push(new Uint8Array(10));
  const [status, text] = await answer;
  assertEquals(status, 500);
  assertMatch(
    text,
    /failed to save KV snapshot \(the snapshot sink returned before reading all the data\)/,
  );
  assertEquals(s.t.raft.received, []);
  assert(body.cancelled, "the rest of the body is released");
  assert(
    s.t.lines.some((l) =>
      l.msg === "failed to receive a snapshot; the sink discarded its partial data"
    ),
  );
});

Deno.test("snapshotReceiver: a sender that breaks off mid-data fails the sink's stream: 500, nothing processed", async () => {
  let sinkError: unknown;
  using s = setup({
    async save(_m, data) {
      try {
        for await (const _ of data);
      } catch (e) {
        sinkError = e;
        throw e;
      }
    },
  });
  const body = feed();
  const answer = outcome(s.receive(post(body.stream)));
  body.push(concat([encodeMessageFrame(snapMsg()), new Uint8Array(10)]));
  await settle();
  body.fail(new Error("connection reset by peer"));
  const [status, text] = await answer;
  assertEquals(status, 500);
  assertMatch(text, /connection reset by peer/);
  assertMatch(String(sinkError), /connection reset by peer/, "the sink saw the break");
  assertEquals(s.t.raft.received, []);
  assertEquals(s.t.ctx.metrics.snapshotReceiveFailures, 1);
});

Deno.test("snapshotReceiver: past maxConcurrentSnapshotReceives, 503 until one ends", async () => {
  const events: string[] = [];
  const { sink, store } = recordingSink(events);
  using s = setup(sink, { snapshot: { maxConcurrentReceives: 1 } });
  const first = feed();
  const answer = outcome(s.receive(post(first.stream)));
  first.push(encodeMessageFrame(snapMsg()));
  await settle();
  const second = feed();
  assertEquals((await outcome(s.receive(post(second.stream))))[0], 503);
  first.end();
  store();
  assertEquals((await answer)[0], 204);
  const third = feed();
  third.push(encodeMessageFrame(snapMsg()));
  third.end();
  assertEquals((await outcome(s.receive(post(third.stream))))[0], 204, "room again");
  await second.stream.cancel();
});
