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

/**
 * The sending half: fed the data from {@link windowStart}, hands on what goes
 * on the wire. `digests` holds the digests of the windows before the first
 * one this attempt touches (kept from earlier attempts) and collects the new
 * ones.
 */
export class FrameEncoder {
  readonly #d: Digest;
  readonly #plan: WindowPlan;
  readonly #digests: Uint8Array[];
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
    this.#hasher = d.create();
    this.#end = Math.min(this.#pos + plan.window, plan.size);
  }

  /** Data position reached (bytes fed from the start of the data). */
  get position(): number {
    return this.#pos;
  }

  /** Feeds the next data bytes; `out` gets what to send, in order (views, no copies). */
  push(chunk: Uint8Array, out: (b: Uint8Array) => void): void {
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

  #closeWindow(out: (b: Uint8Array) => void): void {
    const digest = this.#hasher.digest();
    this.#digests.push(digest);
    out(digest);
    this.#hasher = this.#d.create();
    this.#end = Math.min(this.#pos + this.#plan.window, this.#plan.size);
  }

  /** After the last data byte: the chain digest. Throws if the data was short. */
  finish(out: (b: Uint8Array) => void): void {
    const { size } = this.#plan;
    if (this.#pos !== size) {
      throw new RangeError(
        `snapshot body ended after ${this.#pos} bytes but ${size} were declared`,
      );
    }
    out(chainDigest(this.#d, this.#digests));
  }
}

/**
 * The receiving half: fed the wire bytes, hands on each window once its
 * digest matched. `digests` are the verified windows before the resume
 * point; `partial` the bytes of the window the resume point falls in that the
 * receiver kept.
 */
export class FrameDecoder {
  readonly #d: Digest;
  readonly #plan: WindowPlan;
  readonly #digests: Uint8Array[];
  #hasher: Hasher;
  #buf: Uint8Array;
  #fill = 0;
  #start: number;
  #dbuf: Uint8Array;
  #dfill = 0;
  #phase: "data" | "digest" | "chain" | "done" = "data";

  /** Starts decoding an attempt of `plan`. */
  constructor(d: Digest, plan: WindowPlan, digests: Uint8Array[], partial: Uint8Array) {
    this.#d = d;
    this.#plan = plan;
    this.#digests = digests;
    this.#start = windowStart(plan);
    if (digests.length !== this.#start / plan.window) {
      throw new RangeError("the digests of the windows before the resume offset are missing");
    }
    if (partial.length !== plan.offset - this.#start) {
      throw new RangeError("the kept part of the resumed window has the wrong length");
    }
    this.#dbuf = new Uint8Array(d.size);
    this.#hasher = d.create();
    this.#buf = new Uint8Array(0);
    this.#open(partial);
  }

  #open(partial: Uint8Array): void {
    const len = Math.min(this.#plan.window, this.#plan.size - this.#start);
    if (len === 0) {
      this.#phase = "chain";
      return;
    }
    this.#buf = new Uint8Array(len);
    this.#buf.set(partial);
    this.#hasher.update(partial);
    this.#fill = partial.length;
    this.#phase = this.#fill === len ? "digest" : "data";
  }

  /** Where a resume would start if the transfer broke now: verified windows, then {@link pending}. */
  get position(): number {
    return this.#start + this.pending.length;
  }

  /**
   * The unverified bytes of the current window, kept when the transfer
   * breaks; a window whose bytes all came but not its digest keeps all but
   * its last byte, so that a resume point always lies inside the window it
   * names.
   */
  get pending(): Uint8Array {
    return this.#buf.subarray(0, this.#phase === "digest" ? this.#fill - 1 : this.#fill);
  }

  /** True once the chain digest matched. */
  get done(): boolean {
    return this.#phase === "done";
  }

  /**
   * Feeds wire bytes; `onWindow` gets each verified window (a buffer it may
   * keep). Throws {@link SnapshotDigestError} on a mismatch.
   */
  push(chunk: Uint8Array, onWindow: (data: Uint8Array) => void): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.#phase === "data") {
        const n = Math.min(this.#buf.length - this.#fill, chunk.length - at);
        const part = chunk.subarray(at, at + n);
        this.#buf.set(part, this.#fill);
        this.#hasher.update(part);
        this.#fill += n;
        at += n;
        if (this.#fill === this.#buf.length) this.#phase = "digest";
        continue;
      }
      if (this.#phase === "done") {
        throw new SnapshotDigestError("snapshot body continues after its final digest");
      }
      const n = Math.min(this.#dbuf.length - this.#dfill, chunk.length - at);
      this.#dbuf.set(chunk.subarray(at, at + n), this.#dfill);
      this.#dfill += n;
      at += n;
      if (this.#dfill === this.#dbuf.length) {
        this.#dfill = 0;
        if (this.#phase === "digest") this.#verifyWindow(onWindow);
        else this.#verifyChain();
      }
    }
  }

  #verifyWindow(onWindow: (data: Uint8Array) => void): void {
    const digest = this.#hasher.digest();
    const index = this.#start / this.#plan.window;
    if (!sameBytes(digest, this.#dbuf)) {
      throw new SnapshotDigestError(
        `snapshot data window ${index} (bytes ${this.#start}..${
          this.#start + this.#buf.length
        }) does not match its digest: corrupted in transit`,
      );
    }
    this.#digests.push(digest);
    const data = this.#buf;
    this.#start += data.length;
    this.#fill = 0;
    this.#hasher = this.#d.create();
    this.#open(new Uint8Array(0));
    onWindow(data);
  }

  #verifyChain(): void {
    if (!sameBytes(chainDigest(this.#d, this.#digests), this.#dbuf)) {
      throw new SnapshotDigestError("the digest of the whole snapshot data does not match");
    }
    this.#phase = "done";
  }

  /** At the end of the body: throws unless every window and the chain digest arrived. */
  finish(): void {
    if (this.#phase !== "done") {
      throw new Error(
        `snapshot body ended after ${this.position} of ${this.#plan.size} data bytes`,
      );
    }
  }
}
