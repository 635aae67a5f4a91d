import { assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { isUnixUrl, normalizeUrls } from "./peer_urls.ts";

Deno.test("normalizeUrls: sorts, and drops a trailing slash", () => {
  assertEquals(
    normalizeUrls(["https://10.0.0.2:2380/", "http://10.0.0.3:2380", "http://10.0.0.1:2380/"]),
    ["http://10.0.0.1:2380", "http://10.0.0.3:2380", "https://10.0.0.2:2380"],
  );
});

Deno.test("normalizeUrls: the same URL written differently compares equal", () => {
  const a = normalizeUrls(["HTTP://Member-1.Example:2380/"]);
  const b = normalizeUrls(["http://member-1.example:2380"]);
  assertEquals(a, b);
  assertEquals(a, ["http://member-1.example:2380"]);
  assertEquals(normalizeUrls(["http://[::1]:2380"]), ["http://[::1]:2380"]);
});

Deno.test("normalizeUrls: does not reorder the caller's list", () => {
  const input = ["http://b:2380", "http://a:2380"];
  normalizeUrls(input);
  assertEquals(input, ["http://b:2380", "http://a:2380"]);
});

Deno.test("normalizeUrls: an empty list is a TypeError", () => {
  assertThrows(() => normalizeUrls([]), TypeError, "at least one URL");
});

Deno.test("normalizeUrls: a bad URL is a TypeError naming it and why", () => {
  const cases: [string, string][] = [
    ["not a url", "not a URL"],
    ["10.0.0.1:2380", "not a URL"], // a scheme cannot start with a digit
    ["member1:2380", "scheme must be http, https, unix or unixs"], // scheme "member1:"
    ["ftp://10.0.0.1:2380", "scheme must be http, https, unix or unixs"],
    ["unix://member1", "must have the form unix://host:port"],
    ["unixs://member1", "must have the form unix://host:port"],
    ["unix:///tmp/member1.sock", "scheme://host:port only"],
    ["unix://localhost:2380/raft", "scheme://host:port only"],
    ["http://10.0.0.1:2380/raft", "scheme://host:port only"],
    ["http://10.0.0.1:2380/a/", "scheme://host:port only"],
    ["http://10.0.0.1:2380?x=1", "scheme://host:port only"],
    ["http://10.0.0.1:2380#frag", "scheme://host:port only"],
    ["http://user@10.0.0.1:2380", "scheme://host:port only"],
    ["http://user:secret@10.0.0.1:2380", "scheme://host:port only"],
  ];
  for (const [url, why] of cases) {
    const e = assertThrows(() => normalizeUrls(["http://ok:2380", url]), TypeError);
    assertStringIncludes(e.message, JSON.stringify(url), `for ${url}`);
    assertStringIncludes(e.message, why, `for ${url}`);
  }
});

Deno.test("normalizeUrls: a URL with only a password is refused as credentials", () => {
  const url = "http://:secret@10.0.0.1:2380";
  const e = assertThrows(() => normalizeUrls([url]), TypeError);
  assertStringIncludes(e.message, JSON.stringify(url));
});

Deno.test("normalizeUrls: unix and unixs URLs are accepted as etcd accepts them, kept as written", () => {
  assertEquals(
    normalizeUrls(["unixs://Member-2:2380", "unix://localhost:2380/", "http://10.0.0.1:2380"]),
    ["http://10.0.0.1:2380", "unix://localhost:2380", "unixs://Member-2:2380"],
  );
  assertEquals(isUnixUrl("unix://a:1"), true);
  assertEquals(isUnixUrl("unixs://a:1"), true);
  assertEquals(isUnixUrl("http://a:1"), false);
});
