/**
 * The `security` options: TLS toward `https://` peers and request signing.
 * (TLS on this member's own port is `serve()`'s business.)
 *
 * @module
 */

import type { DialerTlsOptions } from "../edge/node_dialer.ts";
import { RequestAuth, type RequestAuthOptions } from "../http/auth.ts";
import { group } from "./check.ts";

/**
 * How this member proves itself to peers and checks them
 * (`TransportOptions.security`).
 *
 * @example
 * ```ts
 * import type { SecurityOptions } from "@rafthttp/rafthttp";
 * const security = (ca: string, cert: string, key: string): SecurityOptions => ({
 *   tls: { ca, cert, key },
 *   auth: { secret: "a secret every member shares" },
 * });
 * console.log(security("CA", "C", "K").tls?.ca); // CA
 * ```
 */
export interface SecurityOptions {
  /**
   * The client side of TLS toward `https://` peers (PEM strings): the CA their
   * certificates chain to, and this member's certificate and key for peers
   * that require client certificates (mTLS). Builds the default node:http
   * dialer with them; not together with `fetch` or `dialer`.
   */
  tls?: DialerTlsOptions;
  /**
   * Sign every request with a secret all members share, and refuse unsigned
   * or stale requests with 401 (see docs/security.md). Off by
   * default: etcd does not sign.
   */
  auth?: RequestAuthOptions;
}

/**
 * The security options resolved: the signer, if any, and the checked TLS
 * options the default dialer is built with.
 *
 * @example
 * ```ts
 * import { resolveSecurity, type SecurityConfig } from "./security.ts";
 * const cfg: SecurityConfig = resolveSecurity(undefined);
 * console.log(cfg.auth, cfg.tls); // undefined undefined
 * ```
 */
export interface SecurityConfig {
  /** `security.auth`, ready to sign and check. */
  auth?: RequestAuth;
  /** `security.tls`, checked. */
  tls?: DialerTlsOptions;
}

/**
 * Checks `security`: TypeError naming the option (`security.tls.cert`)
 * for a value of the wrong kind.
 *
 * @example
 * ```ts
 * import { resolveSecurity } from "./security.ts";
 * try {
 *   resolveSecurity({ tls: { cert: "PEM" } });
 * } catch (e) {
 *   console.log((e as Error).message); // security.tls.cert and security.tls.key go together: give both or neither
 * }
 * ```
 */
export function resolveSecurity(options: SecurityOptions | undefined): SecurityConfig {
  const o = group("security", options);
  if (o.tls !== undefined) checkTls(o.tls);
  return { auth: o.auth === undefined ? undefined : new RequestAuth(o.auth), tls: o.tls };
}

/** TypeError unless `tls` holds PEM strings where given. */
function checkTls(tls: DialerTlsOptions): void {
  if (typeof tls !== "object" || tls === null) {
    throw new TypeError("security.tls must be an object { ca?, cert?, key? } of PEM strings");
  }
  const cas = tls.ca === undefined ? [] : Array.isArray(tls.ca) ? tls.ca : [tls.ca];
  for (const c of cas) {
    if (typeof c !== "string") {
      throw new TypeError("security.tls.ca must be a PEM string or an array of them");
    }
  }
  for (const k of ["cert", "key"] as const) {
    if (tls[k] !== undefined && typeof tls[k] !== "string") {
      throw new TypeError(`security.tls.${k} must be a PEM string`);
    }
  }
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new TypeError(
      "security.tls.cert and security.tls.key go together: give both or neither",
    );
  }
}
