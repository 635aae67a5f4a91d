// A standalone reproduction of bench/README.md's finding 1, without our
// transport: Deno.serve reading a large streamed POST body gets
// superlinearly slow (and its memory grows) when the handler awaits
// anything between two reads, as a snapshot sink writing to a file does.
//
//   deno run -A bench/serve_body_repro.ts [MiB ...]     # default 64 128 256
//
// For each size it POSTs that many MiB (1 MiB pieces, as our snapshot
// sender does) to a handler that reads the body in a tight loop, and to
// one that writes each piece to a file before the next read (what a
// snapshot sink does). The time the handler spends waiting in
// `reader.read()` is reported separately: it is what grows. Client and
// server share this process, so the RSS includes the client's payload.

const dir = await Deno.makeTempDir({ prefix: "serve-body-repro-" });

const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
  const write = new URL(req.url).searchParams.has("write");
  using file = write ? await Deno.open(`${dir}/body`, { write: true, create: true }) : undefined;
  const reader = req.body!.getReader();
  let bytes = 0;
  let readMs = 0;
  for (;;) {
    const t = performance.now();
    const { done, value } = await reader.read();
    readMs += performance.now() - t;
    if (done) break;
    bytes += value.length;
    for (let off = 0; file !== undefined && off < value.length;) {
      off += await file.write(value.subarray(off));
    }
  }
  return new Response(JSON.stringify({ bytes, readMs }));
});

function rssMiB(): number {
  const s = Deno.readTextFileSync("/proc/self/status");
  return Number(/VmRSS:\s+(\d+)/.exec(s)?.[1]) / 1024;
}

async function post(size: number, write: boolean): Promise<{ ms: number; readMs: number }> {
  const data = new Uint8Array(size).fill(7);
  let off = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(ctl) {
      if (off >= size) return ctl.close();
      ctl.enqueue(data.subarray(off, off + (1 << 20)));
      off += 1 << 20;
    },
  }, { highWaterMark: 0 });
  const t0 = performance.now();
  const url = `http://127.0.0.1:${server.addr.port}/${write ? "?write" : ""}`;
  const res = await fetch(url, { method: "POST", body, duplex: "half" } as RequestInit);
  const { bytes, readMs } = await res.json();
  if (bytes !== size) throw new Error("short body");
  return { ms: performance.now() - t0, readMs };
}

const sizes = Deno.args.length > 0 ? Deno.args.map(Number) : [64, 128, 256];
for (const mib of sizes) {
  for (const write of [false, true]) {
    const before = rssMiB();
    const { ms, readMs } = await post(mib << 20, write);
    const how = write ? "file write between reads" : "tight read loop";
    console.log(
      `${String(mib).padStart(5)} MiB, ${how}: ${ms.toFixed(0)} ms ` +
        `(${((mib << 20) / ms / 1e3).toFixed(0)} MB/s), ${readMs.toFixed(0)} ms of it in ` +
        `reader.read(), process RSS ${before.toFixed(0)} -> ${rssMiB().toFixed(0)} MiB`,
    );
  }
}
await server.shutdown();
await Deno.remove(dir, { recursive: true });
