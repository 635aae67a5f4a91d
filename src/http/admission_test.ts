import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { create, MessageSchema } from "../../raftpb/schemas.ts";
import { type Message, MessageType } from "../../raftpb/raft_pb.ts";
import type { Raft } from "../raft_node.ts";
import { RateLimitedLog } from "../logger.ts";
import { H } from "./headers.ts";
import { HttpError } from "./http_error.ts";
import { Admission, type AdmissionConfig } from "./admission.ts";
import { recordingLogger } from "../testdata/recording_logger.ts";

const LOCAL_ID = 0x1n;
const CLUSTER = 0xc1a5n;

/** An Admission over a recording logger, with hooks that record and can be set up. */
function setup(o: { removed?: bigint[]; process?: Raft["process"] } = {}) {
  const logger = recordingLogger();
  const log = new RateLimitedLog(logger, 60_000);
  const added: [bigint, string[]][] = [];
  const cut = new Set<bigint>();
  let addRemoteError: Error | undefined;
  const raft: Raft = {
    process: o.process ?? (() => {}),
    isIDRemoved: (id) => (o.removed ?? []).includes(id),
    reportUnreachable() {},
    reportSnapshot() {},
  };
  const cfg: AdmissionConfig = {
    id: LOCAL_ID,
    clusterId: CLUSTER,
    serverVersion: "3.4.23",
    minClusterVersion: "3.0.0",
    raft,
  };
  const admission = new Admission(cfg, log, {
    addRemote(id, urls) {
      if (addRemoteError !== undefined) throw addRemoteError;
      added.push([id, urls]);
    },
    isCut: (id) => cut.has(id),
  });
  return {
    admission,
    logger,
    added,
    cut,
    failAddRemote(e: Error) {
      addRemoteError = e;
    },
    [Symbol.dispose]: () => log.close(),
  };
}

/** A peer request with etcd's headers from member 2; `h` overrides (null removes). */
function request(h: Record<string, string | null> = {}): Request {
  const headers = new Headers({
    [H.from]: "2",
    [H.serverVersion]: "3.4.23",
    [H.minClusterVersion]: "3.0.0",
    [H.clusterId]: "c1a5",
    [H.peerUrls]: "http://10.0.0.2:2380",
  });
  for (const [k, v] of Object.entries(h)) v === null ? headers.delete(k) : headers.set(k, v);
  return new Request("http://10.0.0.1:2380/raft", { method: "POST", headers });
}

function msg(from: bigint, to: bigint): Message {
  return create(MessageSchema, { type: MessageType.MsgApp, from, to });
}

/** Asserts that `fn` throws an HttpError with `status` and `text`. */
function assertRefused(fn: () => void, status: number, text: string): HttpError {
  const e = assertThrows(fn, HttpError) as HttpError;
  assertEquals([e.status, e.text], [status, text]);
  return e;
}

Deno.test("Admission: ids as they appear in headers", () => {
  using t = setup();
  assertEquals(t.admission.localId, "1");
  assertEquals(t.admission.clusterId, "c1a5");
});

Deno.test("Admission.compatible: a compatible request from our cluster passes", () => {
  using t = setup();
  t.admission.compatible(request());
  assertEquals(t.logger.lines, []);
});

Deno.test("Admission.compatible: malformed versions are 400", () => {
  using t = setup();
  const text = "malformed X-Server-Version or X-Min-Cluster-Version header";
  assertRefused(() => t.admission.compatible(request({ [H.serverVersion]: "3.4" })), 400, text);
  assertRefused(
    () => t.admission.compatible(request({ [H.minClusterVersion]: "v3.0.0" })),
    400,
    text,
  );
  // Malformed is checked before the cluster id.
  assertRefused(
    () => t.admission.compatible(request({ [H.serverVersion]: "x", [H.clusterId]: "99" })),
    400,
    text,
  );
});

Deno.test("Admission.compatible: incompatible versions are 412, logged", () => {
  using t = setup();
  assertRefused(
    () => t.admission.compatible(request({ [H.serverVersion]: "2.3.0" })),
    412,
    "incompatible version",
  );
  // Missing version headers count as 2.0.0: too old for us.
  assertRefused(
    () => t.admission.compatible(request({ [H.serverVersion]: null, [H.minClusterVersion]: null })),
    412,
    "incompatible version",
  );
  assertEquals(t.logger.lines.length, 1, "the second refusal is rate-limited");
  assertEquals(t.logger.lines[0].level, "warn");
  assertEquals(t.logger.lines[0].fields?.version, "2.3.0");
  assertEquals(t.logger.lines[0].fields?.["remote-peer-id"], "2");
});

Deno.test("Admission.compatible: another cluster id (or none) is 412 cluster ID mismatch", () => {
  using t = setup();
  assertRefused(
    () => t.admission.compatible(request({ [H.clusterId]: "beef" })),
    412,
    "cluster ID mismatch",
  );
  assertEquals(t.logger.lines.length, 1);
  assertEquals(t.logger.lines[0].level, "error");
  assertEquals(t.logger.lines[0].fields, {
    "remote-peer-id": "2",
    remoteClusterId: "beef",
    localClusterId: "c1a5",
  });
  assertRefused(
    () => t.admission.compatible(request({ [H.clusterId]: null })),
    412,
    "cluster ID mismatch",
  );
});

