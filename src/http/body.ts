/**
 * Reading request and response bodies with a bound.
 *
 * @module
 */

import { RaftHttpError } from "../errors.ts";
import type { BodySource } from "./body_source.ts";

/** A body was larger than allowed. */
export class BodyTooLargeError extends RaftHttpError {}

/**
 * Reads a whole body into one buffer, failing as soon as it exceeds `limit`
 * bytes (checked against Content-Length first, then while reading); the
 * rest of a body that is too large is cancelled.
 */
export async function readLimited(
  body: BodySource | null,
  contentLength: string | null,
  limit: number,
): Promise<Uint8Array> {
  if (body === null) return new Uint8Array(0);
  const declared = contentLength === null ? NaN : Number(contentLength);
  if (declared > limit) {
    await body.cancel().catch(() => {});
    throw new BodyTooLargeError(`body of ${declared} bytes exceeds the limit of ${limit} bytes`);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await body.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      await body.cancel().catch(() => {});
      throw new BodyTooLargeError(`body exceeds the limit of ${limit} bytes`);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Reads at most `limit` bytes of a response as text, discarding the rest. */
export async function readTextLimited(res: Response, limit: number): Promise<string> {
  if (res.body === null) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.length;
    }
  } catch {
    // a broken body still has whatever text arrived
  } finally {
    await reader.cancel().catch(() => {});
  }
  const all = new Uint8Array(Math.min(total, limit));
  let at = 0;
  for (const c of chunks) {
    const part = c.subarray(0, all.length - at);
    all.set(part, at);
    at += part.length;
  }
  return new TextDecoder().decode(all);
}
