/**
 * The instruments and their registry. An instrument (a metric family:
 * counter, gauge or histogram, with its name, help text and label names)
 * does not hold values: it reads them, when collected, from the counters
 * the channels increment in place. Collecting allocates; counting never
 * does.
 *
 * @module
 */

import type { Histogram } from "./histogram.ts";
import type { PeerMetrics } from "./peer_metrics.ts";
import type { PeerStats } from "../peer/stats.ts";

/** Messages waiting in each queue of a peer. */
export interface QueueDepths {
  message: number;
  msgappv2: number;
  pipeline: number;
  received: number;
  proposals: number;
}

/** What an instrument reads about one peer. */
export interface PeerView {
  /** The peer's counters. */
  readonly stats: PeerStats;
  /** The rest of its counters. */
  readonly metrics: PeerMetrics;
  /** True while the peer is active. */
  readonly active: boolean;
  /** Active-to-inactive transitions so far. */
  readonly disconnects: number;
  /** Its queue depths now. */
  queued(): QueueDepths;
}

/** What a registry reads: this member's id (hex), its peers and its remotes. */
export interface MetricsSource {
  /** This member's id as etcd prints it. */
  readonly local: string;
  /** The current peers. */
  peers(): Iterable<PeerView>;
  /** Pipeline-only members (they send, so they count in the sent counters). */
  remotes(): Iterable<{ readonly stats: PeerStats; readonly metrics: PeerMetrics }>;
}

/** How a sample is handed out: the label values (in the family's order) and the value. */
export type Emit = (labelValues: readonly string[], value: number | Histogram) => void;

/** One metric family. */
export interface Instrument {
  /** The metric name. */
  readonly name: string;
  /** Its help text. */
  readonly help: string;
  /** Its type. */
  readonly type: "counter" | "gauge" | "histogram";
  /** Its label names. */
  readonly labels: readonly string[];
  /** A histogram's upper bounds. */
  readonly buckets?: readonly number[];
  /** The unit, for OpenTelemetry ("By", "s", "1"). */
  readonly unit: string;
  /** Emits the family's current samples. */
  collect(src: MetricsSource, emit: Emit): void;
}

/** A set of instruments over one source. */
export class Registry {
  readonly instruments: readonly Instrument[];
  readonly #source: MetricsSource;

  /** A registry of `instruments` reading `source`. */
  constructor(instruments: readonly Instrument[], source: MetricsSource) {
    const names = new Set<string>();
    for (const i of instruments) {
      if (names.has(i.name)) throw new TypeError(`metric ${i.name} is registered twice`);
      names.add(i.name);
    }
    this.instruments = instruments;
    this.#source = source;
  }

  /** Calls `visit` for every sample of every instrument. */
  collect(
    visit: (i: Instrument, labelValues: readonly string[], v: number | Histogram) => void,
  ): void {
    for (const i of this.instruments) i.collect(this.#source, (l, v) => visit(i, l, v));
  }

  /** Samples grouped per instrument, in registration order. */
  families(): { instrument: Instrument; samples: [readonly string[], number | Histogram][] }[] {
    return this.instruments.map((instrument) => {
      const samples: [readonly string[], number | Histogram][] = [];
      instrument.collect(this.#source, (l, v) => samples.push([l, v]));
      return { instrument, samples };
    });
  }
}
