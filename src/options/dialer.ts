/**
 * What sends every request to peers: an explicit `dialer`, a `fetch`
 * wrapped, or the default this runtime offers (`src/edge/runtime.ts`),
 * with `security.tls`.
 *
 * @module
 */

import { type Dialer, unixNeedsFetch } from "../http/dialer.ts";
import { fetchDialer } from "../http/fetch_dialer.ts";
import { isUnixUrl } from "../http/peer_urls.ts";
import { type DialerTlsOptions, nodeDialer } from "../edge/node_dialer.ts";
import { defaultEdge } from "../edge/runtime.ts";

/**
 * The dialer resolved, and how to release it.
 *
 * @example
 * ```ts
 * import { type DialerConfig, resolveDialer } from "./dialer.ts";
 * const cfg: DialerConfig = resolveDialer({ fetch }, undefined);
 * cfg.closeDialer(); // a no-op: the caller's fetch is not the transport's to close
 * console.log(typeof cfg.dialer.dial); // function
 * ```
 */
export interface DialerConfig {
  /** What sends every request to peers. */
  dialer: Dialer;
  /** Releases the dialer if the transport made it (called by `stop()`). */
  closeDialer: () => void;
}

/** The global fetch, with a clear error for unix URLs (which need `unixFetch`). */
const defaultFetch = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
  const href = input instanceof Request ? input.url : String(input);
  if (isUnixUrl(href)) return Promise.reject(unixNeedsFetch(href));
  return fetch(input, init);
};

/**
 * The dialer: an explicit `dialer`, else `fetch` wrapped, else the node
 * dialer where the runtime offers a native one (with `tls`, already
 * checked), else the global fetch. TypeError for combinations that would
 * leave an option unused.
 *
 * @example
 * ```ts
 * import { resolveDialer } from "./dialer.ts";
 * const dialer = { dial: () => Promise.reject(new Error("unused")) };
 * console.log(resolveDialer({ dialer }, undefined).dialer === dialer); // true
 * ```
 */
export function resolveDialer(
  o: { dialer?: Dialer; fetch?: typeof fetch },
  tls: DialerTlsOptions | undefined,
): DialerConfig {
  const none = () => {};
  if (o.dialer !== undefined) {
    if (typeof o.dialer?.dial !== "function") {
      throw new TypeError("dialer must have a dial(request) method");
    }
    if (o.fetch !== undefined) {
      throw new TypeError("dialer and fetch were both given: drop fetch (or wrap it: fetchDialer)");
    }
    if (tls !== undefined) {
      throw new TypeError(
        "security.tls only configures the transport's own dialer: drop it and build your " +
          "dialer with it (nodeDialer({ tls }))",
      );
    }
    return { dialer: o.dialer, closeDialer: none };
  }
  if (o.fetch !== undefined) {
    if (typeof o.fetch !== "function") throw new TypeError("fetch must be a function");
    if (tls !== undefined) {
      throw new TypeError(
        "security.tls and fetch were both given: a fetch brings its own TLS settings; drop " +
          "security.tls (and configure your fetch), or drop fetch to have the transport dial " +
          "with security.tls",
      );
    }
    return { dialer: fetchDialer(o.fetch), closeDialer: none };
  }
  if (defaultEdge() === "node:http") {
    const dialer = nodeDialer({ tls });
    return { dialer, closeDialer: () => dialer.close() };
  }
  if (tls !== undefined) {
    throw new TypeError(
      "security.tls needs node:http (Deno, Node.js), which this runtime lacks: drop it and " +
        "pass a fetch (or dialer) that has your certificates",
    );
  }
  return { dialer: fetchDialer(defaultFetch), closeDialer: none };
}
