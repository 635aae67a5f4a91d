/**
 * The started extensions of one transport, as its parts consult them: the
 * hooks gathered once at start, so that a transport without extensions (or
 * with none implementing a hook) pays one empty loop per snapshot or dial.
 *
 * @module
 */

import type {
  ExtensionContext,
  ExtensionHooks,
  ExtensionRoute,
  SnapshotIntake,
  SnapshotReceive,
  SnapshotSend,
  SnapshotSendOutcome,
  TransportExtension,
} from "./extension.ts";

/** etcd's endpoints, which no extension may take. */
function isEtcdPath(path: string): boolean {
  return path === "/raft" || path === "/raft/snapshot" || path === "/raft/probing" ||
    path === "/raft/stream" || path.startsWith("/raft/stream/");
}

/** Checks the option's value: a list of extensions with distinct names. */
function checkList(list: readonly TransportExtension[]): void {
  if (!Array.isArray(list)) throw new TypeError("extensions must be an array");
  const names = new Set<string>();
  for (const e of list) {
    if (typeof e?.name !== "string" || typeof e.start !== "function") {
      throw new TypeError("an extension needs a name and a start function");
    }
    if (names.has(e.name)) throw new TypeError(`extension ${e.name} is given twice`);
    names.add(e.name);
  }
}

/** The started extensions of one transport. */
export class ExtensionHost {
  /** Extension routes by path. */
  readonly routes = new Map<string, ExtensionRoute>();
  readonly #hooks: ExtensionHooks[] = [];
  readonly #senders: ExtensionHooks[] = [];
  readonly #receivers: ExtensionHooks[] = [];
  readonly #dialers: ExtensionHooks[] = [];
  readonly #answerers: ExtensionHooks[] = [];

  /** Starts `list` (in order) with `ctx`; TypeError for a bad list or route. */
  constructor(list: readonly TransportExtension[], ctx?: ExtensionContext) {
    checkList(list);
    try {
      for (const e of list) {
        if (ctx === undefined) throw new TypeError("extensions need a transport to start with");
        this.#add(e.name, e.start(ctx));
      }
    } catch (e) {
      this.stop().catch(() => {}); // those started already release what they took
      throw e;
    }
  }

  #add(name: string, h: ExtensionHooks): void {
    this.#hooks.push(h);
    for (const [path, route] of Object.entries(h.routes ?? {})) {
      if (!path.startsWith("/raft/") || isEtcdPath(path) || this.routes.has(path)) {
        throw new TypeError(`extension ${name} cannot serve ${path}`);
      }
      this.routes.set(path, route);
    }
    if (h.sendSnapshot) this.#senders.push(h);
    if (h.receiveSnapshot) this.#receivers.push(h);
    if (h.requestHeaders || h.responseHeaders) this.#dialers.push(h);
    if (h.answerHeaders) this.#answerers.push(h);
  }

  /** The first extension's take-over of `send`, or undefined for etcd's protocol. */
  sendSnapshot(send: SnapshotSend): Promise<SnapshotSendOutcome> | undefined {
    for (const h of this.#senders) {
      const taken = h.sendSnapshot!(send);
      if (taken !== undefined) return taken;
    }
    return undefined;
  }

  /** The first extension's take-over of `r`, or undefined for etcd's protocol. */
  async receiveSnapshot(r: SnapshotReceive): Promise<SnapshotIntake | undefined> {
    for (const h of this.#receivers) {
      const taken = await h.receiveSnapshot!(r);
      if (taken !== undefined) return taken;
    }
    return undefined;
  }

  /** The extensions' headers of a stream dial to `to` (empty when none adds any). */
  requestHeaders(to: bigint, path: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const h of this.#dialers) Object.assign(out, h.requestHeaders?.(to, path));
    return out;
  }

  /** Hands peer `from`'s answer to a stream dial to the extensions. */
  responseHeaders(from: bigint, path: string, headers: Headers): void {
    for (const h of this.#dialers) h.responseHeaders?.(from, path, headers);
  }

  /** Adds the extensions' headers to our answer to a peer's stream dial. */
  answer(req: Request, path: string, res: Response): void {
    for (const h of this.#answerers) {
      const add = h.answerHeaders!(req, path);
      for (const name in add) res.headers.set(name, add[name]);
    }
  }

  /** Stops every extension (all of them, even if one fails); the first failure is thrown. */
  async stop(): Promise<void> {
    const results = await Promise.allSettled(this.#hooks.map((h) => h.stop?.()));
    const failed = results.find((r) => r.status === "rejected");
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
  }
}

/** No extensions: for the pipeline-only remotes and for channels built on their own. */
export const NO_EXTENSIONS: ExtensionHost = new ExtensionHost([]);
