/**
 * Peer URLs as etcd accepts them, normalised so that the same member's
 * URLs compare equal however they were written.
 *
 * @module
 */

/**
 * Checks and normalises peer URLs: http or https, a host, no path, query
 * or credentials. Throws a TypeError naming the bad URL.
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
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new TypeError(`invalid peer URL ${JSON.stringify(u)}: scheme must be http or https`);
    }
    const credentials = url.username !== "" || url.password !== "";
    if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash || credentials) {
      throw new TypeError(`invalid peer URL ${JSON.stringify(u)}: must be scheme://host:port only`);
    }
    return `${url.protocol}//${url.host}`;
  }).sort();
}
