import { assertEquals } from "@std/assert";
import { H } from "./headers.ts";
import { checkVersionCompatibility, parseMajorMinor, supportsStreams } from "./version.ts";

const LOCAL = "3.4.23";
const LOCAL_MIN = "3.0.0";

function headers(server?: string, min?: string): Headers {
  const h = new Headers();
  if (server !== undefined) h.set(H.serverVersion, server);
  if (min !== undefined) h.set(H.minClusterVersion, min);
  return h;
}

Deno.test("parseMajorMinor: strict x.y.z with optional pre-release and build", () => {
  assertEquals(parseMajorMinor("3.4.23"), [3, 4]);
  assertEquals(parseMajorMinor("0.0.0"), [0, 0]);
  assertEquals(parseMajorMinor("10.20.30"), [10, 20]);
  assertEquals(parseMajorMinor("3.5.0-rc.1"), [3, 5]);
  assertEquals(parseMajorMinor("3.5.0+git.abc"), [3, 5]);
  assertEquals(parseMajorMinor("3.5.0-alpha.0+meta-1"), [3, 5]);
});

Deno.test("parseMajorMinor: anything else is malformed", () => {
  for (
    const v of [
      "",
      "3",
      "3.4",
      "v3.4.0",
      "3.4.0.1",
      "03.4.0",
      "3.04.0",
      "3.4.00",
      "3.4.0-",
      "3.4.0+",
      "3.4.0-a_b",
      " 3.4.0",
      "3.4.0 ",
      "3.x.0",
      "-3.4.0",
    ]
  ) {
    assertEquals(parseMajorMinor(v), undefined, JSON.stringify(v));
  }
});

Deno.test("checkVersionCompatibility: compatible versions", () => {
  assertEquals(checkVersionCompatibility(headers("3.4.23", "3.0.0"), LOCAL, LOCAL_MIN), "ok");
  assertEquals(checkVersionCompatibility(headers("3.0.0", "3.0.0"), LOCAL, LOCAL_MIN), "ok");
  assertEquals(checkVersionCompatibility(headers("3.5.9", "3.0.0"), LOCAL, LOCAL_MIN), "ok");
  // Only major.minor count: a remote minimum of 3.4.99 is not above our 3.4.23.
  assertEquals(checkVersionCompatibility(headers("3.5.0", "3.4.99"), LOCAL, LOCAL_MIN), "ok");
});

Deno.test("checkVersionCompatibility: incompatible versions, both ways", () => {
  // Remote older than our minimum cluster version.
  assertEquals(
    checkVersionCompatibility(headers("2.3.8", "2.0.0"), LOCAL, LOCAL_MIN),
    "incompatible",
  );
  // Remote requires a cluster newer than we are.
  assertEquals(
    checkVersionCompatibility(headers("3.6.0", "3.5.0"), LOCAL, LOCAL_MIN),
    "incompatible",
  );
  assertEquals(
    checkVersionCompatibility(headers("4.0.0", "4.0.0"), LOCAL, LOCAL_MIN),
    "incompatible",
  );
});

Deno.test("checkVersionCompatibility: missing headers count as 2.0.0", () => {
  assertEquals(checkVersionCompatibility(headers(), LOCAL, LOCAL_MIN), "incompatible");
  assertEquals(checkVersionCompatibility(headers(), LOCAL, "2.0.0"), "ok");
  assertEquals(checkVersionCompatibility(headers("3.4.0"), LOCAL, LOCAL_MIN), "ok");
  assertEquals(checkVersionCompatibility(headers(undefined, "3.0.0"), LOCAL, "2.0.0"), "ok");
  assertEquals(
    checkVersionCompatibility(headers(undefined, "3.0.0"), LOCAL, "2.1.0"),
    "incompatible",
  );
  // Missing server version (2.0.0) against a local version of 2.0.x is fine.
  assertEquals(checkVersionCompatibility(headers(), "2.0.5", "2.0.0"), "ok");
});

Deno.test("checkVersionCompatibility: a malformed header is malformed, not incompatible", () => {
  assertEquals(checkVersionCompatibility(headers("3.4", "3.0.0"), LOCAL, LOCAL_MIN), "malformed");
  assertEquals(
    checkVersionCompatibility(headers("3.4.0", "three"), LOCAL, LOCAL_MIN),
    "malformed",
  );
  assertEquals(checkVersionCompatibility(headers("", "3.0.0"), LOCAL, LOCAL_MIN), "malformed");
  // Malformed wins over an incompatible other header.
  assertEquals(checkVersionCompatibility(headers("1.0.0", "x"), LOCAL, LOCAL_MIN), "malformed");
});

Deno.test("supportsStreams: etcd's table for older peers, true for peers as new or newer", () => {
  const table: [string | null, boolean][] = [
    [null, false], // a missing header is 2.0.0
    ["2.0.0", false],
    ["2.0.13", false],
    ["1.9.0", false],
    ["0.4.9", false],
    ["2.1.0", true],
    ["2.3.8", true],
    ["3.0.0", true],
    ["3.3.27", true],
    ["3.4.0", true],
    ["3.4.23", true],
    ["3.5.0", true],
    ["4.0.0", true],
    ["not-a-version", false],
    ["3.4", false],
  ];
  for (const [remote, want] of table) {
    assertEquals(supportsStreams(remote, LOCAL), want, `remote ${remote}`);
  }
});

Deno.test("supportsStreams: the table is consulted only for peers older than us", () => {
  // A 2.0 peer is as new as a 2.0 local member: no table lookup, streams assumed.
  assertEquals(supportsStreams("2.0.0", "2.0.1"), true);
  assertEquals(supportsStreams("2.0.0", "2.1.0"), false);
  assertEquals(supportsStreams(null, "2.0.0"), true);
});
