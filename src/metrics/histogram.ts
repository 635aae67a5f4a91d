/**
 * A Prometheus histogram kept in place: fixed upper bounds, one count per
 * bucket, a sum and a count. Observing allocates nothing.
 *
 * @module
 */

/** `count` upper bounds: `start`, `start * factor`, ... (Prometheus' ExponentialBuckets). */
export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  if (!(start > 0) || !(factor > 1) || !Number.isInteger(count) || count < 1) {
    throw new RangeError(
      `exponential buckets need start > 0, factor > 1 and a count >= 1 (got ${start}, ${factor}, ${count})`,
    );
  }
  const bounds: number[] = [];
  let b = start;
  for (let i = 0; i < count; i++, b *= factor) bounds.push(b);
  return bounds;
}

/** etcd's snapshot duration buckets: 0.1 s × 2^0..9 (0.1 s to 51.2 s). */
export const SNAPSHOT_SECONDS_BUCKETS: readonly number[] = exponentialBuckets(0.1, 2, 10);

/** etcd's round-trip time buckets: 0.0001 s × 2^0..15 (0.1 ms to 3.2768 s). */
export const RTT_SECONDS_BUCKETS: readonly number[] = exponentialBuckets(0.0001, 2, 16);

/** One histogram series. */
export class Histogram {
  /** The upper bounds, ascending; +Inf is implied. */
  readonly bounds: readonly number[];
  /** Observations per bucket (not cumulative); the last slot is above every bound. */
  readonly counts: Float64Array;
  /** Sum of the observed values. */
  sum = 0;
  /** Number of observations. */
  count = 0;
  #record: ((v: number) => void) | undefined;

  /** A histogram over `bounds`; `record` also gets each value (the OpenTelemetry bridge). */
  constructor(bounds: readonly number[], record?: (v: number) => void) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
    this.#record = record;
  }

  /** Counts one observation. */
  observe(v: number): void {
    let i = 0;
    while (i < this.bounds.length && v > this.bounds[i]) i++;
    this.counts[i]++;
    this.sum += v;
    this.count++;
    this.#record?.(v);
  }

  /** Cumulative counts per bound, then the total (the `_bucket` series, `le` ascending). */
  cumulative(): number[] {
    const out: number[] = [];
    let acc = 0;
    for (const c of this.counts) out.push(acc += c);
    return out;
  }
}
