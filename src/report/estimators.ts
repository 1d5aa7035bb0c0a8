import { wilson, Z95, type Interval } from './wilson.js';

/**
 * Prediction-powered estimates of a rate (Angelopoulos, Bates, Fannjiang, Jordan, Zrnic, Science
 * 382, 2023; the power-tuned PPI++ of Angelopoulos, Duchi, Zrnic, 2023). The detector's score f on
 * every check gives a precise but possibly biased mean; a small uniformly random labelled sample
 * measures that bias (the mean of y - f) and removes it. The estimate is unbiased whatever the
 * detector's errors; the better the detector, the smaller var(y - f), the tighter the interval.
 * Pure functions of counts, scores and labels: the report, compare and the console share them.
 */

/** Count, mean and (sample, n - 1) variance of a set of scores: all the estimator needs of them. */
export interface Moments {
  n: number;
  mean: number;
  variance: number;
}

/** One labelled check: the detector's score f (0..1) and the label y (1 = the condition holds). */
export interface LabelledScore {
  score: number;
  label: boolean | number;
}

export interface RateEstimate {
  method: 'ppi' | 'ppi++';
  /** Labels used. */
  labels: number;
  /** The estimate, clipped to [0, 1]. */
  rate: number;
  /** The estimate before clipping (it can stray outside [0, 1] by its noise): differences use it. */
  unclipped: number;
  ci95: Interval;
  /** The estimate's standard error (before clipping). */
  se: number;
  /** PPI++'s weight on the scores (1 = plain PPI, 0 = the labels alone). */
  lambda: number;
  /** Variance terms: of the scores' mean (per check, before / N) and of the labelled term (before / n). */
  scoreVariance: number;
  residualVariance: number;
  /** Checks whose scores entered. */
  checks: number;
}

export interface RateDifference {
  /** a.rate - b.rate, from the unclipped estimates, clipped to [-1, 1]. */
  difference: number;
  ci95: Interval;
  se: number;
}

export const clip01 = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : x);
const clip = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

export function moments(xs: readonly number[]): Moments {
  const n = xs.length;
  if (n === 0) return { n: 0, mean: 0, variance: 0 };
  let sum = 0;
  for (const x of xs) sum += x;
  const mean = sum / n;
  let ss = 0;
  for (const x of xs) ss += (x - mean) * (x - mean);
  return { n, mean, variance: n > 1 ? ss / (n - 1) : 0 };
}

/** Moments from running sums (count, sum, sum of squares), as the Redis aggregates keep them. */
export function momentsFromSums(n: number, sum: number, sumSquares: number): Moments {
  if (!(n > 0)) return { n: 0, mean: 0, variance: 0 };
  const mean = sum / n;
  const variance = n > 1 ? Math.max(0, (sumSquares - n * mean * mean) / (n - 1)) : 0;
  return { n, mean, variance };
}

function toY(l: boolean | number): number {
  return typeof l === 'boolean' ? (l ? 1 : 0) : l;
}

/**
 * A labelled sample whose residuals are all equal (every label agrees with a detector scoring 0)
 * has a sample variance of 0, and an interval of width 0 would claim certainty that n labels cannot
 * give. The residual variance is taken as at least that of one event in n + 1 trials (about 1/n),
 * which gives a half-width near 2/n: the same order as Wilson's and the rule of three at 0 events.
 */
function residualFloor(n: number): number {
  const p = 1 / (n + 1);
  return p * (1 - p);
}

/**
 * The mean of y over the population, from every check's scores (`all`, labelled checks included:
 * their scores are scores of checks like any other) and the labelled sample.
 * `tuned` (PPI++) weighs the scores by lambda = cov(y, f) / ((1 + n/N) var(f)), clipped to [0, 1]:
 * a useless score gets a weight near 0 and the estimate falls back on the labels alone, where plain
 * PPI (lambda = 1) would pay the score's noise. null with fewer than 2 labels or no checks.
 */
export function ppiMean(labelled: readonly LabelledScore[], all: Moments, options: { tuned?: boolean; z?: number } = {}): RateEstimate | null {
  const n = labelled.length;
  const N = all.n;
  if (n < 2 || !(N > 0)) return null;
  const z = options.z ?? Z95;
  const f = labelled.map((p) => clip01(p.score));
  const y = labelled.map((p) => toY(p.label));
  let lambda = 1;
  if (options.tuned) {
    const fm = moments(f);
    const ym = moments(y);
    let cov = 0;
    for (let i = 0; i < n; i++) cov += (f[i]! - fm.mean) * (y[i]! - ym.mean);
    cov /= n - 1;
    // var(f) pooled over every check: the best estimate of it there is.
    const varF = all.variance;
    lambda = varF > 0 ? clip(cov / ((1 + n / N) * varF), 0, 1) : 0;
  }
  const residuals = moments(y.map((yi, i) => yi - lambda * f[i]!));
  const residualVariance = Math.max(residuals.variance, residualFloor(n));
  const theta = lambda * all.mean + residuals.mean;
  const scoreVariance = lambda * lambda * all.variance;
  const se = Math.sqrt(scoreVariance / N + residualVariance / n);
  return {
    method: options.tuned ? 'ppi++' : 'ppi',
    labels: n,
    rate: clip01(theta),
    unclipped: theta,
    ci95: { lo: clip01(theta - z * se), hi: clip01(theta + z * se) },
    se,
    lambda,
    scoreVariance: all.variance,
    residualVariance,
    checks: N,
  };
}

