/**
 * The floors a KV write's steps stand on, measured on this machine: an
 * fdatasync of a 4 KiB write (in a given directory, into a file zero-filled
 * ahead as the WAL's segments are), alone and in three files at once (three
 * members on one disk), and loopback round trips
 * between two processes: a small PUT over HTTP to a `node:http` server and
 * to a `Deno.serve` server (client: fetch, one connection kept alive), and
 * a 64-byte TCP ping-pong (no delay). The servers run in a child process
 * (this file with `--serve`), which ends when its stdin closes.
 *
 * @module
 */

import { quantile } from "./kv_load.ts";

/** One floor's figures, ms. */
export interface Floor {
  name: string;
  n: number;
  p50Ms: number;
  p99Ms: number;
}

function floorOf(name: string, samples: number[]): Floor {
  const s = samples.toSorted((a, b) => a - b);
  return { name, n: s.length, p50Ms: quantile(s, 0.5), p99Ms: quantile(s, 0.99) };
}

/** `n` timed runs of `once` after `warm` untimed ones. */
async function timed(n: number, warm: number, once: () => Promise<void>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < warm + n; i++) {
    const t0 = performance.now();
    await once();
    if (i >= warm) out.push(performance.now() - t0);
  }
  return out;
}

// A file of `blocks` 4 KiB blocks, zero-filled and synced, whose `once` writes the next block
// and fdatasyncs it.
async function syncingFile(path: string, blocks = 1024) {
  const file = await Deno.open(path, { read: true, write: true, create: true, truncate: true });
  await file.write(new Uint8Array(blocks * 4096)); // zero-filled ahead: no size change per sync
  await file.syncData();
  const block = new Uint8Array(4096).fill(7);
  let k = 0;
  return {
    async once() {
      await file.seek((k++ % blocks) * 4096, Deno.SeekMode.Start);
      for (let off = 0; off < block.length;) off += file.writeSync(block.subarray(off));
      await file.syncData();
    },
    async close() {
      file.close();
      await Deno.remove(path).catch(() => {});
    },
  };
}

/**
 * fdatasync after each 4 KiB write, `n` times, in `files` files in `dir` at
 * once (three members on one disk sync at about the same time); each
 * file's syncs are samples. The files are removed after.
 */
export async function fdatasyncFloor(dir: string, n: number, files = 1): Promise<Floor> {
  const open = await Promise.all([...Array(files)].map((_, i) => syncingFile(`${dir}/floor-${i}`)));
  try {
    const runs = await Promise.all(open.map((f) => timed(n, 10, f.once)));
    const what = files === 1 ? "" : `, ${files} files at once`;
    return floorOf(`fdatasync of a 4 KiB write${what}`, runs.flat());
  } finally {
    for (const f of open) await f.close();
  }
}

async function httpFloor(name: string, url: string, n: number): Promise<Floor> {
  const client = Deno.createHttpClient({});
  try {
    const samples = await timed(n, 50, async () => {
      const res = await fetch(url, { method: "PUT", body: "v", client });
      await res.arrayBuffer();
      if (res.status !== 204) throw new Error(`${url}: status ${res.status}`);
    });
    return floorOf(name, samples);
  } finally {
    client.close();
  }
}

async function readFull(conn: Deno.Conn, buf: Uint8Array): Promise<void> {
  for (let got = 0; got < buf.length;) {
    const n = await conn.read(buf.subarray(got));
    if (n === null) throw new Error("the echo server closed the connection");
    got += n;
  }
}

async function tcpFloor(port: number, n: number): Promise<Floor> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    conn.setNoDelay(true);
    const ping = new Uint8Array(64).fill(1);
    const pong = new Uint8Array(64);
    const samples = await timed(n, 50, async () => {
      for (let off = 0; off < ping.length;) off += await conn.write(ping.subarray(off));
      await readFull(conn, pong);
    });
    return floorOf("TCP ping-pong, 64 B", samples);
  } finally {
    conn.close();
  }
}

/** The loopback floors, `n` round trips each, against servers in a child process. */
export async function loopbackFloors(n: number): Promise<Floor[]> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net=127.0.0.1", new URL(import.meta.url).pathname, "--serve"],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    let line = "";
    while (!line.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("the floor servers exited before saying their ports");
      line += value;
    }
    const ports = JSON.parse(line) as { node: number; deno: number; tcp: number };
    return [
      await httpFloor(
        "HTTP PUT round trip, node:http server",
        `http://127.0.0.1:${ports.node}/k`,
        n,
      ),
      await httpFloor(
        "HTTP PUT round trip, Deno.serve server",
        `http://127.0.0.1:${ports.deno}/k`,
        n,
      ),
      await tcpFloor(ports.tcp, n),
    ];
  } finally {
    await child.stdin.close().catch(() => {});
    await reader.cancel().catch(() => {});
    const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
    await child.status;
    clearTimeout(timer);
  }
}

async function echo(conn: Deno.TcpConn): Promise<void> {
  conn.setNoDelay(true);
  const buf = new Uint8Array(4096);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      for (let off = 0; off < n;) off += await conn.write(buf.subarray(off, n));
    }
  } catch {
    /* the client went away */
  } finally {
    conn.close();
  }
}

// The child: the three servers, their ports as one JSON line, then until stdin closes.
async function serveFloors(): Promise<void> {
  const { createServer } = await import("node:http");
  const node = createServer((req, res) => {
    req.on("data", () => {});
    req.on("end", () => {
      res.writeHead(204);
      res.end();
    });
  });
  await new Promise<void>((resolve) => node.listen(0, "127.0.0.1", resolve));
  const deno = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    await req.arrayBuffer();
    return new Response(null, { status: 204 });
  });
  const tcp = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const conn of tcp) echo(conn);
  })().catch(() => {});
  const nodePort = (node.address() as { port: number }).port;
  console.log(JSON.stringify({ node: nodePort, deno: deno.addr.port, tcp: tcp.addr.port }));
  for await (const _ of Deno.stdin.readable) { /* until the parent closes it */ }
  Deno.exit(0);
}

if (import.meta.main && Deno.args[0] === "--serve") await serveFloors();
