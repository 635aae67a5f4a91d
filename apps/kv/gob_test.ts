// The bytes Go writes (testdata/raftexample_formats.txt, the output of
// tests/kv/gobcapture/main.go: `cd tests/kv/gobcapture && G=$(mktemp -d) &&
// GO111MODULE=off GOPATH=$G:/usr/share/gocode GOCACHE=$G/c go run main.go`):
// our gob encoder writes the same, our decoder reads them back, and our
// snapshot JSON equals Go's json.Marshal of the map.

import { assertEquals, assertThrows } from "@std/assert";
import { ProposalDecodeError } from "./codec.ts";
import { decodeKv, encodeKv, gobCodec } from "./gob.ts";
import { KvStore } from "./store.ts";

const captured = new Map<string, Uint8Array>();
for (
  const line of Deno.readTextFileSync(
    new URL("./testdata/raftexample_formats.txt", import.meta.url),
  ).split("\n")
) {
  if (line === "") continue;
  const [kind, name, hex] = line.split(" ");
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  captured.set(`${kind} ${name}`, bytes);
}

// The inputs main.go encodes, by case name.
const GOB_CASES: Record<string, [string, string]> = {
  "empty-both": ["", ""],
  "empty-val": ["/a", ""],
  "empty-key": ["", "x"],
  "short": ["/my-key", "hello"],
  "len1": ["/k", "a"],
  "len127": ["/k", "b".repeat(127)],
  "len128": ["/k", "c".repeat(128)],
  "len300": ["k".repeat(300), "d".repeat(300)],
  "len70000": ["/k", "e".repeat(70000)],
  "non-ascii": ["/ключ", "héllo wörld ✓ 😀"],
};

for (const [name, [key, value]] of Object.entries(GOB_CASES)) {
  Deno.test(`gob: ${name} is encoded as Go does and decoded back`, () => {
    const go = captured.get(`gob ${name}`);
    if (go === undefined) throw new Error(`no captured bytes for ${name}`);
    assertEquals(encodeKv(key, value), go);
    assertEquals(decodeKv(go), { key, value });
    assertEquals(gobCodec.decode(gobCodec.encode({ key, value })), { key, value });
  });
}

Deno.test("gob: a value of a type the stream never defined is refused", () => {
  const go = captured.get("gob short")!;
  const valueAt = 33; // the value message's length byte, after the 33-byte type message
  assertEquals(go[valueAt + 2], 0x82); // type id 65
  const broken = Uint8Array.from(go);
  broken[valueAt + 2] = 0x84; // type id 66, never defined
  assertThrows(() => decodeKv(broken), ProposalDecodeError, "undefined type");
});

Deno.test("gob: truncated or foreign data is refused", () => {
  const go = captured.get("gob len300")!;
  for (const n of [0, 1, 10, 33, 40, go.length - 1]) {
    assertThrows(() => decodeKv(go.subarray(0, n)), ProposalDecodeError);
  }
  assertThrows(() => decodeKv(new TextEncoder().encode('{"k":"/a","v":"1"}')), ProposalDecodeError);
});

for (const name of ["json-empty", "json-sorted", "json-escapes"]) {
  Deno.test(`snapshot data: ${name} equals Go's json.Marshal`, () => {
    const maps: Record<string, Record<string, string>> = {
      "json-empty": {},
      "json-sorted": { "/b": "2", "/a": "1", "/é": "3", "/Z": "4", "/a/b": "5" },
      "json-escapes": {
        "/e": '<&>"\\\n\r\t\b\f\x01\x1f\x7f \u2028\u2029 é😀',
      },
    };
    const s = new KvStore(gobCodec);
    for (const [key, value] of Object.entries(maps[name])) s.apply(encodeKv(key, value));
    const go = captured.get(`json ${name}`)!;
    assertEquals(new TextDecoder().decode(s.snapshot()), new TextDecoder().decode(go));
    const back = new KvStore(gobCodec);
    back.restoreBytes(go);
    assertEquals(back.snapshot(), go);
  });
}
