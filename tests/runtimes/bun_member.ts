// The Bun member: `bun tests/runtimes/bun_member.ts`, configured by the
// RAFT_* variables of member.ts; listens on RAFT_URL's port. The module comes
// from dist/rafthttp.js (see tsconfig.json here); run `deno task build` first.
// BUN_IDLE_TIMEOUT (seconds) overrides Bun.serve's idleTimeout (default 10).
import { configFromEnv, Member } from "./member.ts";

/** The part of Bun's API used here. */
declare const Bun: {
  env: Record<string, string | undefined>;
  serve(options: {
    hostname: string;
    port: number;
    idleTimeout?: number;
    fetch(req: Request): Promise<Response>;
    error(e: Error): Response;
  }): { port: number; stop(closeActive?: boolean): Promise<void> };
};
declare const process: { on(signal: string, f: () => void): void; exit(code: number): never };

const member = new Member(configFromEnv((name) => Bun.env[name]));
const idle = Bun.env.BUN_IDLE_TIMEOUT;
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(new URL(member.config.url).port),
  ...(idle ? { idleTimeout: Number(idle) } : {}),
  fetch: member.fetch,
  error: (e) => new Response(`${e.stack}\n`, { status: 500 }),
});
member.start();
console.log(`bun member ${member.config.id} listening on ${server.port}`);

process.on("SIGTERM", async () => {
  await member.stop();
  await server.stop(true);
  process.exit(0);
});
