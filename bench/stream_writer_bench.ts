// The stream writer's batching: N queued messages drained through the real
// StreamWriter and the ReadableStream it hands to a GET response, with the
// default 64 KiB chunks (many frames per enqueue) next to a chunk size of 1
// byte (one frame per enqueue, which is what a writer that does not batch
// costs). The consumer reads the stream as a response body's consumer would,
// and decodes every chunk with the stream's decoder, so each iteration moves
// N messages end to end in one process, without the network.
//
// The "over HTTP" variants serve the writer's body with Deno.serve and read
// it with fetch on 127.0.0.1, where every chunk costs a trip through the
// HTTP server and client: that is where batching pays.
//
// Run: deno bench -A bench/stream_writer_bench.ts
import { create } from "npm:@bufbuild/protobuf@2.17.0";
import { type Message, MessageSchema, MessageType } from "../raftpb/raft_pb.ts";
import { resolveOptions } from "../src/options.ts";
import { RateLimitedLog, silentLogger } from "../src/logger.ts";
import { Link } from "../src/peer/link.ts";
import { systemClock } from "../src/util/clock.ts";
import { NO_EXTENSIONS } from "../src/extension/host.ts";
import { UrlPicker } from "../src/peer/url_picker.ts";
import { PeerStatus } from "../src/peer/status.ts";
import { newPeerStats } from "../src/peer/stats.ts";
import { PeerMetrics } from "../src/metrics/peer_metrics.ts";
import { StreamWriter } from "../src/stream/writer.ts";
import type { StreamType } from "../src/stream/types.ts";
import { MessageFrameDecoder } from "../src/codec/message.ts";
import { MsgAppV2FrameDecoder } from "../src/codec/msgappv2.ts";
import type { Raft } from "../src/raft_node.ts";

const LOCAL = 0xb2n;
const PEER = 0xa1n;
const N = 4096; // one full stream queue (etcd's 4096-slot buffer)
const DATA = new Uint8Array(64).fill(7);

const raft: Raft = {
  process() {},
  isIDRemoved: () => false,
  reportUnreachable() {},
  reportSnapshot() {},
};

/** A writer with one attached body, as after the peer's GET, and its consumer. */
class Harness {
  readonly writer: StreamWriter;
  readonly #log: RateLimitedLog;
  #reader!: ReadableStreamDefaultReader<Uint8Array>;
  #server: Deno.HttpServer<Deno.NetAddr> | undefined;
  readonly #push: (chunk: Uint8Array, emit: (m: Message) => void) => void;
  chunks = 0;
  #next = 1n; // msgappv2: consecutive indexes keep the compact form

  constructor(readonly type: StreamType, chunkSize: number) {
    const cfg = resolveOptions({
      id: LOCAL,
      clusterId: 0xc1n,
      urls: ["http://127.0.0.1:1"],
      raft,
      logger: silentLogger,
      stream: { chunkSize, linkHeartbeatIntervalMs: 3_600_000 },
    });
    this.#log = new RateLimitedLog(silentLogger);
    this.writer = new StreamWriter(type, {
      peer: PEER,
      peerId: "a1",
      metrics: new PeerMetrics("a1"),
      cfg,
      picker: new UrlPicker(["http://127.0.0.1:1"]),
      link: new Link(),
      clock: systemClock,
      extensions: NO_EXTENSIONS,
      status: new PeerStatus("a1", silentLogger),
      stats: newPeerStats(),
      log: this.#log,
    });
    const decoder = type === "message"
      ? new MessageFrameDecoder()
      : new MsgAppV2FrameDecoder(PEER, LOCAL);
    this.#push = (c, emit) => decoder.push(c, emit);
  }

  /** Attaches the writer's body: read in process, or served and fetched over loopback. */
  async open(http: boolean): Promise<void> {
    if (!http) {
      this.#reader = this.writer.attach().getReader();
      return;
    }
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => new Response(this.writer.attach()),
    );
    const res = await fetch(`http://127.0.0.1:${this.#server.addr.port}/`);
    this.#reader = res.body!.getReader();
  }

  message(): Message {
    const index = this.#next++;
    return create(MessageSchema, {
      type: MessageType.MsgApp,
      from: LOCAL,
      to: PEER,
      term: 1n,
      logTerm: 1n,
      index: index - 1n,
      entries: [{ term: 1n, index, data: DATA }],
    });
  }

  /** Queues `msgs` and reads until all of them came out of the stream decoded. */
  async roundTrip(msgs: Message[]): Promise<void> {
    for (const m of msgs) {
      if (!this.writer.send(m)) throw new Error("stream queue full");
    }
    let got = 0;
    const count = () => got++;
    while (got < msgs.length) {
      const { done, value } = await this.#reader.read();
      if (done) throw new Error("stream ended");
      this.chunks++;
      this.#push(value, count);
    }
  }

  async close(): Promise<void> {
    this.writer.stop();
    await this.#reader?.cancel().catch(() => {});
    await this.#server?.shutdown();
    this.#log.close();
  }
}

const CHUNKINGS = [["64 KiB chunks", 64 * 1024], ["one frame per chunk", 1]] as const;

for (const http of [false, true]) {
  for (const type of ["msgappv2", "message"] as const) {
    for (const [label, chunkSize] of CHUNKINGS) {
      const where = http ? "over HTTP" : "in process";
      Deno.bench(
        `${type} ${where}: ${N} MsgApps (64 B), ${label}`,
        { group: `stream writer, ${type} ${where}`, baseline: chunkSize > 1, n: 20, warmup: 2 },
        async (b) => {
          const h = new Harness(type, chunkSize);
          try {
            await h.open(http);
            const msgs = Array.from({ length: N }, () => h.message());
            b.start();
            await h.roundTrip(msgs);
            b.end();
          } finally {
            await h.close();
          }
        },
      );
    }
  }
}

// A lone message: queued, pulled, enqueued and decoded (what ping-style
// traffic pays on the sending side per message, without the network).
Deno.bench(
  "msgappv2: 1 MsgApp (64 B) through StreamWriter, 1000 one at a time",
  { group: "stream writer, one message at a time", n: 20, warmup: 2 },
  async (b) => {
    const h = new Harness("msgappv2", 64 * 1024);
    try {
      await h.open(false);
      const msgs = Array.from({ length: 1000 }, () => h.message());
      b.start();
      for (const m of msgs) await h.roundTrip([m]);
      b.end();
    } finally {
      await h.close();
    }
  },
);
