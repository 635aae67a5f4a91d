// The /_test/... hooks of the disk faults, snapshots and joint changes: each
// reaches its hook and answers 204 once done; a bad joint body gets 400 and
// reaches nothing; a change the configuration refuses gets 400, a timeout
// 503; a member without a hook answers 404.
import { assertEquals, assertStringIncludes } from "@std/assert";
import { ConfChangeError } from "../../raft/mod.ts";
import { ReplicaStoppedError } from "../../replica/mod.ts";
import { RequestTimeoutError } from "./errors.ts";
import { createKvHandler, type KvService } from "./http_api.ts";
import { type KvTestHooks, parseJointBody } from "./test_hooks.ts";

const service: KvService = {
  put: () => Promise.reject(new Error("not here")),
  get: () => Promise.reject(new Error("not here")),
  addMember: () => Promise.reject(new Error("not here")),
  removeMember: () => Promise.reject(new Error("not here")),
};

const post = (path: string, body?: string) =>
  new Request(`http://kv${path}`, { method: "POST", body });

function hooks(seen: string[], fail?: Error): KvTestHooks {
  return {
    cut: (id) => void seen.push(`cut ${id}`),
    mend: (id) => void seen.push(`mend ${id}`),
    status: () => ({}),
    failFsync: () => void seen.push("fail-fsync"),
    tear: () => void seen.push("tear"),
    slowFsync: (ms) => void seen.push(`slow ${ms}`),
    snapshot: async () => {
      await new Promise((r) => setTimeout(r, 20)); // answered only once it is done
      if (fail) throw fail;
      seen.push("snapshot");
    },
    joint: (u) => {
      if (fail) return Promise.reject(fail);
      const add = u.add?.map((a) => `+${a.id}@${a.urls}`) ?? [];
      seen.push(`joint ${[...add, ...(u.remove ?? []).map((id) => `-${id}`)].join(" ")}`);
      return Promise.resolve();
    },
  };
}

async function answer(h: (r: Request) => Promise<Response>, r: Request): Promise<[number, string]> {
  const res = await h(r);
  return [res.status, await res.text()];
}

Deno.test("test hooks: disk faults, snapshot and joint change reach their hook; 204 when done", async () => {
  const seen: string[] = [];
  const h = createKvHandler(service, { hooks: hooks(seen) });
  assertEquals(await answer(h, post("/_test/disk/fail-fsync")), [204, ""]);
  assertEquals(await answer(h, post("/_test/disk/tear")), [204, ""]);
  assertEquals(await answer(h, post("/_test/disk/slow/40")), [204, ""]);
  assertEquals((await answer(h, post("/_test/disk/slow/70000")))[0], 400);
  assertEquals((await answer(h, post("/_test/disk/slow/x")))[0], 400);
  assertEquals(await answer(h, post("/_test/snapshot")), [204, ""]);
  const body = '{"add":[{"id":"6","url":"http://127.0.0.1:9006"}],"remove":["2", 3]}';
  assertEquals(await answer(h, post("/_test/joint", body)), [204, ""]);
  assertEquals(seen, [
    "fail-fsync",
    "tear",
    "slow 40",
    "snapshot",
    "joint +6@http://127.0.0.1:9006 -2 -3",
  ]);
  const get = await answer(h, new Request("http://kv/_test/snapshot"));
  assertEquals(get[0], 404);
});

Deno.test("test hooks: a bad joint body is 400 and reaches nothing", async () => {
  const seen: string[] = [];
  const h = createKvHandler(service, { hooks: hooks(seen) });
  const bad: [string, string][] = [
    ["not json", "must be JSON"],
    ["[1]", "JSON object"],
    ["{}", "adds and removes nobody"],
    ['{"remove":[]}', "adds and removes nobody"],
    ['{"remove":"2"}', "remove must be an array"],
    ['{"remove":["0"]}', "remove[0] must be a member id"],
    ['{"remove":["-1"]}', "remove[0] must be a member id"],
    ['{"remove":[1.5]}', "remove[0] must be a member id"],
    ['{"remove":["99999999999999999999"]}', "remove[0] must be a member id"],
    ['{"add":[{"id":"6"}]}', "add[0].url must be a peer URL"],
    ['{"add":[{"id":"6","url":"ftp://h:1"}]}', "add[0].url must be a peer URL"],
    ['{"add":[7]}', "add[0] must be an object"],
    ['{"add":[],"drop":["2"]}', "unknown field drop"],
  ];
  for (const [body, why] of bad) {
    const [status, text] = await answer(h, post("/_test/joint", body));
    assertEquals(status, 400, body);
    assertStringIncludes(text, why, body);
  }
  assertEquals(seen, []);
  assertEquals(parseJointBody('{"remove":["18446744073709551615"]}').remove, [2n ** 64n - 1n]);
  const big = await answer(h, post("/_test/joint", '{"remove":[18446744073709551615]}'));
  assertEquals(big[0], 400, "a number beyond 2^53 is not taken (it lost its digits in JSON)");
});

Deno.test("test hooks: a refused change is 400, a timeout or a stopped member 503", async () => {
  const cases: [Error, number][] = [
    [new RangeError("cannot remove 9: it is not a member"), 400],
    [new ConfChangeError("removing all voters"), 400],
    [new RequestTimeoutError("a joint membership change", 1000), 503],
    [new ReplicaStoppedError("stopped"), 503],
  ];
  for (const [e, status] of cases) {
    const h = createKvHandler(service, { hooks: hooks([], e) });
    const res = await h(post("/_test/joint", '{"remove":["2"]}'));
    assertEquals(res.status, status, e.message);
    assertStringIncludes(await res.text(), e.message);
    if (!(e instanceof RangeError) && !(e instanceof ConfChangeError)) {
      assertEquals((await h(post("/_test/snapshot"))).status, status, `snapshot: ${e.message}`);
    }
  }
});

Deno.test("test hooks: a member without the disk hooks answers 404; without hooks they are keys", async () => {
  const base = hooks([]);
  const h = createKvHandler(service, {
    hooks: { cut: base.cut, mend: base.mend, status: base.status },
  });
  for (const path of ["/_test/disk/fail-fsync", "/_test/disk/tear", "/_test/snapshot"]) {
    assertEquals((await answer(h, post(path)))[0], 404, path);
  }
  assertEquals((await answer(h, post("/_test/joint", '{"remove":["2"]}')))[0], 404);
  const plain = createKvHandler(service);
  assertEquals((await answer(plain, post("/_test/disk/tear", "http://x:1")))[0], 400); // POST /ID
});
