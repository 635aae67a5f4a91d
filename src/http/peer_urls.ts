/**
 * Peer URLs as etcd accepts them, normalised so that the same member's
 * URLs compare equal however they were written.
 *
 * @module
 */

/** The schemes etcd accepts in peer URLs (`types.NewURLs`). */
const SCHEMES = new Set(["http:", "https:", "unix:", "unixs:"]);

/** True for `unix://` and `unixs://` URLs: HTTP (or HTTPS) over a unix socket. */
export function isUnixUrl(url: string): boolean {
  return url.startsWith("unix://") || url.startsWith("unixs://");
}

/**
 * Checks and normalises peer URLs: http, https, unix or unixs (as etcd), a
 * host, no path, query or credentials. A `unix://host:port` URL names the
 * socket file `host:port` (relative to the working directory, as etcd's
 * listener does), so it needs the `host:port` form etcd requires and is kept
 * as written (file names are case-sensitive). Throws a TypeError naming the
 * bad URL.
 */
export function normalizeUrls(urls: readonly string[]): string[] {
  if (urls.length === 0) throw new TypeError("a peer needs at least one URL");
  return urls.map((u) => {
    let url: URL;
    try {
      url = new URL(u);
    } catch {
      throw new TypeError(`invalid peer URL ${JSON.stringify(u)}: not a URL`);
    }
    if (!SCHEMES.has(url.protocol)) {
      throw new TypeError(
        `invalid peer URL ${JSON.stringify(u)}: scheme must be http, https, unix or unixs`,
      );
    }
    const credentials = url.username !== "" || url.password !== "";
    if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash || credentials) {
      throw new TypeError(`invalid peer URL ${JSON.stringify(u)}: must be scheme://host:port only`);
    }
    if ((url.protocol === "unix:" || url.protocol === "unixs:") && url.port === "") {
      throw new TypeError(
        `invalid peer URL ${JSON.stringify(u)}: a unix URL must have the form ` +
          `unix://host:port (etcd's form; the socket file is named host:port)`,
      );
    }
    return `${url.protocol}//${url.host}`;
  }).sort();
}
