/**
 * Measures the round-trip time to a peer with `GET /raft/probing`, as
 * etcd's prober, and keeps a smoothed value (srtt = 7/8 srtt + 1/8 rtt).
 * Probing only measures: it never changes a peer's active state.
 *
 * @module
 */

import type { Config } from "../options.ts";
import type { UrlPicker } from "../peer/url_picker.ts";
import { type LocalIdentity, requestHeaders } from "./headers.ts";
import type { Receiver } from "./receiver.ts";
import type { PeerMetrics } from "../metrics/peer_metrics.ts";

/** The body `/raft/probing` answers with: `{"OK":true,"Now":"<RFC 3339>"}` and a newline. */
export function probingBody(now = new Date()): string {
  return JSON.stringify({ OK: true, Now: now.toISOString() }) + "\n";
}

/** The receiver of `GET /raft/probing` (any method, as etcd's probing handler). */
export const probingReceiver: Receiver = () =>
  new Response(probingBody(), {
    status: 200,
    headers: { "Content-Type": "text/plain; charset=utf-8" },
  });

/** The most of a probing answer read (etcd's is about 50 bytes). */
const PROBE_BODY_LIMIT = 4096;

/** The options the prober reads. */
export type ProberConfig = Pick<Config, "probeIntervalMs" | "dialer"> & LocalIdentity;

/** Periodic RTT measurement of one peer. */
export class Prober {
  #cfg: ProberConfig;
  #picker: UrlPicker;
  #metrics: PeerMetrics;
  #timer: ReturnType<typeof setInterval> | undefined;
  #abort = new AbortController();
  #inFlight: Promise<void> | undefined;
  /** Smoothed round-trip time in ms; undefined until a probe succeeds and after one fails. */
  srttMs: number | undefined;
  /** Probes that failed in a row. */
  failures = 0;

  /** A prober of the peer behind `picker`; each probe is counted in `metrics`. */
  constructor(cfg: ProberConfig, picker: UrlPicker, metrics: PeerMetrics) {
    this.#cfg = cfg;
    this.#picker = picker;
    this.#metrics = metrics;
  }

  /** Starts probing every `probeIntervalMs` (0 disables it). */
  start(): void {
    if (this.#cfg.probeIntervalMs === 0 || this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      this.#inFlight ??= this.#probe().finally(() => this.#inFlight = undefined);
    }, this.#cfg.probeIntervalMs);
  }

  async #probe(): Promise<void> {
    const start = performance.now();
    this.#metrics.probesSent++;
    try {
      const target = `${this.#picker.pick()}/raft/probing`;
      const res = await this.#cfg.dialer.dial({
        method: "GET",
        url: target,
        headers: this.#cfg.auth === undefined
          ? undefined
          : await requestHeaders(this.#cfg, "GET", target),
        signal: AbortSignal.any([
          this.#abort.signal,
          AbortSignal.timeout(this.#cfg.probeIntervalMs),
        ]),
      });
      const body = JSON.parse(await res.body.text(PROBE_BODY_LIMIT)) as { OK?: boolean };
      if (res.status !== 200 || body.OK !== true) throw new Error(`status ${res.status}`);
      const rtt = performance.now() - start;
      this.srttMs = this.srttMs === undefined ? rtt : 0.875 * this.srttMs + 0.125 * rtt;
      this.failures = 0;
      this.#metrics.rttSeconds.observe(rtt / 1000);
    } catch {
      this.failures++;
      this.#metrics.probesFailed++;
      this.srttMs = undefined; // a stale figure would hide that the peer does not answer
    }
  }

  /** Stops probing and waits for a probe in flight. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#abort.abort();
    await this.#inFlight;
  }
}
