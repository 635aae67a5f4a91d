/**
 * The sending side of the extension: asks the receiver where it stands
 * (`resume.ts`), sends the framed body from there, and retries a broken send
 * with backoff, from the receiver's offset, up to `retries` times. Against
 * an etcd member (the query gets 404) the body is etcd's own; a send is
 * retried only when the data can be read again (`reopen`).
 *
 * @module
 */

import type {
  ExtensionContext,
  SnapshotBody,
  SnapshotSend,
  SnapshotSendOutcome,
} from "../../extension/extension.ts";
import type { SnapshotResumeConfig } from "./resume_options.ts";
import { type Digest, loadDigests } from "./digest.ts";
import { FrameEncoder, windowStart, type WirePart } from "./framing.ts";
import { extensionHeaders, resumeQuery, type TransferParams } from "./resume.ts";
import { PeerRequestError, StoppedError } from "../../errors.ts";
import { isCritical } from "../../http/responses.ts";
import { errorMessage, toError } from "../../util/error_message.ts";

/** The framed body of `framing.ts`, reading the data from the window `offset` falls in. */
export function framedSource(
  stream: ReadableStream<Uint8Array>,
  d: Digest,
  plan: { size: number; window: number; offset: number },
  digests: Uint8Array[],
  onData: (n: number) => void,
): SnapshotBody {
  const reader = stream.getReader();
  const enc = new FrameEncoder(d, plan, digests);
  const out: WirePart[] = [];
  const push = (b: WirePart) => out.push(b);
  let head = 0;
  let ended = false;
  let counted = plan.offset;
  return {
    async next() {
      while (head === out.length) {
        out.length = head = 0;
        if (ended) return undefined;
        const { done, value } = await reader.read();
        try {
          if (done) {
            enc.finish(push);
            ended = true;
          } else enc.push(value, push);
        } catch (e) {
          throw new PeerRequestError(errorMessage(e));
        }
        if (enc.position > counted) {
          onData(enc.position - counted);
          counted = enc.position;
        }
      }
      return await out[head++];
    },
    cancel: (reason) => reader.cancel(reason).catch(() => {}),
  };
}

/**
 * Asks `url` where it stands with the transfer: its offset, undefined for
 * "speak etcd's protocol" (404, 405 and any other refusal of the query), an
 * Error when the query itself failed (no answer, 5xx, 409: worth a retry).
 */
export async function queryOffset(
  ctx: Pick<ExtensionContext, "dialer" | "headers">,
  url: string,
  params: TransferParams,
  signal: AbortSignal,
  limit: number,
): Promise<{ offset: number; digest: string } | undefined | Error> {
  const target = `${url}${resumeQuery(params)}`;
  const abort = new AbortController();
  const onStop = () => abort.abort(new StoppedError());
  signal.addEventListener("abort", onStop, { once: true });
  if (signal.aborted) onStop();
  const timer = setTimeout(
    () =>
      abort.abort(new PeerRequestError(`no answer to the snapshot resume query in ${limit} ms`)),
    limit,
  );
  try {
    const res = await ctx.dialer.dial({
      method: "GET",
      url: target,
      headers: await ctx.headers("GET", target),
      signal: abort.signal,
    });
    const text = await res.body.text(4096);
    if (res.status >= 500 || res.status === 409) {
      return new PeerRequestError(`snapshot resume query: ${res.status} ${text}`, res.status);
    }
    if (res.status !== 200) return undefined;
    const answer = JSON.parse(text) as { offset?: unknown; digest?: unknown };
    const offset = answer.offset as number;
    if (
      typeof answer.digest !== "string" || !params.digest.split(",").includes(answer.digest) ||
      !Number.isSafeInteger(offset) || offset < 0 || offset > params.size
    ) {
      return new PeerRequestError(`snapshot resume query: unexpected answer ${text.slice(0, 200)}`);
    }
    return { offset, digest: answer.digest };
  } catch (e) {
    return toError(abort.signal.aborted ? abort.signal.reason : e);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onStop);
  }
}

/** Whether a failed attempt is worth another (a break, not a refusal). */
export function retryable(e: Error): boolean {
  if (e instanceof StoppedError || isCritical(e)) return false;
  if (e instanceof PeerRequestError && e.status !== undefined) {
    return e.status >= 500 || e.status === 409;
  }
  return true;
}

/** Waits `ms`; false if `signal` aborted first. The timer is released either way. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      resolve(ok);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Sends the snapshot in as many attempts as it takes (within the limit);
 * returns the last error (none on success), the URL of the last attempt
 * and the bytes put on the wire in all.
 */
export async function sendWithRetries(
  send: SnapshotSend,
  ctx: Pick<ExtensionContext, "dialer" | "headers">,
  opts: SnapshotResumeConfig,
): Promise<SnapshotSendOutcome> {
  const { snapshot: snap, signal, progress } = send;
  const offered = await loadDigests();
  const meta = snap.message.snapshot?.metadata;
  const query: TransferParams | undefined = offered.length === 0 ? undefined : {
    transfer: crypto.randomUUID(),
    index: meta?.index ?? 0n,
    term: meta?.term ?? 0n,
    size: snap.totalSize,
    window: opts.windowSize,
    digest: offered.map((d) => d.name).join(","),
  };
  const digests: Uint8Array[] = [];
  let digestsOf: Digest | undefined; // what `digests` were made with
  let bodyUsed = false;
  let bytes = 0;
  for (let attempt = 0;; attempt++) {
    const url = send.url();
    let error: Error | undefined;
    const answer = query &&
      await queryOffset(ctx, url, query, signal, opts.probeTimeoutMs);
    if (answer instanceof Error) error = answer;
    else {
      // The extension, if the peer answered: the digest it chose, where it stands.
      const d = answer && offered.find((x) => x.name === answer.digest);
      let offset = d === undefined ? 0 : answer!.offset;
      if (d !== digestsOf) {
        digests.length = 0;
        digestsOf = d;
      }
      if (digests.length < Math.floor(offset / opts.windowSize)) offset = 0;
      const plan = { size: snap.totalSize, window: opts.windowSize, offset };
      const from = windowStart(plan);
      const stream = !bodyUsed && from === 0 ? snap.body : snap.reopen?.(from);
      if (stream === undefined) {
        error = new PeerRequestError("the snapshot data cannot be read again (no reopen)");
      } else {
        bodyUsed = true;
        progress.attempt(offset);
        const src = d === undefined
          ? send.plainBody(stream)
          : framedSource(stream, d, plan, digests, (n) => progress.add(n));
        const headers = d === undefined || query === undefined
          ? {}
          // The last attempt says so: the receiver then keeps nothing of it.
          : extensionHeaders(
            { ...query, digest: d.name },
            offset,
            snap.reopen === undefined || attempt >= opts.retries,
          );
        const r = await send.post(url, src, headers);
        bytes += r.bytes;
        error = r.error;
        progress.flush();
      }
    }
    if (error === undefined) return { url, bytes };
    const canReread = !bodyUsed || snap.reopen !== undefined;
    if (signal.aborted) return { error: new StoppedError(), url, bytes };
    if (!retryable(error) || attempt >= opts.retries || !canReread) return { error, url, bytes };
    const delay = Math.min(opts.retryMaxBackoffMs, opts.retryBackoffMs * 2 ** attempt);
    send.retrying(attempt + 1, delay, error);
    if (!(await sleep(delay, signal))) return { error: new StoppedError(), url, bytes };
  }
}
