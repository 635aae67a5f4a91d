// A TCP proxy on 127.0.0.1 that a test can freeze (no data, no FIN: a
// half-open link), throttle (a slow link) or cut (connections reset).
export class FaultProxy implements AsyncDisposable {
  readonly listener: Deno.Listener<Deno.TcpConn, Deno.NetAddr>;
  #target: { hostname: string; port: number };
  #conns = new Set<Deno.TcpConn>();
  #pumps = new Set<Promise<void>>();
  #accepting: Promise<void>;
  #frozen: Promise<void> | undefined;
  #thaw: (() => void) | undefined;
  /** Bytes per second per direction and connection; 0 means unlimited. */
  rate = 0;
  /** Connections accepted so far. */
  accepted = 0;
  /** Bytes forwarded from clients to the target, over all connections. */
  forwarded = 0;
  /** When set: once `forwarded` reaches it, every connection is cut (then it is unset). */
  cutAt: number | undefined;
  /** When set: the byte at this `forwarded` position is flipped on its way (then it is unset). */
  flipAt: number | undefined;

  constructor(targetPort: number) {
    this.#target = { hostname: "127.0.0.1", port: targetPort };
    this.listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#accepting = this.#accept();
  }

  get url(): string {
    return `http://127.0.0.1:${this.listener.addr.port}`;
  }

  /** Existing connections stop moving bytes; new connections are not affected. */
  freeze(): void {
    this.#frozen ??= new Promise((r) => this.#thaw = r);
    this.#frozenConns = new Set(this.#conns);
  }
  #frozenConns = new Set<Deno.TcpConn>();
  /** The client ends: what they send goes to the target. */
  #upstream = new WeakSet<Deno.TcpConn>();

  thaw(): void {
    this.#thaw?.();
    this.#frozen = undefined;
    this.#frozenConns.clear();
  }

  /** Resets every connection (as if the peer process died). */
  cut(): void {
    for (const c of this.#conns) {
      try {
        c.close();
      } catch { /* already closed */ }
    }
    this.#conns.clear();
  }

  async #accept(): Promise<void> {
    for (;;) {
      let client: Deno.TcpConn;
      try {
        client = await this.listener.accept();
      } catch {
        return;
      }
      this.accepted++;
      let server: Deno.TcpConn;
      try {
        server = await Deno.connect(this.#target);
      } catch {
        client.close();
        continue;
      }
      this.#conns.add(client);
      this.#conns.add(server);
      this.#upstream.add(client);
      const done = () => {
        for (const c of [client, server]) {
          this.#conns.delete(c);
          try {
            c.close();
          } catch { /* already closed */ }
        }
      };
      const p = Promise.all([this.#pump(client, server), this.#pump(server, client)]).then(
        done,
        done,
      );
      this.#pumps.add(p);
      p.finally(() => this.#pumps.delete(p));
    }
  }

  async #pump(from: Deno.TcpConn, to: Deno.TcpConn): Promise<void> {
    const buf = new Uint8Array(16 * 1024);
    for (;;) {
      if (this.#frozen !== undefined && this.#frozenConns.has(from)) await this.#frozen;
      let got: number | null;
      try {
        got = await from.read(buf);
      } catch {
        return;
      }
      if (got === null) {
        try {
          await to.closeWrite();
        } catch { /* gone */ }
        return;
      }
      let n = got;
      if (this.#frozen !== undefined && this.#frozenConns.has(from)) await this.#frozen;
      if (this.rate > 0) await new Promise((r) => setTimeout(r, (n / this.rate) * 1000));
      let cut = false;
      if (this.#upstream.has(from)) {
        if (this.cutAt !== undefined && this.forwarded + n >= this.cutAt) {
          n = this.cutAt - this.forwarded;
          cut = true;
          this.cutAt = undefined;
        }
        const flip = this.flipAt;
        if (flip !== undefined && flip >= this.forwarded && flip < this.forwarded + n) {
          buf[flip - this.forwarded] ^= 0x01;
          this.flipAt = undefined;
        }
        this.forwarded += n;
      }
      let off = 0;
      try {
        while (off < n) off += await to.write(buf.subarray(off, n));
      } catch {
        return;
      }
      if (cut) {
        this.cut();
        return;
      }
    }
  }

  /** `await using` support: closes the proxy. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async close(): Promise<void> {
    this.thaw();
    this.listener.close();
    this.cut();
    await this.#accepting;
    await Promise.all(this.#pumps);
  }
}
