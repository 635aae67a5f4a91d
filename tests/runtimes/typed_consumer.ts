// A TypeScript user of the npm package, as on Bun or Node: types_test.ts
// installs the package `deno task build` writes into a temporary directory and
// type-checks this file against its declarations with tsc (no Deno types).
// Deno checks it too, with "@rafthttp/rafthttp" resolved to mod.ts.
import {
  create,
  DecodeError,
  decodeMessage,
  DEFAULT_DIAL_TIMEOUT_MS,
  DEFAULT_MAX_FRAME_SIZE,
  encodeMessage,
  FrameTooLargeError,
  type Logger,
  type Message,
  MessageDecoderStream,
  MessageSchema,
  MessageType,
  type PeerStatusReport,
  type ProtoMessage,
  type Raft,
  RaftHttpError,
  SnapshotMessage,
  type SnapshotMessage as SnapshotMessageType,
  type SnapshotSink,
  SnapshotStatus,
  StoppedError,
  Transport,
  type TransportOptions,
} from "@rafthttp/rafthttp";
import { MemoryStorage, RawNode, type Ready } from "@rafthttp/rafthttp/raft";
import { EntryType, type HardState } from "@rafthttp/rafthttp/raftpb";

/** A raft node that records what reaches it. */
class Node implements Raft {
  readonly received: Message[] = [];
  readonly unreachable = new Set<bigint>();
  readonly snapshots = new Map<bigint, SnapshotStatus>();

  process(m: Message, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    this.received.push(m);
    return Promise.resolve();
  }
  isIDRemoved(_id: bigint): boolean {
    return false;
  }
  reportUnreachable(id: bigint): void {
    this.unreachable.add(id);
  }
  reportSnapshot(id: bigint, status: SnapshotStatus): void {
    this.snapshots.set(id, status);
    if (status === SnapshotStatus.Failure) this.unreachable.add(id);
  }
}

/** A snapshot sink that counts the bytes it is given. */
const countingSink: SnapshotSink = {
  async save(m: Message, data: ReadableStream<Uint8Array>, _signal: AbortSignal): Promise<void> {
    let bytes = 0;
    for (const reader = data.getReader();;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
    }
    console.log(`snapshot ${m.snapshot?.metadata?.index} from ${m.from}: ${bytes} bytes`);
  },
};

const logger: Logger = {
  debug: () => {},
  info: () => {},
  warn: (msg, fields) => console.warn(msg, fields),
  error: (msg, fields) => console.error(msg, fields),
};

/** Builds a member's transport and the handler a server (Bun.serve, node:http...) calls. */
export function member(id: bigint, url: string): {
  transport: Transport;
  handler: (req: Request) => Promise<Response>;
  node: Node;
} {
  const node = new Node();
  const options: TransportOptions = {
    id,
    clusterId: 7n,
    urls: [url],
    raft: node,
    snapshot: { sink: countingSink },
    logger,
    stream: { dialTimeoutMs: DEFAULT_DIAL_TIMEOUT_MS * 2 },
    onError: (e: Error) => {
      if (e instanceof StoppedError) return;
      if (e instanceof RaftHttpError) console.error(e.message);
    },
  };
  const transport = new Transport(options);
  return { transport, handler: transport.handler(), node };
}

/** Sends a heartbeat and a snapshot of `size` bytes to `to`; true once the snapshot went. */
export async function talk(transport: Transport, to: bigint, size: number): Promise<boolean> {
  const heartbeat: Message = create(MessageSchema, {
    type: MessageType.MsgHeartbeat,
    from: transport.id,
    to,
    term: 1n,
  });
  const proto: ProtoMessage<"raftpb.Message"> = heartbeat;
  transport.send([proto as Message]);

  const snap = create(MessageSchema, {
    type: MessageType.MsgSnap,
    from: transport.id,
    to,
    term: 1n,
    snapshot: { metadata: { index: 10n, term: 1n } },
  });
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new Uint8Array(size));
      c.close();
    },
  });
  const sm: SnapshotMessageType = new SnapshotMessage(snap, body, size);
  transport.sendSnapshot(sm);
  const status: PeerStatusReport | undefined = transport.peerStatus(to);
  console.log(status?.urls.join(","), transport.activeSince(to)?.toISOString());
  return await sm.done;
}

/** Encodes and decodes a message, and decodes a stream of frames. */
export async function codecs(): Promise<bigint> {
  const bytes: Uint8Array = encodeMessage(
    create(MessageSchema, { type: MessageType.MsgApp, to: 2n, from: 1n, index: 5n }),
  );
  try {
    decodeMessage(bytes.subarray(0, 1));
  } catch (e) {
    if (e instanceof FrameTooLargeError) console.log(e.limit);
    else if (e instanceof DecodeError) console.log(`at byte ${e.offset}`);
  }
  const frames = new ReadableStream<Uint8Array>({
    start(c) {
      c.close();
    },
  }).pipeThrough(new MessageDecoderStream({ maxFrameSize: DEFAULT_MAX_FRAME_SIZE }));
  for (const reader = frames.getReader();;) {
    const { done, value } = await reader.read();
    if (done) break;
    console.log(MessageType[value.type]);
  }
  return decodeMessage(bytes).index;
}

/** The core from its own subpath: a bootstrapped member's first Ready. */
export function core(): HardState | undefined {
  const node = new RawNode({ id: 1n, storage: new MemoryStorage() });
  node.bootstrap([1n]);
  const rd: Ready = node.ready();
  console.log(rd.entries.every((e) => e.type === EntryType.EntryConfChange));
  return rd.hardState;
}
