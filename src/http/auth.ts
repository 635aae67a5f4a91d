/**
 * Optional request signing between members that share a secret: every
 * request carries `X-Raft-Auth: v1 ts=<ms> nonce=<hex> sig=<base64url>`,
 * an HMAC-SHA-256 over the method, path, sender id, cluster id, timestamp
 * and nonce. The handler checks it before anything else. It authenticates
 * the dialer (Deno.serve and edge runtimes cannot verify client
 * certificates); it does not protect bodies or hide traffic: use TLS for
 * that. etcd does not speak it, so it is off by default.
 *
 * @module
 */

/** Name of the header carrying the signature. */
export const AUTH_HEADER = "X-Raft-Auth";

/**
 * Shared-secret request signing settings.
 *
 * @example
 * ```ts
 * import type { RequestAuthOptions } from "@rafthttp/rafthttp";
 * const auth: RequestAuthOptions = { secret: "a long random string shared by all members" };
 * console.log(auth.maxSkewMs ?? 30_000); // 30000
 * ```
 */
export interface RequestAuthOptions {
  /** The secret every member shares (at least 16 bytes). */
  secret: string | Uint8Array;
  /** Accepted clock difference between members, ms. Default 30000. */
  maxSkewMs?: number;
  /** Nonces remembered to refuse replays within the window. Default 200000. */
  replayCacheSize?: number;
}

const te = new TextEncoder();

function b64url(bytes: ArrayBuffer): string {
  let s = "";
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromB64url(s: string): Uint8Array<ArrayBuffer> | undefined {
  try {
    const bin = atob(s.replaceAll("-", "+").replaceAll("_", "/"));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/** Signs outgoing requests and verifies incoming ones. */
export class RequestAuth {
  #key: Promise<CryptoKey>;
  #skew: number;
  #cap: number;
  #seen = new Map<string, number>();

  /** Prepares the key; throws TypeError if the secret is too short. */
  constructor(options: RequestAuthOptions) {
    const secret = typeof options.secret === "string" ? te.encode(options.secret) : options.secret;
    if (secret.length < 16) {
      throw new TypeError("the request signing secret must be at least 16 bytes");
    }
    this.#key = crypto.subtle.importKey(
      "raw",
      new Uint8Array(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
    this.#skew = options.maxSkewMs ?? 30_000;
    this.#cap = options.replayCacheSize ?? 200_000;
  }

  #input(method: string, path: string, from: string, cluster: string, ts: string, nonce: string) {
    return te.encode(`v1\n${method}\n${path}\n${from}\n${cluster}\n${ts}\n${nonce}`);
  }

  /** The header value for a request. */
  async sign(method: string, path: string, from: string, cluster: string): Promise<string> {
    const ts = String(Date.now());
    const nonce = Array.from(
      crypto.getRandomValues(new Uint8Array(12)),
      (b) => b.toString(16).padStart(2, "0"),
    )
      .join("");
    const sig = await crypto.subtle.sign(
      "HMAC",
      await this.#key,
      this.#input(method, path, from, cluster, ts, nonce),
    );
    return `v1 ts=${ts} nonce=${nonce} sig=${b64url(sig)}`;
  }

  /** Checks a request; returns why it is refused, or undefined if it is authentic and fresh. */
  async verify(req: Request, path: string): Promise<string | undefined> {
    const value = req.headers.get(AUTH_HEADER);
    if (value === null) return `missing ${AUTH_HEADER} header`;
    const m = /^v1 ts=(\d{1,16}) nonce=([0-9a-f]{24}) sig=([A-Za-z0-9_-]{43})$/.exec(value);
    if (m === null) return `malformed ${AUTH_HEADER} header`;
    const [, ts, nonce, sig] = m;
    const age = Date.now() - Number(ts);
    if (Math.abs(age) > this.#skew) {
      return `stale request: its timestamp is ${age} ms off (allowed ${this.#skew} ms); check the clocks`;
    }
    const sigBytes = fromB64url(sig);
    if (sigBytes === undefined) return "malformed signature";
    const from = req.headers.get("X-Server-From") ?? "";
    const cluster = req.headers.get("X-Etcd-Cluster-ID") ?? "";
    const ok = await crypto.subtle.verify(
      "HMAC",
      await this.#key,
      sigBytes,
      this.#input(req.method, path, from, cluster, ts, nonce),
    );
    if (!ok) return "bad signature (a different secret, or a tampered request)";
    if (this.#seen.has(nonce)) return "replayed request";
    this.#remember(nonce, Number(ts) + this.#skew);
    return undefined;
  }

  #remember(nonce: string, expires: number): void {
    if (this.#seen.size >= this.#cap) {
      const now = Date.now();
      for (const [n, exp] of this.#seen) {
        if (exp < now || this.#seen.size >= this.#cap) this.#seen.delete(n);
        else break;
      }
    }
    this.#seen.set(nonce, expires);
  }
}
