// What the replica's tests share: a small map as the state machine, replicas
// in this process on free 127.0.0.1 ports, a write retried while there is no
// leader, and waiting for an event. The public API only.
import { freePorts, waitUntil } from "../../tests/harness.ts";
import { silentLogger } from "../../mod.ts";
import {
  NoLeaderError,
  OutcomeUnknownError,
  type Replica,
  type ReplicaEvent,
  type ReplicaOptions,
  type ReplicaStopEvent,
  startReplica,
} from "../mod.ts";

export const enc: TextEncoder = new TextEncoder();
export const dec: TextDecoder = new TextDecoder();

/** What apply returns: which replica's state machine applied the entry, and where. */
export interface Applied {
  by: bigint;
  index: bigint;
}

/** key=value commands; the snapshot is the map as JSON, streamed in small chunks. */
export class MapMachine {
  map = new Map<string, string>();
  restores = 0;
  constructor(readonly owner: bigint) {}
  apply(command: Uint8Array, index: bigint): Applied {
    const [k, v] = dec.decode(command).split("=");
    if (k === "boom") throw new Error("the state machine refuses boom");
    this.map.set(k, v);
    return { by: this.owner, index };
  }
  snapshot(): ReadableStream<Uint8Array> {
    const bytes = enc.encode(JSON.stringify([...this.map])); // the state now, read later
    const chunks = [];
    for (let i = 0; i < bytes.length; i += 64) chunks.push(bytes.subarray(i, i + 64));
    return ReadableStream.from(chunks);
  }
  async restore(snapshot: ReadableStream<Uint8Array>): Promise<void> {
    this.map = new Map(JSON.parse(await new Response(snapshot).text()));
    this.restores++;
  }
}

export interface Member {
  replica: Replica<Applied>;
  sm: MapMachine;
  server?: Deno.HttpServer;
}

/** Replicas on free ports; member `handlerOnly` is served by the test's own Deno.serve. */
export class Cluster {
  readonly members = new Map<bigint, Member>();
  readonly peers: Record<string, string> = {};
  constructor(readonly root: string, readonly handlerOnly = 0n) {}

  url(id: bigint): string {
    this.peers[`${id}`] ??= `http://127.0.0.1:${freePorts(1)[0]}`;
    return this.peers[`${id}`];
  }

  async start(id: bigint, extra: Partial<ReplicaOptions<Applied>> = {}): Promise<Member> {
    this.url(id);
    const sm = new MapMachine(id);
    const own = id === this.handlerOnly;
    const replica = await startReplica<Applied>({
      id,
      peers: { ...this.peers },
      dataDir: `${this.root}/${id}`,
      stateMachine: sm,
      tickMs: 50,
      snapshotEvery: 20,
      snapshotCatchUpEntries: 5,
      logger: silentLogger,
      serve: own ? false : undefined,
      ...extra,
    });
    const port = Number(new URL(this.url(id)).port);
    const server = own
      ? Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, replica.handler)
      : undefined;
    const m = { replica, sm, server };
    this.members.set(id, m);
    return m;
  }

  async stop(id: bigint): Promise<void> {
    const m = this.members.get(id);
    this.members.delete(id);
    await m?.replica.stop();
    await m?.server?.shutdown();
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.members.keys()].map((id) => this.stop(id)));
  }

  get(id: bigint): Member {
    return this.members.get(id)!;
  }

  async leader(): Promise<Member> {
    const first = this.members.values().next().value!;
    const id = await first.replica.waitForLeader();
    await waitUntil(() => this.members.get(id) !== undefined, 5000, `leader ${id} is ours`);
    return this.get(id);
  }
}

/** A write that is safe to repeat (key=value), retried while there is no leader. */
export async function put(r: Replica<Applied>, key: string, value: string): Promise<Applied> {
  for (let attempt = 0;; attempt++) {
    try {
      return await r.propose(enc.encode(`${key}=${value}`));
    } catch (e) {
      const again = e instanceof NoLeaderError || e instanceof OutcomeUnknownError;
      if (!again || attempt >= 20) throw e;
      await new Promise((ok) => setTimeout(ok, 100));
    }
  }
}

/** The first event `pred` accepts, within `ms` (a broken replica fails the test, never hangs it). */
export async function nextEvent<E extends ReplicaEvent>(
  events: AsyncIterableIterator<ReplicaEvent>,
  pred: (e: ReplicaEvent) => e is E,
  ms = 10_000,
): Promise<E> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      events.return?.();
      reject(new Error(`no such event within ${ms} ms`));
    }, ms);
  });
  const found = (async () => {
    for await (const e of events) if (pred(e)) return e;
    throw new Error("the events ended first");
  })();
  try {
    return await Promise.race([found, late]);
  } finally {
    clearTimeout(timer);
  }
}

export async function collect(
  events: AsyncIterableIterator<ReplicaEvent>,
): Promise<ReplicaEvent[]> {
  const all: ReplicaEvent[] = [];
  for await (const e of events) all.push(e);
  return all;
}

export const isStop = (e: ReplicaEvent): e is ReplicaStopEvent => e.type === "stopped";
