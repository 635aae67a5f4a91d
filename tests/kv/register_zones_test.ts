import { assert, assertEquals } from "@std/assert";
import { checkKv, type Operation } from "./linearizability.ts";
import { zonesVerdict } from "./register_zones.ts";

// Small random histories on one key with distinct written values, integer
// times (many ties), some puts unanswered, some reads wrong: the zones test
// must agree with the exhaustive search on every one.
function randomHistory(seed: number): Operation[] {
  let s = seed >>> 0 || 1;
  const rand = (n: number) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
  const n = 2 + rand(9);
  const ops: Operation[] = [];
  let written = 0;
  for (let i = 0; i < n; i++) {
    const call = rand(12);
    const ret = call + rand(6);
    if (rand(2) === 0) {
      ops.push({
        client: i,
        input: { op: "put", key: "k", value: `v${written++}` },
        call,
        return: rand(6) === 0 ? undefined : ret,
      });
    } else {
      const pick = rand(written + 2);
      const output = pick === 0 ? undefined : `v${pick - 1}`; // sometimes a value not written yet
      ops.push({ client: i, input: { op: "get", key: "k" }, call, return: ret, output });
    }
  }
  return ops;
}

Deno.test("register zones: agree with the search on 20 000 random one-key histories", () => {
  const seen = { ok: 0, illegal: 0 };
  for (let seed = 1; seed <= 20_000; seed++) {
    const h = randomHistory(seed);
    const search = checkKv(h, { zones: false }).result;
    assert(search !== "unknown");
    assertEquals(zonesVerdict(h), search === "ok", `seed ${seed}: ${JSON.stringify(h)}`);
    seen[search as "ok" | "illegal"]++;
  }
  assert(seen.ok > 2000 && seen.illegal > 2000, JSON.stringify(seen));
});

Deno.test("register zones: duplicate values are left to the search", () => {
  const put = (value: string, call: number): Operation => ({
    client: 1,
    input: { op: "put", key: "k", value },
    call,
    return: call + 1,
  });
  assertEquals(zonesVerdict([put("a", 0), put("a", 2)]), undefined);
  assertEquals(zonesVerdict([put("a", 0), put("b", 2)]), true);
});
