// The Node.js member: member.ts on Node 22+, served by serveNode() (node:http).
// Built into dist/runtimes/node_member.js by `deno task build`; run with
// `node dist/runtimes/node_member.js` and the RAFT_* variables of member.ts.
// "@rafthttp/rafthttp" is left as an import, which Node resolves to
// dist/rafthttp.js by the package's own name (dist/package.json).
import { serveNode } from "@rafthttp/rafthttp";
import { configFromEnv, Member } from "./member.ts";

/** The part of Node's `process` used here. */
declare const process: {
  env: Record<string, string | undefined>;
  version: string;
  on(signal: string, f: () => void): void;
  exit(code: number): never;
};

const member = new Member(configFromEnv((name) => process.env[name]));
const server = await serveNode(member.transport, {
  port: Number(new URL(member.config.url).port),
  fallback: member.fetch,
  // The server's own failures (a handler that rejects, a body cut mid-way).
  logger: {
    debug() {},
    info() {},
    warn: (msg, f) => console.log(`warn: ${msg} ${JSON.stringify(f)}`),
    error: (msg, f) => console.log(`error: ${msg} ${JSON.stringify(f)}`),
  },
});
member.start();
console.log(`node ${process.version} member ${member.config.id} listening on ${server.addr.port}`);

process.on("SIGTERM", async () => {
  await member.stop();
  await server.shutdown();
  process.exit(0);
});
