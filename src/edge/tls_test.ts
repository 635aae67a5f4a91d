import { assert, assertEquals, assertThrows } from "@std/assert";
import { resolveTls, verifyHostname } from "./tls.ts";

const cert = (san: string, cn = "m1") => ({ subject: { CN: cn }, subjectaltname: san });

Deno.test("verifyHostname: names against DNS SANs as Go's VerifyHostname does", () => {
  const c = cert("DNS:m1.peers.test, DNS:*.zone.test, IP Address:10.0.0.1");
  assert(verifyHostname(c, "m1.peers.test"));
  assert(verifyHostname(c, "M1.Peers.Test."), "case and a trailing dot are ignored");
  assert(verifyHostname(c, "a.zone.test"), "a left-most wildcard matches one label");
  assert(!verifyHostname(c, "a.b.zone.test"), "and only one");
  assert(!verifyHostname(c, "zone.test"));
  assert(!verifyHostname(c, "m1"), "the CN is never a hostname");
  assert(!verifyHostname(c, "10.0.0.2"));
  assert(!verifyHostname(cert(""), "m1"));
});

Deno.test("verifyHostname: IP addresses against IP SANs only, in any spelling", () => {
  const c = cert("DNS:127.0.0.2, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1");
  assert(verifyHostname(c, "127.0.0.1"));
  assert(verifyHostname(c, "[127.0.0.1]"));
  assert(verifyHostname(c, "::1"));
  assert(verifyHostname(c, "[::1]"));
  assert(verifyHostname(c, "::ffff:127.0.0.1"), "an IPv4-mapped address is its IPv4 address");
  assert(!verifyHostname(c, "127.0.0.2"), "an IP is not matched against DNS SANs");
});

Deno.test("resolveTls: plain HTTP, https, client-cert checks", () => {
  assertEquals(resolveTls("serve", {}), undefined);
  const https = resolveTls("serve", { cert: "C", key: "K" })!;
  assertEquals([https.cert, https.key, https.clientCertAuth, https.allow], [
    "C",
    "K",
    false,
    undefined,
  ]);
  const cn = resolveTls("serve", {
    cert: "C",
    key: "K",
    ca: "A",
    clientCertAuth: true,
    allowedCN: "m1",
  })!;
  assertEquals(cn.ca, ["A"]);
  assert(cn.allow!(cert("", "m1")));
  assert(!cn.allow!(cert("DNS:m1", "m2")));
  assertThrows(
    () => resolveTls("serveNode", { key: "K" }),
    TypeError,
    "serveNode: `cert` and `key`",
  );
  assertThrows(
    () =>
      resolveTls("serve", { cert: "C", key: "K", allowedCN: [], ca: "A", clientCertAuth: true }),
    TypeError,
    "`allowedCN`",
  );
});
