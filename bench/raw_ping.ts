// The latency floor of the HTTP paths we ride on, without rafthttp: two
// processes, each serving a streaming response and reading the other's; a
// ping is one 50-byte chunk each way. Edge `deno`: Deno.serve + fetch;
// `node`: node:http server + node:http client (no delay on both sockets),
// as serve() and the node dialer use them.
//   deno run -A bench/raw_ping.ts echo 25001 25002 [N] [deno|node] &
//   deno run -A bench/raw_ping.ts ping 25002 25001 5000 [deno|node]
// The ping side prints one JSON line: edge, n, p50_us, p99_us, p999_us, max_us.
import http from "node:http";
import type { Socket } from "node:net";

const [role, myPort, peerPort, count, edgeArg] = Deno.args;
const n = Number(count ?? 5000);
const edge = edgeArg ?? "deno";
if (edge !== "deno" && edge !== "node") throw new Error(`edge: deno or node, not ${edge}`);
// A run that hangs (a peer that never came) ends by itself.
Deno.unrefTimer(setTimeout(() => {
  console.error(`raw_ping ${role}: gave up after 120 s`);
  Deno.exit(1);
}, 120_000));

/** Waits until the peer's port accepts connections (it may start after us). */
async function peerListening(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port: Number(peerPort) })).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`nothing listens on 127.0.0.1:${peerPort}`);
}

/** One side's streams: `send` writes a chunk to the peer, `next` awaits the peer's next chunk. */
interface Pipe {
  send(b: Uint8Array): void;
  next(): Promise<boolean>;
}

async function denoPipe(): Promise<Pipe> {
  let out!: ReadableStreamDefaultController<Uint8Array>;
  let ready!: () => void;
  const opened = new Promise<void>((r) => ready = r);
  Deno.serve(
    { hostname: "127.0.0.1", port: Number(myPort), onListen() {} },
    () =>
      new Response(
        new ReadableStream({
          start(c) {
            out = c;
            ready();
          },
        }, { highWaterMark: 0 }),
      ),
  );
  await peerListening();
  const reader = (await fetch(`http://127.0.0.1:${peerPort}/`)).body!.getReader();
  await opened;
  return {
    send: (b) => out.enqueue(b),
    // The peer going away ends the echo (a reset is an error here).
    next: () => reader.read().then((r) => !r.done, () => false),
  };
}

async function nodePipe(): Promise<Pipe> {
  let res!: http.ServerResponse;
  let ready!: () => void;
  const opened = new Promise<void>((r) => ready = r);
  const server = http.createServer((_req, r) => {
    res = r;
    r.writeHead(200, { "content-type": "application/octet-stream" });
    r.flushHeaders();
    ready();
  });
  server.on("connection", (s: Socket) => s.setNoDelay(true));
  await new Promise<void>((r) => server.listen(Number(myPort), "127.0.0.1", () => r()));
  await peerListening();
  const chunks: number[] = [];
  let wake: ((more: boolean) => void) | undefined;
  let ended = false;
  const incoming = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.get(`http://127.0.0.1:${peerPort}/`, resolve);
    req.on("socket", (s: Socket) => s.setNoDelay(true));
    req.on("error", reject);
  });
  incoming.on("data", (c: Uint8Array) => {
    chunks.push(c.length);
    wake?.(true);
    wake = undefined;
  });
  const end = () => {
    ended = true;
    wake?.(false);
  };
  incoming.on("end", end);
  incoming.on("error", end);
  incoming.on("close", end);
  await opened;
  return {
    send: (b) => res.write(b),
    next: () => {
      if (chunks.length > 0) return Promise.resolve(chunks.shift()! > 0);
      if (ended) return Promise.resolve(false);
      return new Promise<boolean>((r) => wake = (more) => r(more && chunks.shift()! > 0));
    },
  };
}

const pipe = edge === "node" ? await nodePipe() : await denoPipe();
const ping = new Uint8Array(50);
if (role === "echo") {
  while (await pipe.next()) pipe.send(ping.slice());
  Deno.exit(0);
} else {
  for (let i = 0; i < 200; i++) { // warm-up, not measured
    pipe.send(ping.slice());
    await pipe.next();
  }
  const lat: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    pipe.send(ping.slice());
    await pipe.next();
    lat.push((performance.now() - t) * 1000);
  }
  lat.sort((a, b) => a - b);
  const at = (p: number) => Number(lat[Math.ceil((p / 100) * n) - 1].toFixed(1));
  console.log(JSON.stringify({
    edge,
    n,
    p50_us: at(50),
    p99_us: at(99),
    p999_us: at(99.9),
    max_us: Number(lat[n - 1].toFixed(1)),
  }));
  Deno.exit(0); // the echo sees the connections close and exits too
}
