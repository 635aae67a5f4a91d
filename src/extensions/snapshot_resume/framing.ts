/**
 * The body of the snapshot extension after the MsgSnap frame: the data cut
 * into verification windows at fixed positions (every `window` bytes from
 * byte 0), each window followed by its digest, and after the last one the
 * digest of the window digests (the whole data). A transfer that resumes at
 * `offset` starts with the rest of the window `offset` falls in: the
 * receiver already holds that window's first bytes, the sender re-reads them
 * to hash them without sending them, and the window's digest covers all of
 * it.
 *
 * ```
 * data[offset, end of its window) digest | data[window] digest | ... | chain digest
 * ```
 *
 * @module
 */

import { chainDigest, type Digest, type Hasher, sameBytes } from "./digest.ts";

/** Received bytes that do not match the sender's digest (or framing that does not add up). */
export class SnapshotDigestError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "SnapshotDigestError";
  }
}

/** Where a transfer's windows lie. */
export interface WindowPlan {
  /** Bytes of data in all. */
  readonly size: number;
  /** Verification window, bytes. */
  readonly window: number;
  /** First byte this attempt sends. */
  readonly offset: number;
}

/** The first byte of the window `offset` falls in: where the sender re-reads from. */
export function windowStart(plan: WindowPlan): number {
  return Math.floor(plan.offset / plan.window) * plan.window;
}

/** Bytes on the wire for an attempt from `offset` (data, window digests, chain digest). */
export function framedLength(plan: WindowPlan, digestSize: number): number {
  const first = Math.floor(plan.offset / plan.window);
  const windows = Math.ceil(plan.size / plan.window) - first;
  return plan.size - plan.offset + (windows + 1) * digestSize;
}

/** What goes on the wire next: bytes, or a digest still being computed. */
export type WirePart = Uint8Array | Promise<Uint8Array>;

/**
 * The sending half: fed the data from {@link windowStart}, hands on what goes
 * on the wire (data as views, no copies; each window's digest as a promise).
 * `digests`
 * holds the digests of the windows before the first one this attempt
 * touches (kept from earlier attempts) and collects the new ones.
 */
export class FrameEncoder {
  readonly #d: Digest;
  readonly #plan: WindowPlan;
  readonly #digests: Uint8Array[];
  readonly #pending: Promise<Uint8Array>[] = [];
  #index: number;
  #pos: number;
  #hasher: Hasher;
  #end: number;

  /** Starts an attempt; `digests` must hold at least the windows before `offset`'s. */
  constructor(d: Digest, plan: WindowPlan, digests: Uint8Array[]) {
    this.#d = d;
    this.#plan = plan;
    this.#pos = windowStart(plan);
    if (digests.length < this.#pos / plan.window) {
      throw new RangeError("the digests of the windows before the resume offset are missing");
    }
    digests.length = this.#pos / plan.window;
    this.#digests = digests;
    this.#index = digests.length;
    this.#end = Math.min(this.#pos + plan.window, plan.size);
    this.#hasher = d.create();
  }

  /** Data position reached (bytes fed from the start of the data). */
  get position(): number {
    return this.#pos;
  }

