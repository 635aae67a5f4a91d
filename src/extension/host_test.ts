import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import { ExtensionHost, NO_EXTENSIONS } from "./host.ts";
import type {
  ExtensionContext,
  ExtensionHooks,
  SnapshotIntake,
  SnapshotReceive,
  SnapshotSend,
  TransportExtension,
} from "./extension.ts";

const ctx = {} as ExtensionContext;
const ext = (name: string, hooks: ExtensionHooks): TransportExtension => ({
  name,
  start: () => hooks,
});
const route = { handle: () => new Response("x") };

Deno.test("extension host: a bad list or route is refused, and what started is stopped", () => {
  assertThrows(() => new ExtensionHost("x" as never, ctx), TypeError, "must be an array");
  assertThrows(() => new ExtensionHost([{ name: "a" } as never], ctx), TypeError, "start");
  assertThrows(() => new ExtensionHost([ext("a", {}), ext("a", {})], ctx), TypeError, "twice");
  for (const path of ["/raft", "/raft/snapshot", "/raft/stream/message/1", "/version", "/x"]) {
    const bad = ext("b", { routes: { [path]: route } });
    assertThrows(() => new ExtensionHost([bad], ctx), TypeError, `cannot serve ${path}`);
  }
  let stopped = 0;
  const first = ext("a", {
    routes: { "/raft/a": route },
    stop: () => Promise.resolve(void stopped++),
  });
  const clash = ext("b", { routes: { "/raft/a": route } });
  assertThrows(() => new ExtensionHost([first, clash], ctx), TypeError, "cannot serve /raft/a");
  assertEquals(stopped, 1);
  assertThrows(() => new ExtensionHost([first]), TypeError, "need a transport");
  assertEquals(new ExtensionHost([first], ctx).routes.get("/raft/a"), route);
});

Deno.test("extension host: the first extension that takes a send or a receive has it", async () => {
  const send = {} as SnapshotSend;
  const outcome = { url: "u", bytes: 1 };
  const calls: string[] = [];
  const host = new ExtensionHost([
    ext("declines", { sendSnapshot: () => void calls.push("declines") }),
    ext("takes", { sendSnapshot: () => (calls.push("takes"), Promise.resolve(outcome)) }),
    ext("never asked", { sendSnapshot: () => (calls.push("never"), undefined) }),
  ], ctx);
  assertEquals(await host.sendSnapshot(send), outcome);
  assertEquals(calls, ["declines", "takes"]);
  assertEquals(NO_EXTENSIONS.sendSnapshot(send), undefined);

  const intake = { offset: 3 } as SnapshotIntake;
  const r = {} as SnapshotReceive;
  const recv = new ExtensionHost([
    ext("a", { receiveSnapshot: () => Promise.resolve(undefined) }),
    ext("b", { receiveSnapshot: () => Promise.resolve(intake) }),
  ], ctx);
  assertEquals(await recv.receiveSnapshot(r), intake);
  assertEquals(await NO_EXTENSIONS.receiveSnapshot(r), undefined);
});

Deno.test("extension host: stream dial headers, answers, and a stop that reaches every extension", async () => {
  const seen: string[] = [];
  const host = new ExtensionHost([
    ext("a", {
      requestHeaders: (to, path) => ({ "X-Rafthttp-A": `${to}${path}` }),
      responseHeaders: (from, _p, h) => void seen.push(`${from}:${h.get("X-Rafthttp-A")}`),
      stop: () => Promise.reject(new Error("a failed")),
    }),
    ext("b", {
      requestHeaders: () => undefined,
      answerHeaders: (req) => ({ "X-Rafthttp-B": req.headers.get("X-Rafthttp-A") ?? "-" }),
      stop: () => Promise.resolve(void seen.push("b stopped")),
    }),
  ], ctx);
  assertEquals(host.requestHeaders(2n, "/raft/stream/message/1"), {
    "X-Rafthttp-A": "2/raft/stream/message/1",
  });
  host.responseHeaders(2n, "/p", new Headers({ "X-Rafthttp-A": "yes" }));
  const res = new Response("ok");
  host.answer(new Request("http://x/", { headers: { "X-Rafthttp-A": "1" } }), "/p", res);
  assertEquals(res.headers.get("X-Rafthttp-B"), "1");
  await assertRejects(() => host.stop(), Error, "a failed");
  assertEquals(seen, ["2:yes", "b stopped"]);
  assertEquals(NO_EXTENSIONS.requestHeaders(2n, "/p"), {});
});
