/**
 * TLS on the peer port, as etcd's peer flags configure it: a certificate and
 * key serve https; `ca` with `clientCertAuth` asks every client for a
 * certificate signed by that CA (etcd's `--peer-client-cert-auth` and
 * `--peer-trusted-ca-file`: without one the TLS handshake fails), and
 * `allowedCN` / `allowedHostname` further restrict whose certificate is
 * accepted (`--peer-cert-allowed-cn`, `--peer-cert-allowed-hostname`).
 *
 * etcd 3.4 checks the verified leaf certificate: its subject CN equal to the
 * allowed CN, or, for an allowed hostname, Go's `VerifyHostname`: an IP
 * address (optionally in brackets) matches the certificate's IP SANs only; a
 * name matches its DNS SANs case-insensitively, a trailing dot ignored, a
 * left-most `*` label matching one label; the CN is never used as a
 * hostname. The two are mutually exclusive. etcd refuses in the handshake;
 * `node:https` gives us the certificate after it, so we answer 403 with
 * etcd's text, "client certificate authentication failed".
 *
 * No Node or Deno type appears here: the node edge and its bundle use it.
 *
 * @module
 */

/**
 * The TLS options of `serve()` and `serveNode()`.
 *
 * @example
 * ```ts
 * import type { TlsOptions } from "@rafthttp/rafthttp";
 * // As etcd's --peer-cert-file, --peer-key-file, --peer-trusted-ca-file,
 * // --peer-client-cert-auth and --peer-cert-allowed-cn:
 * const tls = (cert: string, key: string, ca: string): TlsOptions => ({
 *   cert,
 *   key,
 *   ca,
 *   clientCertAuth: true,
 *   allowedCN: ["m1", "m2", "m3"],
 * });
 * console.log(tls("C", "K", "A").clientCertAuth); // true
 * ```
 */
export interface TlsOptions {
  /** Server certificate chain (PEM); with `key`, the port serves https. */
  cert?: string;
  /** The certificate's private key (PEM). */
  key?: string;
  /**
   * CA certificates (PEM) that client certificates must be signed by (etcd's
   * `--peer-trusted-ca-file`); needs `clientCertAuth: true`.
   */
  ca?: string | string[];
  /**
   * Require a client certificate signed by `ca` from every client (etcd's
   * `--peer-client-cert-auth`): one without, or from another CA, fails the
   * TLS handshake. Default false.
   */
  clientCertAuth?: boolean;
  /**
   * Accept only client certificates whose subject CN is one of these (etcd's
   * `--peer-cert-allowed-cn`); others get 403. Needs `clientCertAuth`.
   */
  allowedCN?: string | string[];
  /**
   * Accept only client certificates valid for this host name or IP address
   * (etcd's `--peer-cert-allowed-hostname`: the certificate's SANs, never its
   * CN); others get 403. Needs `clientCertAuth`; exclusive with `allowedCN`.
   */
  allowedHostname?: string;
}

/** TLS options checked and resolved; `undefined` serves plain HTTP. */
export interface ResolvedTls {
  cert: string;
  key: string;
  ca?: string[];
  clientCertAuth: boolean;
  /** The check on a verified client certificate, when one is configured. */
  allow?: (cert: PeerCertificate) => boolean;
}

/** What we read of a client certificate (as `getPeerCertificate()` gives it). */
export interface PeerCertificate {
  subject?: { CN?: string | string[] };
  /** "DNS:a.example, IP Address:127.0.0.1" */
  subjectaltname?: string;
}

/**
 * etcd's text for a client certificate that fails the CN or hostname check.
 *
 * @example
 * ```ts
 * import { CERT_AUTH_FAILED } from "./tls.ts";
 * console.log(CERT_AUTH_FAILED); // client certificate authentication failed
 * ```
 */
export const CERT_AUTH_FAILED = "client certificate authentication failed";

/**
 * Checks the TLS options of `fn` ("serve" or "serveNode") and resolves
 * them; a `TypeError` names the option and what to do.
 *
 * @example
 * ```ts
 * import { resolveTls } from "./tls.ts";
 * console.log(resolveTls("serve", {})); // undefined: plain HTTP
 * try {
 *   resolveTls("serve", { cert: "C", key: "K", clientCertAuth: true });
 * } catch (e) {
 *   console.log((e as Error).message); // serve: `clientCertAuth: true` needs `ca`, ...
 * }
 * ```
 */
