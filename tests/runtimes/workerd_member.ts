// The workerd member: a Worker that hands everything under /raft and /test
// to one Durable Object, which owns the Transport (a raft member is stateful
// and long-lived; a Durable Object is where workerd keeps such state, and
// all its requests share one I/O context, so streams and timers started by
// one request keep working for the next). Built into
// dist/runtimes/workerd_member.js by `deno task build`; run with
// `workerd serve tests/runtimes/workerd.capnp --socket-addr http=127.0.0.1:PORT`
// and the RAFT_* variables of member.ts.
import { configFromEnv, Member } from "./member.ts";

/** The part of workerd's Durable Object API used here. */
interface DurableObjectNamespace {
  idFromName(name: string): unknown;
  get(id: unknown): { fetch(req: Request): Promise<Response> };
}

interface Env {
  MEMBER: DurableObjectNamespace;
  [variable: string]: unknown;
}

export default {
  fetch(req: Request, env: Env): Promise<Response> {
    const path = new URL(req.url).pathname;
    if (path === "/raft" || path.startsWith("/raft/") || path.startsWith("/test/")) {
      return env.MEMBER.get(env.MEMBER.idFromName("member")).fetch(req);
    }
    return Promise.resolve(new Response("not found\n", { status: 404 }));
  },
};

/** The part of a Durable Object's state used here. */
interface DurableObjectState {
  storage: { setAlarm(scheduledTime: number): Promise<void> };
}

/** workerd evicts an object about 70 s after its last incoming request; an alarm counts as one. */
const KEEPALIVE_MS = 30_000;

/** The Durable Object: one per workerd process, created by the first request. */
export class RaftMember {
  #member: Member;
  #state: DurableObjectState;

  constructor(state: DurableObjectState, env: Env) {
    const get = (name: string) => typeof env[name] === "string" ? env[name] as string : undefined;
    this.#state = state;
    this.#member = new Member(configFromEnv(get));
    this.#member.start();
    // Without requests (every peer down) the object would be evicted and stop dialling.
    this.alarm();
  }

  fetch(req: Request): Promise<Response> {
    return this.#member.fetch(req);
  }

  alarm(): Promise<void> {
    return this.#state.storage.setAlarm(Date.now() + KEEPALIVE_MS);
  }
}
