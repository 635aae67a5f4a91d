// The latency floor of the HTTP path we ride on, without rafthttp: two
// processes, each serving a streaming response and reading the other's with
// fetch; a ping is one 50-byte chunk each way.
//   deno run -A bench/raw_ping.ts echo 25001 25002 &
//   deno run -A bench/raw_ping.ts ping 25002 25001 5000
const [role, myPort, peerPort, count] = Deno.args;
const n = Number(count ?? 5000);
let out!: ReadableStreamDefaultController<Uint8Array>;
let ready!: () => void;
const opened = new Promise<void>((r) => ready = r);
const server = Deno.serve(
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
await new Promise((r) => setTimeout(r, 500));
const reader = (await fetch(`http://127.0.0.1:${peerPort}/`)).body!.getReader();
await opened;
const ping = new Uint8Array(50);
if (role === "echo") {
  while (!(await reader.read()).done) out.enqueue(ping.slice());
} else {
  const lat: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    out.enqueue(ping.slice());
    await reader.read();
    lat.push((performance.now() - t) * 1000);
  }
  lat.sort((a, b) => a - b);
  const at = (p: number) => lat[Math.ceil((p / 100) * n) - 1].toFixed(1);
  console.log(`raw ping over Deno.serve + fetch: p50 ${at(50)} µs, p99 ${at(99)} µs (n=${n})`);
  await reader.cancel();
  await server.shutdown();
  Deno.exit(0);
}