/** PPI++: `ppiMean` with lambda tuned. */
export function ppiPlusPlus(labelled: readonly LabelledScore[], all: Moments, z?: number): RateEstimate | null {
  return ppiMean(labelled, all, { tuned: true, z });
}

/**
 * The difference of two models' rates, estimated from independent samples: variances add.
 * The interval is that of the unclipped estimates, clipped to [-1, 1].
 */
export function rateDifference(a: RateEstimate, b: RateEstimate, z = Z95): RateDifference {
  const d = a.unclipped - b.unclipped;
  const se = Math.sqrt(a.se * a.se + b.se * b.se);
  return { difference: clip(d, -1, 1), se, ci95: { lo: clip(d - z * se, -1, 1), hi: clip(d + z * se, -1, 1) } };
}

/**
 * How much one more random label would narrow the interval's half-width, the variances held as
 * estimated now. With fewer than 2 labels there is no estimate of the residual variance yet: the
 * largest a 0/1 label minus a 0..1 score can have for a rate (0.25) stands in for it.
 */
export function narrowingFromOneMoreLabel(labels: number, checks: Moments, estimate?: RateEstimate | null, z = Z95): number | null {
  const N = checks.n;
  if (!(N > 0)) return null;
  const n = Math.max(labels, 0);
  const lambda = estimate?.lambda ?? 1;
  const a = (lambda * lambda * (estimate?.scoreVariance ?? checks.variance)) / N;
  const b = estimate ? estimate.residualVariance : 0.25;
  const half = (k: number) => (k > 0 ? z * Math.sqrt(a + b / k) : 1);
  return Math.max(0, Math.min(1, half(n)) - Math.min(1, half(n + 1)));
}

/** Half-width of the interval: what "± x" on a page says. */
export const halfWidth = (ci: Interval): number => (ci.hi - ci.lo) / 2;

export interface CalibrationBin {
  /** The bin's range of the x value (score or certainty). */
  lo: number;
  hi: number;
  /** Labelled points in the bin. */
  n: number;
  /** Mean x of those points. */
  meanX: number;
  /** Share of them labelled positive, with its Wilson 95% interval. */
  rate: number;
  ci95: Interval;
}

/** Points (x in 0..1, y a label) grouped in `bins` equal-width bins of x; empty bins are left out. */
export function calibrationBins(points: ReadonlyArray<{ x: number; label: boolean | number }>, bins = 10): CalibrationBin[] {
  const k = Math.max(1, Math.floor(bins));
  const acc = Array.from({ length: k }, () => ({ n: 0, sumX: 0, pos: 0 }));
  for (const p of points) {
    if (!Number.isFinite(p.x)) continue;
    const x = clip01(p.x);
    const i = Math.min(k - 1, Math.floor(x * k));
    const a = acc[i]!;
    a.n++;
    a.sumX += x;
    a.pos += toY(p.label);
  }
  const out: CalibrationBin[] = [];
  acc.forEach((a, i) => {
    if (a.n === 0) return;
    const rate = a.pos / a.n;
    out.push({ lo: i / k, hi: (i + 1) / k, n: a.n, meanX: a.sumX / a.n, rate, ci95: wilson(a.pos, a.n) ?? { lo: 0, hi: 1 } });
  });
  return out;
}

/** The detector's reliability diagram: score bins against the labelled hallucination rate. */
export function reliabilityDiagram(labelled: readonly LabelledScore[], bins = 10): CalibrationBin[] {
  return calibrationBins(labelled.map((p) => ({ x: p.score, label: p.label })), bins);
}

/**
 * The model's own calibration: how sure its wording sounded (claim certainty, 0 hedged .. 1
 * assertive) against how often it was wrong (labelled hallucinated).
 */
export function certaintyCurve(points: ReadonlyArray<{ certainty: number; hallucinated: boolean | number }>, bins = 5): CalibrationBin[] {
  return calibrationBins(points.map((p) => ({ x: p.certainty, label: p.hallucinated })), bins);
}

/**
 * Expected calibration error: the mean |rate - mean x| over bins, weighted by their counts.
 * 0 = a perfectly calibrated score; null with no points.
 */
export function expectedCalibrationError(bins: readonly CalibrationBin[]): number | null {
  const total = bins.reduce((s, b) => s + b.n, 0);
  if (total === 0) return null;
  return bins.reduce((s, b) => s + (b.n / total) * Math.abs(b.rate - b.meanX), 0);
}
