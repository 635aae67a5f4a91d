// Clients of the KV API that record a history (./history.ts) for the
// linearizability checker. A PUT that got no 204 (503, a reset connection,
// a client timeout) may still take effect: it is never ended, so its
// outcome is unknown. A GET that failed is never ended either (it
// constrains nothing).

import { History } from "./history.ts";

/** Operations against members' key-value APIs, recorded in `history`. */
export class KvClients {
  readonly history = new History();
  /** Keys written once each, acknowledged, with their values: all must be present at the end. */
  readonly ackedOwn = new Map<string, string>();
  readonly counts = { put: 0, putOk: 0, putUnknown: 0, get: 0, getOk: 0, getFailed: 0 };
  readonly #timeoutMs: number;
  readonly #url: (member: number) => string;

  /** `url(member)` is a member's API base URL; requests give up after `timeoutMs`. */
  constructor(url: (member: number) => string, timeoutMs: number) {
    this.#url = url;
    this.#timeoutMs = timeoutMs;
  }

  /** PUT key=value at `member`; true if acknowledged (204). */
  async put(client: number, member: number, key: string, value: string): Promise<boolean> {
    this.counts.put++;
    const id = this.history.begin(client, { op: "put", key, value });
    let ok = false;
    try {
      const r = await fetch(`${this.#url(member)}${key}`, {
        method: "PUT",
        body: value,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      await r.body?.cancel();
      ok = r.status === 204;
    } catch { /* unknown outcome */ }
    if (ok) {
      this.history.end(id);
      this.counts.putOk++;
    } else this.counts.putUnknown++;
    return ok;
  }

  /** Linearizable GET at `member`: the value, null if not found, undefined if it failed. */
  async get(client: number, member: number, key: string): Promise<string | null | undefined> {
    this.counts.get++;
    const id = this.history.begin(client, { op: "get", key });
    try {
      const r = await fetch(`${this.#url(member)}${key}`, {
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      const body = await r.text();
      if (r.status !== 200 && r.status !== 404) throw new Error(`status ${r.status}`);
      const value = r.status === 200 ? body : undefined;
      this.history.end(id, value);
      this.counts.getOk++;
      return value ?? null;
    } catch {
      this.counts.getFailed++;
      return undefined;
    }
  }

  /**
   * `n` clients, each looping until `signal` aborts: a PUT of a unique value
   * or a GET on one of `keys`, at a member picked from `targets()`; every
   * fifth operation writes a key of its own instead (never overwritten), so
   * that every acknowledged write can be looked for at the end.
   */
  async run(n: number, keys: string[], targets: () => number[], signal: AbortSignal) {
    const one = async (client: number) => {
      for (let seq = 1; !signal.aborted; seq++) {
        const live = targets();
        const member = live[Math.floor(Math.random() * live.length)];
        const key = keys[Math.floor(Math.random() * keys.length)];
        if (seq % 5 === 0) {
          const own = `/own-${client}-${seq}`;
          if (await this.put(client, member, own, `v${seq}`)) this.ackedOwn.set(own, `v${seq}`);
        } else if (Math.random() < 0.5) await this.put(client, member, key, `c${client}-${seq}`);
        else await this.get(client, member, key);
      }
    };
    await Promise.all(Array.from({ length: n }, (_, i) => one(i + 1)));
  }
}
