// Percentile summaries shared by the load generator and the report. Latencies are recorded in
// microseconds in HDR histograms (3 significant digits) and reported in milliseconds.
import hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';

export type { Histogram };

/** Microseconds; one hour is far above anything a bench cell can see. */
export function newHistogram(): Histogram {
  return hdr.build({
    bitBucketSize: 64,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
}

export interface Summary {
  count: number;
  /** All in milliseconds. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

export function summarise(h: Histogram): Summary {
  if (h.totalCount === 0) return { count: 0, p50: NaN, p90: NaN, p99: NaN, max: NaN, mean: NaN };
  return {
    count: h.totalCount,
    p50: round3(h.getValueAtPercentile(50) / 1000),
    p90: round3(h.getValueAtPercentile(90) / 1000),
    p99: round3(h.getValueAtPercentile(99) / 1000),
    max: round3(h.maxValue / 1000),
    mean: round3(h.mean / 1000),
  };
}

/**
 * Nearest-rank percentile of raw samples (used where samples are few, e.g. detection lags read
 * back from verdicts). `q` in 0..100. Returns NaN for no samples.
 */
export function percentile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return NaN;
  if (q < 0 || q > 100) throw new RangeError(`percentile q must be in 0..100, got ${q}`);
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((q / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

/**
 * Percentile from a Prometheus cumulative histogram (`le` upper bounds, cumulative counts), with
 * linear interpolation inside the bucket as `histogram_quantile` does. `q` in 0..1.
 */
export function bucketQuantile(buckets: readonly { le: number; count: number }[], q: number): number {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted.at(-1)?.count ?? 0;
  if (total === 0) return NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of sorted) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return prevLe;
      const inBucket = b.count - prevCount;
      return inBucket === 0 ? b.le : prevLe + ((b.le - prevLe) * (rank - prevCount)) / inBucket;
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

/** a − b, NaN when either side is missing. */
export function diff(a: number | undefined, b: number | undefined): number {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b)) return NaN;
  return round3(a - b);
}

/** a / b, NaN when either side is missing or b is 0. */
export function ratio(a: number | undefined, b: number | undefined): number {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return NaN;
  return Math.round((a / b) * 1000) / 1000;
}