Deno.test("Admission.learnRemote: adds the sender's URLs from X-PeerURLs", () => {
  using t = setup();
  t.admission.learnRemote(request({ [H.peerUrls]: "http://10.0.0.2:2380,http://10.0.0.9:2380" }));
  assertEquals(t.added, [[2n, ["http://10.0.0.2:2380", "http://10.0.0.9:2380"]]]);
  // An explicit sender wins over the header's.
  t.admission.learnRemote(request(), 0xabn);
  assertEquals(t.added[1], [0xabn, ["http://10.0.0.2:2380"]]);
});

Deno.test("Admission.learnRemote: nothing to learn without a sender or URLs", () => {
  using t = setup();
  t.admission.learnRemote(request({ [H.peerUrls]: null }));
  t.admission.learnRemote(request({ [H.peerUrls]: "" }));
  t.admission.learnRemote(request({ [H.from]: null }));
  t.admission.learnRemote(request({ [H.from]: "not-hex" }));
  assertEquals(t.added, []);
});

Deno.test("Admission.learnRemote: invalid URLs are 400 with the reason", () => {
  using t = setup();
  t.failAddRemote(new TypeError('invalid peer URL "ftp://x": scheme must be http or https'));
  assertRefused(
    () => t.admission.learnRemote(request({ [H.peerUrls]: "ftp://x" })),
    400,
    'invalid X-PeerURLs: invalid peer URL "ftp://x": scheme must be http or https',
  );
});

Deno.test("Admission.notCut: 503 while the sender is cut off", () => {
  using t = setup();
  t.admission.notCut(2n);
  t.admission.notCut(undefined);
  t.cut.add(2n);
  assertRefused(() => t.admission.notCut(2n), 503, "this peer is cut off (test hook)");
  t.admission.notCut(3n);
  t.admission.notCut(undefined);
});

Deno.test("Admission.admitPost: versions, then cluster, then URLs, then the cut", () => {
  using t = setup();
  t.admission.admitPost(request());
  assertEquals(t.added, [[2n, ["http://10.0.0.2:2380"]]]);

  // A refused request teaches us nothing.
  assertRefused(
    () => t.admission.admitPost(request({ [H.clusterId]: "beef", [H.from]: "5" })),
    412,
    "cluster ID mismatch",
  );
  assertEquals(t.added.length, 1);

  // The URLs are learnt before the cut is checked.
  t.cut.add(3n);
  assertRefused(
    () => t.admission.admitPost(request({ [H.from]: "3" })),
    503,
    "this peer is cut off (test hook)",
  );
  assertEquals(t.added[1], [3n, ["http://10.0.0.2:2380"]]);
});

Deno.test("Admission.checkSender: the message must be for us, from the sender, not removed", () => {
  using t = setup({ removed: [9n] });
  t.admission.checkSender(request(), msg(2n, LOCAL_ID));
  t.admission.checkSender(request({ [H.from]: null }), msg(7n, LOCAL_ID));
  assertRefused(
    () => t.admission.checkSender(request(), msg(2n, 0x5fn)),
    400,
    "message is for member 5f, not 1",
  );
  assertRefused(
    () => t.admission.checkSender(request(), msg(3n, LOCAL_ID)),
    400,
    "message from field does not match X-Server-From",
  );
  assertRefused(
    () => t.admission.checkSender(request({ [H.from]: "9" }), msg(9n, LOCAL_ID)),
    403,
    "cannot process message from removed member",
  );
  // etcd's raft forwards a MsgTransferLeader with the transferee as `from`.
  const transfer = create(MessageSchema, {
    type: MessageType.MsgTransferLeader,
    from: 3n,
    to: LOCAL_ID,
  });
  t.admission.checkSender(request(), transfer);
});

Deno.test("Admission.process: steps the message into raft", async () => {
  const seen: Message[] = [];
  using t = setup({ process: (m) => void seen.push(m) });
  const m = msg(2n, LOCAL_ID);
  await t.admission.process(m, new AbortController().signal, "error processing: %s");
  assertEquals(seen, [m]);
});

Deno.test("Admission.process: an error with a 4xx/5xx status keeps it", async () => {
  const e = Object.assign(new Error("raft: proposal dropped"), { status: 409 });
  using t = setup({ process: () => Promise.reject(e) });
  const got = await assertRejects(
    () => t.admission.process(msg(2n, 1n), new AbortController().signal, "x: %s"),
    HttpError,
  ) as HttpError;
  assertEquals([got.status, got.text], [409, "raft: proposal dropped"]);
});

Deno.test("Admission.process: other errors (thrown or rejected) are 500 with the fallback", async () => {
  for (
    const process of [
      () => {
        throw new Error("disk full");
      },
      () => Promise.reject(new Error("disk full")),
      () => Promise.reject(Object.assign(new Error("disk full"), { status: 200 })),
      () => Promise.reject(Object.assign(new Error("disk full"), { status: "500" })),
    ]
  ) {
    using t = setup({ process });
    const got = await assertRejects(
      () => t.admission.process(msg(2n, 1n), new AbortController().signal, "raft failed: %s"),
      HttpError,
    ) as HttpError;
    assertEquals([got.status, got.text], [500, "raft failed: disk full"]);
  }
  // A thrown non-Error, too.
  using t = setup({ process: () => Promise.reject("nope") });
  const got = await assertRejects(
    () => t.admission.process(msg(2n, 1n), new AbortController().signal, "%s!"),
    HttpError,
  ) as HttpError;
  assert(got.status === 500 && got.text === "nope!", got.message);
});