  /** Feeds the next data bytes; `out` gets what to send, in order. */
  push(chunk: Uint8Array, out: (b: WirePart) => void): void {
    const { offset, size } = this.#plan;
    if (this.#pos + chunk.length > size) {
      throw new RangeError(`snapshot body is longer than the ${size} bytes declared`);
    }
    let at = 0;
    while (at < chunk.length) {
      const n = Math.min(this.#end - this.#pos, chunk.length - at);
      const part = chunk.subarray(at, at + n);
      this.#hasher.update(part);
      const skip = Math.max(0, Math.min(n, offset - this.#pos));
      if (skip < n) out(skip === 0 ? part : part.subarray(skip));
      this.#pos += n;
      at += n;
      if (this.#pos === this.#end) this.#closeWindow(out);
    }
  }

  #closeWindow(out: (b: WirePart) => void): void {
    const index = this.#index++;
    const p = this.#hasher.digest().then((dg) => this.#digests[index] = dg);
    this.#pending.push(p);
    out(p);
    this.#end = Math.min(this.#pos + this.#plan.window, this.#plan.size);
    this.#hasher = this.#d.create();
  }

  /** After the last data byte: the chain digest. Throws if the data was short. */
  finish(out: (b: WirePart) => void): void {
    const { size } = this.#plan;
    if (this.#pos !== size) {
      throw new RangeError(
        `snapshot body ended after ${this.#pos} bytes but ${size} were declared`,
      );
    }
    out(Promise.all(this.#pending).then(() => chainDigest(this.#d, this.#digests)));
  }
}

/**
 * The receiving half, synchronous: fed the wire bytes, hands on each
 * complete window with the digest the sender gave it (not yet checked: see
 * {@link WindowVerifier}), and at the end the chain digest. `partial` is the
 * bytes of the window the resume point falls in that the receiver kept.
 */
export class FrameDecoder {
  readonly #plan: WindowPlan;
  #parts: Uint8Array[] = [];
  #len = 0;
  #fill = 0;
  #start: number;
  #dbuf: Uint8Array;
  #dfill = 0;
  #phase: "data" | "digest" | "chain" | "done" = "data";

  /** Starts decoding an attempt of `plan`. */
  constructor(digestSize: number, plan: WindowPlan, partial: Uint8Array) {
    this.#plan = plan;
    this.#start = windowStart(plan);
    if (partial.length !== plan.offset - this.#start) {
      throw new RangeError("the kept part of the resumed window has the wrong length");
    }
    this.#dbuf = new Uint8Array(digestSize);
    this.#open(partial);
  }

  #open(partial: Uint8Array): void {
    this.#len = Math.min(this.#plan.window, this.#plan.size - this.#start);
    this.#parts = partial.length > 0 ? [partial] : [];
    this.#fill = partial.length;
    if (this.#len === 0) this.#phase = "chain";
    else this.#phase = this.#fill === this.#len ? "digest" : "data";
  }

  /** Where the current window starts. */
  get windowStart(): number {
    return this.#start;
  }

  /**
   * The bytes of the current window, kept when the transfer breaks; a window
   * whose bytes all came but not its digest keeps all but its last byte, so
   * that a resume point always lies inside the window it names.
   */
  get pending(): Uint8Array {
    const all = concat(this.#parts, this.#fill);
    return this.#phase === "digest" ? all.subarray(0, all.length - 1) : all;
  }

  /** True once the chain digest arrived. */
  get done(): boolean {
    return this.#phase === "done";
  }

  /**
   * Feeds wire bytes (kept as views: they must not be reused); `onWindow`
   * gets each complete window's parts and the digest sent with it,
   * `onChain` the final digest. Throws {@link SnapshotDigestError} for bytes
   * after the end.
   */
  push(
    chunk: Uint8Array,
    onWindow: (parts: Uint8Array[], digest: Uint8Array) => void,
    onChain: (digest: Uint8Array) => void,
  ): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.#phase === "data") {
        const n = Math.min(this.#len - this.#fill, chunk.length - at);
        this.#parts.push(n === chunk.length ? chunk : chunk.subarray(at, at + n));
        this.#fill += n;
        at += n;
        if (this.#fill === this.#len) this.#phase = "digest";
        continue;
      }
      if (this.#phase === "done") {
        throw new SnapshotDigestError("snapshot body continues after its final digest");
      }
      const n = Math.min(this.#dbuf.length - this.#dfill, chunk.length - at);
      this.#dbuf.set(chunk.subarray(at, at + n), this.#dfill);
      this.#dfill += n;
      at += n;
      if (this.#dfill < this.#dbuf.length) continue;
      this.#dfill = 0;
      const digest = this.#dbuf.slice();
      if (this.#phase === "chain") {
        this.#phase = "done";
        onChain(digest);
        continue;
      }
      const parts = this.#parts;
      this.#start += this.#len;
      this.#open(new Uint8Array(0));
      onWindow(parts, digest);
    }
  }

  /** At the end of the body: throws unless every window and the chain digest arrived. */
  finish(): void {
    if (this.#phase !== "done") {
      throw new Error(
        `snapshot body ended after ${this.#start + this.#fill} of ${this.#plan.size} data bytes`,
      );
    }
  }
}

/** The first `n` bytes of `parts`, in one buffer (the start of `into` if given). */
export function concat(parts: readonly Uint8Array[], n = Infinity, into?: Uint8Array): Uint8Array {
  const total = Math.min(n, parts.reduce((k, p) => k + p.length, 0));
  if (parts.length === 1 && parts[0].length === total) return parts[0];
  const all = into === undefined ? new Uint8Array(total) : into.subarray(0, total);
  let at = 0;
  for (const p of parts) {
    if (at >= total) break;
    const take = Math.min(p.length, total - at);
    all.set(take === p.length ? p : p.subarray(0, take), at);
    at += take;
  }
  return all;
}

interface Queued {
  start: number;
  parts: Uint8Array[];
  length: number;
  check: Promise<Uint8Array>;
  ready: boolean;
}

/**
 * Checks complete windows against their digests, off the JavaScript thread
 * and in order; `digests` (the verified windows before the resume point)
 * grows as windows pass.
 */
export class WindowVerifier {
  readonly #d: Digest;
  readonly #digests: Uint8Array[];
  readonly #queue: Queued[] = [];
  #next: number;
  #window: number;

  /** Starts after the verified windows in `digests` (of `window` bytes each). */
  constructor(d: Digest, window: number, digests: Uint8Array[]) {
    this.#d = d;
    this.#digests = digests;
    this.#window = window;
    this.#next = digests.length * window;
  }

  /** Windows waiting for their check. */
  get queued(): number {
    return this.#queue.length;
  }

  /** True when the oldest queued window's check has finished. */
  get headReady(): boolean {
    return this.#queue[0]?.ready === true;
  }

  /** Queues a window (its parts) and the digest the sender gave it. */
  add(parts: Uint8Array[], expected: Uint8Array): void {
    const start = this.#next;
    const h = this.#d.create();
    let length = 0;
    for (const p of parts) {
      h.update(p);
      length += p.length;
    }
    this.#next += length;
    const item: Queued = {
      start,
      parts,
      length,
      ready: false,
      check: h.digest().then((got) => {
        if (!sameBytes(got, expected)) {
          const index = Math.floor(start / this.#window);
          throw new SnapshotDigestError(
            `snapshot data window ${index} (bytes ${start}..${
              start + length
            }) does not match its digest: corrupted in transit`,
          );
        }
        return got;
      }).finally(() => item.ready = true),
    };
    item.check.catch(() => {}); // observed by next()
    this.#queue.push(item);
  }

  /** The oldest queued window, once it passed; throws {@link SnapshotDigestError} if it did not. */
  async next(): Promise<{ start: number; parts: Uint8Array[]; length: number }> {
    const item = this.#queue[0];
    const digest = await item.check;
    this.#queue.shift();
    this.#digests.push(digest);
    return item;
  }

  /** After every window passed: checks the chain digest. */
  async chain(expected: Uint8Array): Promise<void> {
    if (!sameBytes(await chainDigest(this.#d, this.#digests), expected)) {
      throw new SnapshotDigestError("the digest of the whole snapshot data does not match");
    }
  }
}
