// Free TCP ports on 127.0.0.1 for benchmark and test processes: random
// picks from 20000-31999 that can be bound right now (listening on port 0
// would give the kernel's ephemeral range, which outgoing connections use).
export function freePorts(n: number): number[] {
  const out: number[] = [];
  for (let tries = 0; out.length < n; tries++) {
    if (tries > 10_000) throw new Error(`found only ${out.length} of ${n} free ports`);
    const p = 20000 + Math.floor(Math.random() * 12000);
    if (out.includes(p)) continue;
    try {
      Deno.listen({ hostname: "127.0.0.1", port: p }).close();
      out.push(p);
    } catch { /* taken */ }
  }
  return out;
}
