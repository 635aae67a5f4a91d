// What the tests share: waiting until something holds, free ports, and
// in-process members (a Transport served by Deno.serve on 127.0.0.1 with a
// Raft that records what it gets) that `await using` stops.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { type Message, MessageSchema, type MessageType } from "../raftpb/raft_pb.ts";
import type { Raft } from "../src/raft_node.ts";
import type { SnapshotStatus } from "../raftpb/snapshot_status.ts";
import { Transport } from "../src/transport.ts";
import type { TransportOptions } from "../src/options.ts";
import type { SnapshotSink } from "../src/snapshot/sink.ts";
import { type Logger, silentLogger } from "../src/logger.ts";
import { freePorts } from "../bench/ports.ts";

export { freePorts };

/** One free port on 127.0.0.1 (see {@link freePorts}). */
export function freePort(): number {
  return freePorts(1)[0];
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `pred` (sync or async) every `intervalMs` until it holds; after `ms`
 * throws, naming `what` (or what `what()` says then, e.g. the state seen).
 */
export async function waitUntil(
  pred: () => boolean | Promise<boolean>,
  ms = 5000,
  what: string | (() => string | Promise<string>) = "condition",
  intervalMs = 10,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) {
      const text = typeof what === "string" ? what : await what();
      throw new Error(`timed out after ${ms} ms waiting for ${text}`);
    }
    await sleep(intervalMs);
  }
}

/** A temporary directory that `await using` removes. */
export async function tempDir(
  prefix = "rafthttp-test-",
): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

export class RecordingRaft implements Raft {
  received: Message[] = [];
  unreachable: bigint[] = [];
  snapshots: [bigint, SnapshotStatus][] = [];
  removed = new Set<bigint>();
  #waiters: { pred: () => boolean; resolve: () => void }[] = [];
  processDelayMs = 0;

  process(m: Message): Promise<void> | void {
    this.received.push(m);
    this.#check();
    if (this.processDelayMs > 0) return new Promise((r) => setTimeout(r, this.processDelayMs));
  }
  isIDRemoved(id: bigint): boolean {
    return this.removed.has(id);
  }
  reportUnreachable(id: bigint): void {
    this.unreachable.push(id);
    this.#check();
  }
  reportSnapshot(id: bigint, status: SnapshotStatus): void {
    this.snapshots.push([id, status]);
    this.#check();
  }
  /** Resolves when `pred` holds (checked on every event), or rejects after `ms`. */
  until(pred: () => boolean, ms = 5000, what = "condition"): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: () => {} };
      const t = setTimeout(() => {
        this.#waiters = this.#waiters.filter((x) => x !== w);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      }, ms);
      w.resolve = () => {
        clearTimeout(t);
        resolve();
      };
      this.#waiters.push(w);
    });
  }
  #check() {
    this.#waiters = this.#waiters.filter((w) => {
      if (w.pred()) {
        w.resolve();
        return false;
      }
      return true;
    });
  }
}

/** An in-process member; `await using` (or `close`) stops its transport, then its server. */
export interface Node extends AsyncDisposable {
  id: bigint;
  url: string;
  raft: RecordingRaft;
  transport: Transport;
  server: Deno.HttpServer<Deno.NetAddr>;
  close(): Promise<void>;
}

export const CLUSTER = 0xc1n;

/** The test members' default sink: it reads the data and keeps nothing. */
const discardingSink: SnapshotSink = {
  async save(_m, data) {
    for await (const _ of data) { /* discard */ }
  },
};

export function startNode(
  id: bigint,
  options: Partial<TransportOptions> = {},
  port = 0,
): Node {
  let handler: (req: Request) => Promise<Response> = () =>
    Promise.resolve(new Response("starting", { status: 503 }));
  const server = Deno.serve(
    { hostname: "127.0.0.1", port, onListen() {} },
    (req) => handler(req),
  );
  const url = `http://127.0.0.1:${server.addr.port}`;
  const raft = (options.raft as RecordingRaft | undefined) ?? new RecordingRaft();
  const transport = new Transport({
    id,
    clusterId: CLUSTER,
    urls: [url],
    raft,
    logger: (options.logger as Logger | undefined) ?? silentLogger,
    probeIntervalMs: 0,
    ...options,
    // Tests that want files pass a FileSnapshotSink in a temporary directory.
    snapshot: { sink: discardingSink, ...options.snapshot },
  });
  handler = transport.handler();
  transport.start();
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      await transport.stop();
      await server.shutdown();
    })();
    return closed;
  };
  return { id, url, raft, transport, server, close, [Symbol.asyncDispose]: close };
}

/** Members that `await using` stops together. */
export type Nodes = Node[] & AsyncDisposable;

/** `nodes`, stopped together by `await using`. */
export function group(...nodes: Node[]): Nodes {
  return Object.assign(nodes, { [Symbol.asyncDispose]: () => closeAll(nodes) });
}

/** Starts nodes 1..n and makes each a peer of all others; `await using` stops them. */
export function startCluster(n: number, options: Partial<TransportOptions> = {}): Nodes {
  const nodes = group();
  for (let i = 1; i <= n; i++) nodes.push(startNode(BigInt(i), options));
  for (const a of nodes) for (const b of nodes) if (a !== b) a.transport.addPeer(b.id, [b.url]);
  return nodes;
}

export async function closeAll(nodes: Node[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.close()));
}

/** Waits until both stream writers of a toward b are attached (b's readers dialled a). */
export function streamsUp(a: Node, b: Node): boolean {
  const s = a.transport.peerStatus(b.id);
  return s !== undefined && s.streams.message.outgoing && s.streams.msgappv2.outgoing;
}

/** True while both of a's stream readers are reading b's streams. */
export function readersUp(a: Node, b: Node): boolean {
  const s = a.transport.peerStatus(b.id);
  return s !== undefined && s.streams.message.incoming && s.streams.msgappv2.incoming;
}

/** True while neither of a's stream readers is reading from b. */
export function readersDown(a: Node, b: Node): boolean {
  const s = a.transport.peerStatus(b.id);
  return s !== undefined && !s.streams.message.incoming && !s.streams.msgappv2.incoming;
}

export function msg(
  type: MessageType,
  from: bigint,
  to: bigint,
  fields: MessageInitShape<typeof MessageSchema> = {},
): Message {
  return create(MessageSchema, { ...fields, type, from, to });
}
