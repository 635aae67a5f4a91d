import { assert, assertEquals, assertInstanceOf, assertThrows } from "@std/assert";
import { HttpError } from "../../http/http_error.ts";
import {
  extensionHeaders,
  parseExtension,
  resumeQuery,
  SNAP_H,
  type TransferParams,
} from "./resume.ts";
import { queryOffset, retryable } from "./resume_sender.ts";
import { fetchDialer } from "../../http/fetch_dialer.ts";
import { PeerRequestError, StoppedError } from "../../errors.ts";
import { create } from "@bufbuild/protobuf";
import { MessageSchema, MessageType } from "../../../raftpb/raft_pb.ts";

const params: TransferParams = {
  transfer: "0b6f4c1e-2f7a-4f57-9f3e-7c1d1a7f0e11",
  index: 12n,
  term: 3n,
  size: 5000,
  window: 4096,
  digest: "crc32",
};
const snap = create(MessageSchema, {
  type: MessageType.MsgSnap,
  snapshot: { metadata: { index: 12n, term: 3n } },
});

Deno.test("resume protocol: the extension headers round-trip; etcd's POST has none", () => {
  const got = parseExtension(new Headers(extensionHeaders(params, 4100)), snap);
  assertEquals(got, { params, offset: 4100, final: false });
  const last = parseExtension(new Headers(extensionHeaders(params, 0, true)), snap);
  assertEquals(last, { params, offset: 0, final: true });
  assertEquals(
    parseExtension(new Headers({ "Content-Type": "application/octet-stream" }), snap),
    undefined,
  );
  assert(resumeQuery(params).startsWith("/raft/snapshot/resume?transfer="));
});

Deno.test("resume protocol: malformed extension headers get 400", () => {
  const bad: Record<string, string>[] = [
    { [SNAP_H.window]: "100" }, // below the smallest window
    { [SNAP_H.window]: "4096", [SNAP_H.transfer]: "../x" },
    { [SNAP_H.offset]: "6000" }, // beyond the size
    { [SNAP_H.size]: "-1" },
    { [SNAP_H.offset]: "1e3" },
  ];
  for (const change of bad) {
    const h = new Headers({ ...extensionHeaders(params, 0), ...change });
    const e = assertThrows(() => parseExtension(h, snap));
    assertInstanceOf(e, HttpError);
    assertEquals(e.status, 400);
  }
});

/** A fetch that answers once with `res` (or throws `res`), as the extension's context. */
function answering(res: Response | Error) {
  const seen: string[] = [];
  const dialer = fetchDialer((input: RequestInfo | URL) => {
    seen.push(String(input));
    return res instanceof Error ? Promise.reject(res) : Promise.resolve(res);
  });
  return { f: { dialer, headers: () => Promise.resolve({}) }, seen };
}

Deno.test("resume query: etcd's 404 means the plain protocol, ours 200 gives the offset", async () => {
  const signal = new AbortController().signal;
  const etcd = answering(new Response("404 page not found\n", { status: 404 }));
  assertEquals(await queryOffset(etcd.f, "http://peer", params, signal, 1000), undefined);
  assert(etcd.seen[0].startsWith("http://peer/raft/snapshot/resume?"));
  const ours = answering(Response.json({ offset: 4097, digest: "crc32" }));
  assertEquals(await queryOffset(ours.f, "http://peer", params, signal, 1000), {
    offset: 4097,
    digest: "crc32",
  });
  // A digest we did not offer, or an offset beyond the size: an error, not a resume.
  const odd = answering(Response.json({ offset: 1, digest: "md5" }));
  assertInstanceOf(await queryOffset(odd.f, "http://peer", params, signal, 1000), PeerRequestError);
  const far = answering(Response.json({ offset: 9999, digest: "crc32" }));
  assertInstanceOf(await queryOffset(far.f, "http://peer", params, signal, 1000), PeerRequestError);
  // No answer or a 5xx: an error worth a retry.
  const down = answering(new TypeError("connection refused"));
  const e = await queryOffset(down.f, "http://peer", params, signal, 1000);
  assert(e instanceof Error && retryable(e));
  const busy = answering(new Response("busy", { status: 503 }));
  const e2 = await queryOffset(busy.f, "http://peer", params, signal, 1000);
  assert(e2 instanceof PeerRequestError && e2.status === 503 && retryable(e2));
});

Deno.test("resume: what is retried", () => {
  assert(retryable(new PeerRequestError("cut")));
  assert(retryable(new PeerRequestError("busy", 503)));
  assert(retryable(new PeerRequestError("moved on", 409)));
  assert(!retryable(new PeerRequestError("digest", 400)));
  assert(!retryable(new StoppedError()));
});
