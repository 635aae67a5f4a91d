import { assertEquals } from "@std/assert";
import {
  NoLeaderError,
  OutcomeUnknownError,
  ProposalTooLargeError,
  ReplicaStoppedError,
} from "../../replica/mod.ts";
import { RequestTimeoutError } from "./errors.ts";
import { createKvHandler, type KvService, parseMemberId, splitUrl } from "./http_api.ts";

/** An in-memory stand-in for a member: records what the API asked for. */
function fakeService() {
  const map = new Map<string, string>();
  const calls: string[] = [];
  const service: KvService & { fail?: Error } = {
    put(k, v) {
      calls.push(`put ${k}=${v}`);
      if (service.fail) return Promise.reject(service.fail);
      map.set(k, v);
      return Promise.resolve();
    },
    get(k, stale) {
      calls.push(`get ${k}${stale ? " stale" : ""}`);
      return service.fail ? Promise.reject(service.fail) : Promise.resolve(map.get(k));
    },
    addMember(id, url) {
      calls.push(`add ${id} ${url}`);
      return Promise.resolve();
    },
    removeMember(id) {
      calls.push(`remove ${id}`);
      return Promise.resolve();
    },
  };
  return { service, calls };
}

const req = (method: string, path: string, body?: string) =>
  new Request(`http://kv${path}`, { method, body });

Deno.test("http api: PUT then GET as raftexample (204, 200 + value, 404)", async () => {
  const { service, calls } = fakeService();
  const h = createKvHandler(service);
  const put = await h(req("PUT", "/my-key", "hello"));
  assertEquals([put.status, await put.text()], [204, ""]);
  const got = await h(req("GET", "/my-key"));
  assertEquals([got.status, await got.text()], [200, "hello"]);
  const stale = await h(req("GET", "/my-key?stale"));
  assertEquals([stale.status, await stale.text()], [200, "hello"]);
  const missing = await h(req("GET", "/nope"));
  assertEquals([missing.status, await missing.text()], [404, "Failed to GET\n"]);
  assertEquals(calls, ["put /my-key=hello", "get /my-key", "get /my-key stale", "get /nope"]);
});

Deno.test("http api: POST /ID adds, DELETE /ID removes; bad ids and URLs get 400", async () => {
  const { service, calls } = fakeService();
  const h = createKvHandler(service);
  assertEquals((await h(req("POST", "/4", "http://127.0.0.1:42379"))).status, 204);
  assertEquals((await h(req("DELETE", "/0x3"))).status, 204);
  for (
    const [m, p, b] of [["POST", "/x", "http://h:1"], ["DELETE", "/0"], ["POST", "/4", "nope"]]
  ) {
    const r = await h(req(m, p, b));
    assertEquals(r.status, 400, `${m} ${p}`);
    await r.body?.cancel();
  }
  assertEquals(calls, ["add 4 http://127.0.0.1:42379", "remove 3"]);
});

Deno.test("http api: timeouts and a stopping member answer 503, never 204", async () => {
  const { service } = fakeService();
  const h = createKvHandler(service);
  service.fail = new RequestTimeoutError("PUT /a", 5000);
  const r = await h(req("PUT", "/a", "1"));
  assertEquals(r.status, 503);
  assertEquals((await r.text()).includes("may still take effect"), true);
  for (
    const fail of [
      new ReplicaStoppedError(),
      new OutcomeUnknownError("the leader changed (term 3) before it reached this log"),
      new NoLeaderError("no leader is known"),
    ]
  ) {
    service.fail = fail;
    const g = await h(req("GET", "/a"));
    assertEquals([g.status, g.headers.get("retry-after")], [503, "1"], fail.name);
    await g.body?.cancel();
  }
  service.fail = new ProposalTooLargeError(3 << 20, 2 << 20);
  const big = await h(req("PUT", "/a", "1"));
  assertEquals(big.status, 413);
  await big.body?.cancel();
  service.fail = new Error("boom");
  const e = await h(req("GET", "/a"));
  assertEquals(e.status, 500);
  await e.body?.cancel();
});

