import { assert, assertEquals } from "@std/assert";
import {
  formatId,
  H,
  identityHeaders,
  type LocalIdentity,
  parseId,
  requestHeaders,
} from "./headers.ts";
import { AUTH_HEADER, RequestAuth } from "./auth.ts";

const MAX = (1n << 64n) - 1n;

const LOCAL: LocalIdentity = {
  id: 0x1an,
  clusterId: 0xcafen,
  urls: ["http://10.0.0.3:2380", "http://10.0.0.1:2380", "https://10.0.0.2:2380"],
  serverVersion: "3.4.23",
  minClusterVersion: "3.0.0",
};

Deno.test("formatId: lowercase hex, no prefix, no padding", () => {
  assertEquals(formatId(0n), "0");
  assertEquals(formatId(10n), "a");
  assertEquals(formatId(0x8e9e05c52164694dn), "8e9e05c52164694d");
  assertEquals(formatId(MAX), "ffffffffffffffff");
});

Deno.test("parseId: hex in any case, as Go's ParseUint(s, 16, 64)", () => {
  assertEquals(parseId("ff"), 255n);
  assertEquals(parseId("FF"), 255n);
  assertEquals(parseId("fF"), 255n);
  assertEquals(parseId("8E9E05C52164694D"), 0x8e9e05c52164694dn);
  assertEquals(parseId("0"), 0n);
  assertEquals(parseId("ffffffffffffffff"), MAX);
});

Deno.test("parseId: leading zeros are allowed, beyond 16 digits too", () => {
  assertEquals(parseId("00"), 0n);
  assertEquals(parseId("000a"), 10n);
  assertEquals(parseId("0ffffffffffffffff"), MAX, "17 digits with a leading zero fit");
  assertEquals(parseId("0".repeat(40) + "1"), 1n);
});

Deno.test("parseId: values above 64 bits, empty and non-hex text are refused", () => {
  assertEquals(parseId("10000000000000000"), undefined, "17 significant digits overflow");
  assertEquals(parseId("fffffffffffffffff"), undefined);
  assertEquals(parseId(null), undefined);
  for (const s of ["", "g", "0x1f", "0X1F", "+1", "-1", " 1", "1 ", "1_0", "1.0", "ä"]) {
    assertEquals(parseId(s), undefined, JSON.stringify(s));
  }
});

Deno.test("parseId(formatId(id)) round-trips", () => {
  for (const id of [0n, 1n, 0xabcdefn, 1n << 63n, MAX, 0x0123456789abcdefn]) {
    assertEquals(parseId(formatId(id)), id);
    assertEquals(parseId(formatId(id).toUpperCase()), id);
  }
});

Deno.test("identityHeaders: etcd's headers, with X-PeerURLs sorted", () => {
  const urls = [...LOCAL.urls];
  const h = identityHeaders(LOCAL);
  assertEquals(h, {
    [H.from]: "1a",
    [H.serverVersion]: "3.4.23",
    [H.minClusterVersion]: "3.0.0",
    [H.clusterId]: "cafe",
    [H.peerUrls]: "http://10.0.0.1:2380,http://10.0.0.3:2380,https://10.0.0.2:2380",
  });
  assertEquals(LOCAL.urls, urls, "sorting must not reorder the caller's list");
});

Deno.test("identityHeaders: no X-PeerURLs without URLs", () => {
  const h = identityHeaders({ ...LOCAL, urls: [] });
  assert(!(H.peerUrls in h));
  assertEquals(h[H.from], "1a");
});

Deno.test("requestHeaders: identity and extra headers, no X-Raft-Auth without auth", async () => {
  const h = await requestHeaders(LOCAL, "POST", "http://10.0.0.2:2380/raft", {
    [H.raftTo]: "2",
  });
  assertEquals(h, { ...identityHeaders(LOCAL), [H.raftTo]: "2" });
  assert(!(AUTH_HEADER in h));
});

Deno.test("requestHeaders: with auth, a signature the peer verifies for that path", async () => {
  const auth = new RequestAuth({ secret: "a secret of at least sixteen bytes" });
  const local = { ...LOCAL, auth };
  const url = "http://10.0.0.2:2380/raft/stream/message/1a";
  const h = await requestHeaders(local, "GET", url);
  assert(typeof h[AUTH_HEADER] === "string" && h[AUTH_HEADER].startsWith("v1 "), h[AUTH_HEADER]);
  assertEquals(h[H.from], "1a");
  const req = new Request(url, { method: "GET", headers: h });
  assertEquals(await auth.verify(req, "/raft/stream/message/1a"), undefined);
  const other = new Request(url, { method: "GET", headers: h });
  assert(
    (await auth.verify(other, "/raft/stream/msgapp/1a")) !== undefined,
    "a signature must be bound to the path",
  );
});
