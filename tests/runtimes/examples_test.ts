// The three-runtime example of docs/runtimes.md runs: examples/runtimes/deno.ts,
// bun.js and workerd/ form one cluster, and every member hears the others.
import { buildOnce, Child, freePort, runtime } from "./harness.ts";

const BUN = runtime("bun");
const WORKERD = runtime("workerd");

Deno.test({
  name: "examples: members on Deno, Bun and workerd hear each other",
  ignore: BUN === undefined || WORKERD === undefined,
  async fn() {
    await buildOnce();
    const ports = [freePort(), freePort(), freePort()];
    const env = { MEMBERS: ports.map((p, i) => `${i + 1}=http://127.0.0.1:${p}`).join(",") };
    const members = {
      deno: new Child("deno", Deno.execPath(), ["run", "-A", "examples/runtimes/deno.ts"], env),
      bun: new Child("bun", BUN!, ["examples/runtimes/bun.js"], env),
      workerd: new Child("workerd", WORKERD!, [
        "serve",
        "examples/runtimes/workerd/config.capnp",
        "--socket-addr",
        `http=127.0.0.1:${ports[2]}`,
      ], env),
    };
    try {
      for (const c of Object.values(members)) c.spawn();
      const ids = { deno: 1, bun: 2, workerd: 3 };
      for (const [name, c] of Object.entries(members)) {
        for (const [other, id] of Object.entries(ids)) {
          if (other !== name) await c.waitFor(new RegExp(`${name} got MsgHeartbeat from ${id}$`));
        }
      }
    } finally {
      await Promise.all(Object.values(members).map((c) => c.kill()));
    }
  },
});