export function resolveTls(fn: string, o: TlsOptions): ResolvedTls | undefined {
  const bad = (msg: string) => new TypeError(`${fn}: ${msg}`);
  for (const name of ["cert", "key", "allowedHostname"] as const) {
    if (o[name] !== undefined && (typeof o[name] !== "string" || o[name] === "")) {
      throw bad(`\`${name}\` must be a non-empty string (PEM text for cert and key)`);
    }
  }
  if ((o.cert === undefined) !== (o.key === undefined)) {
    throw bad("`cert` and `key` go together: pass both to serve https, or neither");
  }
  const ca = list(fn, "ca", o.ca);
  const cns = list(fn, "allowedCN", o.allowedCN);
  const clientCertAuth = o.clientCertAuth ?? false;
  if (typeof clientCertAuth !== "boolean") throw bad("`clientCertAuth` must be a boolean");
  if (o.cert === undefined || o.key === undefined) {
    if (
      ca !== undefined || clientCertAuth || cns !== undefined || o.allowedHostname !== undefined
    ) {
      throw bad(
        "`ca`, `clientCertAuth`, `allowedCN` and `allowedHostname` need https: pass `cert` and `key`",
      );
    }
    return undefined;
  }
  if (clientCertAuth && ca === undefined) {
    throw bad("`clientCertAuth: true` needs `ca`, the CA certificates (PEM) clients must present");
  }
  if (
    !clientCertAuth && (ca !== undefined || cns !== undefined || o.allowedHostname !== undefined)
  ) {
    throw bad(
      "`ca`, `allowedCN` and `allowedHostname` check client certificates: set `clientCertAuth: true`",
    );
  }
  if (cns !== undefined && o.allowedHostname !== undefined) {
    throw bad("`allowedCN` and `allowedHostname` are mutually exclusive (as in etcd): pass one");
  }
  const host = o.allowedHostname;
  const allow = cns !== undefined
    ? (c: PeerCertificate) => commonNames(c).some((cn) => cns.includes(cn))
    : host !== undefined
    ? (c: PeerCertificate) => verifyHostname(c, host)
    : undefined;
  return { cert: o.cert, key: o.key, ca, clientCertAuth, allow };
}

/** A string or non-empty list of non-empty strings, as a list. */
function list(fn: string, name: string, v: string | string[] | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const all = typeof v === "string" ? [v] : v;
  if (
    !Array.isArray(all) || all.length === 0 || all.some((s) => typeof s !== "string" || s === "")
  ) {
    throw new TypeError(`${fn}: \`${name}\` must be a non-empty string or list of them`);
  }
  return all;
}

function commonNames(c: PeerCertificate): string[] {
  const cn = c.subject?.CN;
  return cn === undefined ? [] : typeof cn === "string" ? [cn] : cn;
}

/** The SANs of a certificate by kind ("DNS", "IP Address"). */
function sans(c: PeerCertificate, kind: string): string[] {
  const out: string[] = [];
  for (const part of (c.subjectaltname ?? "").split(",")) {
    const s = part.trim();
    if (s.startsWith(kind + ":")) out.push(s.slice(kind.length + 1).replace(/^"|"$/g, ""));
  }
  return out;
}

/**
 * Whether the certificate is valid for host `h`, as Go's
 * `x509.Certificate.VerifyHostname` decides (see the module docs).
 *
 * @example
 * ```ts
 * import { verifyHostname } from "./tls.ts";
 * const cert = { subject: { CN: "m1" }, subjectaltname: "DNS:*.peers.example, IP Address:10.0.0.1" };
 * console.log(verifyHostname(cert, "m1.peers.example"), verifyHostname(cert, "[10.0.0.1]")); // true true
 * console.log(verifyHostname(cert, "m1")); // false: the CN is not a hostname
 * ```
 */
export function verifyHostname(c: PeerCertificate, h: string): boolean {
  const candidate = h.length >= 3 && h[0] === "[" && h[h.length - 1] === "]" ? h.slice(1, -1) : h;
  const ip = normalizeIp(candidate);
  if (ip !== undefined) return sans(c, "IP Address").some((s) => normalizeIp(s) === ip);
  const name = candidate.toLowerCase().replace(/\.$/, "");
  if (name === "") return false;
  return sans(c, "DNS").some((pattern) => matchName(pattern.toLowerCase(), name));
}

function matchName(pattern: string, host: string): boolean {
  if (pattern === "" || pattern === ".") return false;
  const p = pattern.split(".");
  const hp = host.split(".");
  if (p.length !== hp.length) return false;
  return p.every((part, i) => (i === 0 && part === "*" && p.length > 1) || part === hp[i]);
}

/** An IP address in one canonical spelling, or undefined for a name. */
function normalizeIp(s: string): string | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(s)) {
    const parts = s.split(".").map(Number);
    return parts.every((n) => n <= 255) ? parts.join(".") : undefined;
  }
  if (!s.includes(":") || !/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  let tail: number[] = [];
  let text = s;
  const v4 = /(\d{1,3}(\.\d{1,3}){3})$/.exec(s);
  if (v4 !== null) {
    const b = v4[1].split(".").map(Number);
    tail = [(b[0] << 8) | b[1], (b[2] << 8) | b[3]];
    text = s.slice(0, -v4[1].length).replace(/:$/, "") || ":";
    if (text === ":") text = "::";
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const nums = (t: string) => t === "" ? [] : t.split(":").map((x) => parseInt(x, 16));
  const head = nums(halves[0]);
  const rest = halves.length === 2 ? nums(halves[1]) : [];
  const fill = 8 - tail.length - head.length - rest.length;
  if (fill < 0 || (halves.length === 1 && fill !== 0)) return undefined;
  const all = [...head, ...new Array(halves.length === 2 ? fill : 0).fill(0), ...rest, ...tail];
  if (all.length !== 8 || all.some((n) => isNaN(n) || n > 0xffff)) return undefined;
  // An IPv4-mapped IPv6 address equals its IPv4 address, as Go's net.IP.Equal says.
  if (all.slice(0, 5).every((n) => n === 0) && all[5] === 0xffff) {
    return [all[6] >> 8, all[6] & 255, all[7] >> 8, all[7] & 255].join(".");
  }
  return all.map((n) => n.toString(16)).join(":");
}
