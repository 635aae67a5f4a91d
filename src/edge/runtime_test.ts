import { assertEquals } from "@std/assert";
import { defaultEdge, type RuntimeGlobals } from "./runtime.ts";

// The globals as each runtime showed them (Deno 2.9, Node.js 22, Bun 1.4,
// workerd with and without its Node.js compatibility).
const RUNTIMES: [string, RuntimeGlobals, string][] = [
  [
    "Deno",
    {
      Deno: { version: { deno: "2.9.6" } },
      process: { versions: { node: "24.2.0", uv: "1.43.0" } },
    },
    "node:http",
  ],
  ["Node.js", { process: { versions: { node: "22.19.0", uv: "1.51.0" } } }, "node:http"],
  [
    "Bun",
    { Bun: {}, process: { versions: { node: "24.3.0", bun: "1.4.4", uv: "1.48.0" } } },
    "fetch",
  ],
  ["Bun, its global hidden", { process: { versions: { node: "24.3.0", bun: "1.4.4" } } }, "fetch"],
  [
    "workerd (nodejs_compat)",
    { process: { versions: { node: "22.23.4", uv: "", v8: "" } } },
    "fetch",
  ],
  ["workerd", {}, "fetch"],
  ["a Deno global without a version", { Deno: {} }, "fetch"],
];

Deno.test("defaultEdge: each runtime keeps its edge, decided from features", () => {
  for (const [name, globals, edge] of RUNTIMES) {
    assertEquals(defaultEdge(globals), edge, name);
  }
});

Deno.test("defaultEdge: this runtime (Deno) dials with node:http", () => {
  assertEquals(defaultEdge(), "node:http");
});
