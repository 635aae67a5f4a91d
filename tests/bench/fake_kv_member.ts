/**
 * A stand-in for a KV member in the kv-bench harness test: raftexample's
 * flags and HTTP API, with every member of a "cluster" sharing one directory
 * (a file per key) so that a write is readable on all members at once.
 *
 * Usage: deno run --allow-net=127.0.0.1 --allow-read --allow-write
 *   fake_kv_member.ts --id N --cluster URLS --port P --data-dir D
 *
 * @module
 */

async function serveMember(port: number, dataDir: string): Promise<void> {
  const shared = `${dataDir}/../shared`;
  await Deno.mkdir(shared, { recursive: true });
  const file = (path: string) => `${shared}/${encodeURIComponent(path)}`;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port, onListen: () => {} },
    async (req) => {
      const key = new URL(req.url).pathname;
      if (req.method === "PUT") {
        await Deno.writeTextFile(file(key), await req.text());
        return new Response(null, { status: 204 });
      }
      try {
        return new Response(await Deno.readTextFile(file(key)));
      } catch {
        return new Response("Failed to GET", { status: 404 });
      }
    },
  );
  Deno.addSignalListener("SIGTERM", () => server.shutdown());
  await server.finished;
}

if (import.meta.main) {
  const flags = new Map<string, string>();
  for (let i = 0; i + 1 < Deno.args.length; i += 2) flags.set(Deno.args[i], Deno.args[i + 1]);
  const port = Number(flags.get("--port"));
  const dataDir = flags.get("--data-dir");
  if (!Number.isInteger(port) || dataDir === undefined) {
    console.error("usage: fake_kv_member.ts --id N --cluster URLS --port P --data-dir D");
    Deno.exit(2);
  }
  await serveMember(port, dataDir);
}