Deno.test("http api: other methods get 405 with Allow; big or non-UTF-8 bodies are refused", async () => {
  const { service, calls } = fakeService();
  const h = createKvHandler(service, { maxValueBytes: 4 });
  const r = await h(req("PATCH", "/a", "x"));
  assertEquals([r.status, r.headers.get("allow")], [405, "PUT, GET, POST, DELETE"]);
  await r.body?.cancel();
  const big = await h(req("PUT", "/a", "12345"));
  assertEquals(big.status, 413);
  await big.body?.cancel();
  const bin = await h(new Request("http://kv/a", { method: "PUT", body: new Uint8Array([0xff]) }));
  assertEquals(bin.status, 400);
  await bin.body?.cancel();
  assertEquals(calls, []);
});

Deno.test("http api: /_test hooks only with --test-hooks; otherwise ordinary keys", async () => {
  const { service, calls } = fakeService();
  const seen: string[] = [];
  const hooks = {
    cut: (id: bigint) => seen.push(`cut ${id}`),
    mend: (id: bigint) => seen.push(`mend ${id}`),
    status: () => ({ lead: 2n }),
    transfer: (id: bigint) => seen.push(`transfer ${id}`),
  };
  const h = createKvHandler(service, { hooks });
  assertEquals((await h(req("POST", "/_test/cut/2"))).status, 204);
  assertEquals((await h(req("POST", "/_test/mend/2"))).status, 204);
  assertEquals((await h(req("POST", "/_test/transfer/3"))).status, 204);
  assertEquals(await (await h(req("GET", "/_test/status"))).json(), { lead: "2" });
  assertEquals(seen, ["cut 2", "mend 2", "transfer 3"]);
  const noTransfer = createKvHandler(service, { hooks: { ...hooks, transfer: undefined } });
  assertEquals((await noTransfer(req("POST", "/_test/transfer/3"))).status, 404);
  const plain = createKvHandler(service);
  assertEquals((await plain(req("PUT", "/_test/cut/2", "v"))).status, 204);
  assertEquals(calls, ["put /_test/cut/2=v"]);
});

Deno.test("parseMemberId reads ids as Go's ParseUint(s, 0, 64)", () => {
  const cases: [string, bigint | undefined][] = [
    ["4", 4n],
    ["0x10", 16n],
    ["010", 8n],
    ["0o10", 8n],
    ["0b11", 3n],
    ["1_000", 1000n],
    ["18446744073709551615", (1n << 64n) - 1n],
    ["18446744073709551616", undefined],
    ["-1", undefined],
    ["", undefined],
    ["abc", undefined],
  ];
  for (const [s, want] of cases) assertEquals(parseMemberId(s), want, s);
});

Deno.test("splitUrl gives the path as sent and the query", () => {
  assertEquals(splitUrl("http://kv:1/my-key"), { path: "/my-key", query: "" });
  assertEquals(splitUrl("http://kv:1/a/b?stale"), { path: "/a/b", query: "stale" });
  assertEquals(splitUrl("http://kv:1/a%20b?x=1&stale"), { path: "/a%20b", query: "x=1&stale" });
  assertEquals(splitUrl("http://kv:1"), { path: "/", query: "" });
});

Deno.test("http api: a request still waiting when its client goes away stops waiting", async () => {
  let seen: AbortSignal | undefined;
  const service: KvService = {
    put: (_k, _v, signal) =>
      new Promise((_, reject) => {
        seen = signal;
        signal!.addEventListener("abort", () => reject(signal!.reason), { once: true });
      }),
    get: () => Promise.resolve(undefined),
    addMember: () => Promise.resolve(),
    removeMember: () => Promise.resolve(),
  };
  const h = createKvHandler(service);
  const client = new AbortController();
  const answer = h(new Request("http://kv/a", { method: "PUT", body: "1", signal: client.signal }));
  await new Promise((r) => setTimeout(r, 80)); // past the time a request starts to watch
  assertEquals(seen?.aborted, false);
  client.abort(new Error("the client went away"));
  const r = await answer;
  assertEquals([seen?.aborted, r.status], [true, 500]);
  await r.body?.cancel();
});
