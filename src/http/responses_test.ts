import { assert, assertEquals, assertInstanceOf, assertStringIncludes } from "@std/assert";
import { checkPostResponse, isCritical, preconditionFailed } from "./responses.ts";
import {
  ClusterIdMismatchError,
  IncompatibleVersionError,
  MemberRemovedError,
  PeerRequestError,
} from "../errors.ts";

const CFG = { id: 0x1an, clusterId: 0xcafen, serverVersion: "3.4.23" };
const PEER = 0x2bn;

const answer = (status: number, text = "") =>
  checkPostResponse(
    new Response(status === 204 ? null : text, { status }),
    "POST /raft",
    PEER,
    CFG,
  );

Deno.test("checkPostResponse: 204 is success", async () => {
  assertEquals(await answer(204), undefined);
});

Deno.test("checkPostResponse: 412 cluster ID mismatch", async () => {
  const e = await answer(412, "cluster ID mismatch\n");
  assertInstanceOf(e, ClusterIdMismatchError);
  const c = e as ClusterIdMismatchError;
  assertEquals(c.status, 412);
  assertStringIncludes(c.message, "peer 2b");
  assertStringIncludes(c.message, "POST /raft");
  assertStringIncludes(c.message, "ours is cafe");
});

Deno.test("checkPostResponse: 412 incompatible version", async () => {
  const e = await answer(412, "incompatible version\n");
  assertInstanceOf(e, IncompatibleVersionError);
  assertEquals((e as IncompatibleVersionError).status, 412);
  assertStringIncludes(e!.message, "3.4.23");
});

Deno.test("checkPostResponse: 412 with another body is a plain PeerRequestError", async () => {
  const e = await answer(412, "something else\n");
  assertInstanceOf(e, PeerRequestError);
  assert(!(e instanceof ClusterIdMismatchError) && !(e instanceof IncompatibleVersionError));
  assertEquals((e as PeerRequestError).status, 412);
  assertStringIncludes(e!.message, "412 something else");
  // Only one trailing newline is stripped; the text must match exactly.
  const e2 = await answer(412, "cluster ID mismatch\n\n");
  assert(!(e2 instanceof ClusterIdMismatchError));
});

Deno.test("checkPostResponse: 403 means this member was removed", async () => {
  const e = await answer(403, "cannot process message from removed member\n");
  assertInstanceOf(e, MemberRemovedError);
  assertEquals((e as MemberRemovedError).status, 403);
  assertEquals((e as MemberRemovedError).peer, PEER, "it names the peer that refused us");
  assertStringIncludes(e!.message, "(1a)");
  assertStringIncludes(e!.message, "peer 2b");
});

Deno.test("checkPostResponse: 500 and 200 are unexpected statuses", async () => {
  for (const status of [500, 200, 400, 503]) {
    const e = await answer(status, "some error\n");
    assertInstanceOf(e, PeerRequestError);
    assert(!(e instanceof MemberRemovedError));
    assertEquals((e as PeerRequestError).status, status);
    assertStringIncludes(e!.message, `unexpected http status ${status} some error`);
    assertStringIncludes(e!.message, "POST /raft");
  }
});

Deno.test("preconditionFailed: names what was refused", () => {
  const e = preconditionFailed("cluster ID mismatch", "stream dial", PEER, CFG);
  assertInstanceOf(e, ClusterIdMismatchError);
  assertStringIncludes(e.message, "stream dial");
});

Deno.test("isCritical: the errors the application must hear about", () => {
  assert(isCritical(new MemberRemovedError("removed", 410)));
  assert(isCritical(new ClusterIdMismatchError("mismatch")));
  assert(isCritical(new IncompatibleVersionError("old")));
  assert(!isCritical(new PeerRequestError("500", 500)));
  assert(!isCritical(new PeerRequestError("412 other", 412)));
  assert(!isCritical(new Error("network")));
  assert(!isCritical(undefined));
  assert(!isCritical("cluster ID mismatch"));
});
