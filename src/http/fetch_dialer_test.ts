import { assertEquals } from "@std/assert";
import { dialerSuite } from "../../tests/dialer_suite.ts";
import { fetchDialer } from "./fetch_dialer.ts";

dialerSuite("fetchDialer", () => ({ dialer: fetchDialer(fetch), close() {} }));

Deno.test("fetchDialer: requests go through the given fetch, streamed bodies half-duplex", async () => {
  const seen: [string, RequestInit | undefined][] = [];
  const dialer = fetchDialer((input, init) => {
    seen.push([String(input), init]);
    return Promise.resolve(new Response(null, { status: 204 }));
  });
  const body = new ReadableStream<Uint8Array>();
  const res = await dialer.dial({ method: "POST", url: "http://127.0.0.1:1/raft", body });
  assertEquals(res.status, 204);
  assertEquals(await res.body.text(10), "");
  await res.body.consume(() => {}).catch(() => {});
  assertEquals(seen.length, 1);
  assertEquals(seen[0][0], "http://127.0.0.1:1/raft");
  assertEquals((seen[0][1] as { duplex?: string }).duplex, "half");
  assertEquals(seen[0][1]?.method, "POST");
});
