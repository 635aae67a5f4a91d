/**
 * The OpenTelemetry bridge: the same instruments through
 * `@opentelemetry/api`, on the `MeterProvider` given (the global one by
 * default, which is Deno's built-in exporter under `OTEL_DENO=true`, and a
 * no-op when nothing is registered). Counters and gauges are observable:
 * they are read from the same in-place counters when the SDK collects, so
 * they cost nothing between exports. Histograms record each observation
 * (a probe answer, a snapshot), never per message.
 *
 * @module
 */

import {
  type Attributes,
  type BatchObservableResult,
  type Histogram as OtelHistogram,
  type MeterProvider,
  metrics,
  type Observable,
  type ObservableCounter,
  type ObservableGauge,
} from "npm:@opentelemetry/api@1.10.0";
import type { Instrument, Registry } from "./registry.ts";
import type { HistogramRecorder } from "./peer_metrics.ts";
import { Histogram } from "./histogram.ts";

/**
 * An OpenTelemetry `MeterProvider` from `@opentelemetry/api` (any 1.x):
 * typed structurally here so that the module's public API does not carry
 * the whole OpenTelemetry type tree; the transport uses it as the API's
 * `MeterProvider`.
 *
 * @example
 * ```ts
 * import type { MeterProviderLike } from "@rafthttp/rafthttp";
 * import { metrics } from "npm:@opentelemetry/api@1.10.0";
 * const provider: MeterProviderLike = metrics.getMeterProvider();
 * console.log(typeof provider.getMeter); // "function"
 * ```
 */
export interface MeterProviderLike {
  /** Returns the meter of an instrumentation scope. */
  getMeter(name: string, version?: string, options?: object): unknown;
}

/** The instrumentation scope name of every instrument. */
export const METER_NAME = "rafthttp";

/** The instruments of one transport on one meter; `close()` detaches them. */
export class OtelBridge {
  readonly #observables = new Map<string, ObservableCounter | ObservableGauge>();
  readonly #histograms = new Map<string, { h: OtelHistogram; label: string }>();
  readonly #meter: ReturnType<MeterProvider["getMeter"]>;
  readonly #callback: (r: BatchObservableResult) => void;

  /** Creates `instruments` on `provider` (default: the global one), reading `registry`. */
  constructor(
    instruments: readonly Instrument[],
    registry: Registry,
    provider: MeterProviderLike = metrics.getMeterProvider(),
  ) {
    this.#meter = (provider as MeterProvider).getMeter(METER_NAME);
    for (const i of instruments) {
      const opts = { description: i.help, unit: i.unit };
      if (i.type === "histogram") {
        const h = this.#meter.createHistogram(i.name, {
          ...opts,
          advice: { explicitBucketBoundaries: [...(i.buckets ?? [])] },
        });
        this.#histograms.set(i.name, { h, label: i.labels[0] });
      } else if (i.type === "counter") {
        this.#observables.set(i.name, this.#meter.createObservableCounter(i.name, opts));
      } else {
        this.#observables.set(i.name, this.#meter.createObservableGauge(i.name, opts));
      }
    }
    this.#callback = (result) => {
      registry.collect((i, values, v) => {
        if (v instanceof Histogram) return;
        const o = this.#observables.get(i.name);
        if (o !== undefined) result.observe(o, v, attributes(i.labels, values));
      });
    };
    this.#meter.addBatchObservableCallback(this.#callback, [
      ...this.#observables.values(),
    ] as Observable[]);
  }

  /** Gives each peer histogram its OpenTelemetry twin (attributes built once per peer). */
  readonly recorder: HistogramRecorder = (name, peer) => {
    const entry = this.#histograms.get(name);
    if (entry === undefined) return undefined;
    const attrs: Attributes = { [entry.label]: peer };
    return (v) => entry.h.record(v, attrs);
  };

  /** Stops reporting the observable instruments. */
  close(): void {
    this.#meter.removeBatchObservableCallback(this.#callback, [
      ...this.#observables.values(),
    ] as Observable[]);
  }
}

function attributes(names: readonly string[], values: readonly string[]): Attributes {
  const a: Attributes = {};
  names.forEach((n, i) => a[n] = values[i]);
  return a;
}
