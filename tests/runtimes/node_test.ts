// A Node.js 22 member (the bundle on serveNode(), in its own Node process) and
// Deno members, over HTTP on 127.0.0.1; then serveNode()'s own promises on
// Node: headers at once, every chunk at once, backpressure both ways, a body
// cancelled when its client goes away, 500 for a handler that throws, 400 for
// a malformed request.
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import {
  buildOnce,
  Child,
  crossRuntimeScenario,
  DenoMember,
  freePort,
  ProcessMember,
  runtime,
} from "./harness.ts";

const NODE = runtime("node");
const MiB = 1024 * 1024;
const root = new URL("../../", import.meta.url);

Deno.test({
  name: "node: a Node.js member and two Deno members: streams, traffic, 16 MiB snapshots, restart",
  ignore: NODE === undefined,
  async fn() {
    await buildOnce();
    const d1 = new DenoMember(1n, []);
    const d2 = new DenoMember(2n, []);
    const port = freePort();
    const node = new ProcessMember(
      "node",
      NODE!,
      ["dist/runtimes/node_member.js"],
      5n,
      port,
      [[1n, d1.url], [2n, d2.url]],
    );
    d1.addPeer(2n, d2.url);
    d1.addPeer(5n, node.url);
    d2.addPeer(1n, d1.url);
    d2.addPeer(5n, node.url);
    try {
      d1.start();
      d2.start();
      await node.start();
      await node.child.waitFor(/node v22\.\d+\.\d+ member 5 listening/);
      await crossRuntimeScenario(node, d1, d2, "Node");
      // The Node member dials with node:http (no User-Agent), not fetch ("node").
      assertEquals([...d1.agents.get("5") ?? []], [""], "the Node member's user agents");
      // No request failed in the server itself (its logger prints these).
      assertEquals(node.output().split("\n").filter((l) => /: node server: /.test(l)), []);
    } catch (e) {
      console.error(node.output());
      throw e;
    } finally {
      await node.kill();
      await d1.close();
      await d2.close();
    }
  },
});

// A Node process serving test routes with serveNode() (as `fallback`), driven
// from here. /t/state reports what the server side saw.
const EDGE_SCRIPT = `
const { serveNode, Transport } = await import(process.env.BUNDLE);
const MiB = 1024 * 1024;
const transport = new Transport({
  id: 1n, clusterId: 1n, urls: ["http://127.0.0.1:1"],
  raft: { process() {}, isIDRemoved: () => false, reportUnreachable() {}, reportSnapshot() {} },
});
const state = { pulled: 0, cancelled: null, uploaded: -1 };
const json = (v) => new Response(JSON.stringify(v), { headers: { "content-type": "application/json" } });
let push;
let release;
const held = new Promise((r) => release = r);
const routes = {
  "/t/state": () => json(state),
  "/t/reject": () => { throw new Error("thrown by the test handler"); },
  // An endless body: one chunk per GET /t/next, nothing before.
  "/t/drip": () => new Response(new ReadableStream({
    start(c) { push = (text) => c.enqueue(new TextEncoder().encode(text)); },
    cancel(reason) { state.cancelled = String(reason); },
  })),
  "/t/next": (req) => { push(new URL(req.url).searchParams.get("text")); return json(true); },
  // 64 MiB made on demand: counts what the server was made to pull.
  "/t/big": () => new Response(new ReadableStream({
    pull(c) {
      if (state.pulled >= 64 * MiB) return c.close();
      state.pulled += 64 * 1024;
      c.enqueue(new Uint8Array(64 * 1024));
    },
  }, { highWaterMark: 0 })),
  // Reads its body only once /t/release is called.
  "/t/upload": async (req) => {
    await held;
    let n = 0;
    for await (const chunk of req.body) n += chunk.byteLength;
    state.uploaded = n;
    return json(n);
  },
  "/t/release": () => { release(); return json(true); },
};
const server = await serveNode(transport, {
  port: Number(process.env.PORT),
  fallback: (req) => (routes[new URL(req.url).pathname] ?? (() => new Response("", { status: 404 })))(req),
  logger: {
    debug() {}, info() {},
    warn: (m, f) => console.log("warn: " + m + " " + JSON.stringify(f)),
    error: (m, f) => console.log("error: " + m + " " + JSON.stringify(f)),
  },
});
console.log("listening on " + server.addr.hostname + ":" + server.addr.port);
`;

/** Resolves with `p`, or rejects after `ms`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The test routes of EDGE_SCRIPT's server at `base`. */
function edgeClient(base: string) {
  const get = async (path: string) => {
    const res = await fetch(base + path);
    return { status: res.status, body: await res.text() };
  };
  /** What the server side saw. */
  const state = async () =>
    JSON.parse((await get("/t/state")).body) as {
      pulled: number;
      cancelled: string | null;
      uploaded: number;
    };
  return { base, get, state };
}
type EdgeClient = ReturnType<typeof edgeClient>;

/** A handler that throws and a malformed request each get their error; the server goes on. */
async function survivesFailures({ get }: EdgeClient, child: Child, port: number): Promise<void> {
  // A handler that throws: 500, logged, and the process goes on.
  assertEquals((await get("/t/reject")).status, 500);
  await child.waitFor(/error: node server: the handler failed .*thrown by the test handler/);
  // A malformed request: 400 from the server, which goes on.
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode("GARBAGE\r\n\r\n"));
    const buf = new Uint8Array(256);
    const n = await within(conn.read(buf), 2000, "the answer to a malformed request");
    assertStringIncludes(new TextDecoder().decode(buf.subarray(0, n ?? 0)), "400 Bad Request");
  } finally {
    conn.close();
  }
  assertEquals((await get("/raft/probing")).status, 200);
}

/**
 * Headers before any body byte, then each chunk as soon as it is written;
 * when the client goes away, the server cancels the body.
 */
async function streamsAtOnce({ base, get, state }: EdgeClient): Promise<void> {
  const abort = new AbortController();
  const drip = await within(
    fetch(base + "/t/drip", { signal: abort.signal }),
    1000,
    "the headers of a body with no bytes yet",
  );
  assertEquals(drip.status, 200);
  const reader = drip.body!.getReader();
  const decoder = new TextDecoder();
  for (let i = 0; i < 5; i++) {
    await get(`/t/next?text=chunk${i}`);
    const { value } = await within(reader.read(), 500, `chunk ${i}`);
    assertEquals(decoder.decode(value), `chunk${i}`);
  }
  // The client goes away: the server cancels the body.
  abort.abort();
  await reader.read().catch(() => {});
  const t0 = Date.now();
  while ((await state()).cancelled === null) {
    assert(Date.now() - t0 < 3000, "the body of a gone client was not cancelled");
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A response body is pulled only as fast as the client reads; returns what was pulled unread. */
async function responseBackpressure({ base, state }: EdgeClient): Promise<number> {
  const big = await fetch(base + "/t/big");
  await new Promise((r) => setTimeout(r, 1000));
  const pulled = (await state()).pulled;
  assert(pulled < 24 * MiB, `the server pulled ${pulled} bytes of 64 MiB nobody read`);
  let got = 0;
  for await (const chunk of big.body!) got += chunk.byteLength;
  assertEquals(got, 64 * MiB);
  return pulled;
}

/** A request body is taken only as fast as the handler reads; returns what was sent unread. */
async function requestBackpressure({ base, get }: EdgeClient): Promise<number> {
  let sent = 0;
  const upload = fetch(base + "/t/upload", {
    method: "POST",
    body: new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent >= 64 * MiB) return c.close();
        sent += 64 * 1024;
        c.enqueue(new Uint8Array(64 * 1024));
      },
    }, { highWaterMark: 0 }),
    // @ts-ignore: duplex is not in Deno's RequestInit yet
    duplex: "half",
  });
  await new Promise((r) => setTimeout(r, 1000));
  const unread = sent;
  assert(unread < 24 * MiB, `the client could send ${unread} bytes of 64 MiB nobody read`);
  assertEquals((await get("/t/release")).status, 200);
  const res = await upload;
  assertEquals(await res.json(), 64 * MiB);
  return unread;
}

Deno.test({
  name: "node: serveNode() streams at once, with backpressure both ways, and survives failures",
  ignore: NODE === undefined,
  async fn() {
    await buildOnce();
    const port = freePort();
    const edge = edgeClient(`http://127.0.0.1:${port}`);
    const child = new Child("node-edge", NODE!, ["--input-type=module", "-e", EDGE_SCRIPT], {
      BUNDLE: new URL("dist/rafthttp.js", root).href,
      PORT: String(port),
    });
    try {
      child.spawn();
      await child.waitFor(new RegExp(`listening on 127\\.0\\.0\\.1:${port}$`));
      await survivesFailures(edge, child, port);
      await streamsAtOnce(edge);
      const pulled = await responseBackpressure(edge);
      const unread = await requestBackpressure(edge);
      console.log(
        `unread: the server pulled ${pulled / MiB} MiB, the client sent ${unread / MiB} MiB`,
      );
      assertEquals(child.exited, false);
    } catch (e) {
      console.error(child.output());
      throw e;
    } finally {
      await child.kill();
    }
  },
});
