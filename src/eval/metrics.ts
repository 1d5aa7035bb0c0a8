/**
 * Scoring maths for `veracity eval`: pure functions over labels and scores, no I/O.
 *
 * A figure that cannot be measured on the given rows (precision with nothing predicted positive,
 * AUROC without both classes, …) is `null`, never 0 or NaN: a detector that was never tested on a
 * case must not read as one that failed it, and `null` survives JSON.
 */

export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

/** Counts of a binary confusion matrix; `predicted[i]` is compared with `actual[i]`. */
export function confusion(predicted: readonly boolean[], actual: readonly boolean[]): Confusion {
  if (predicted.length !== actual.length) {
    throw new RangeError(`confusion: ${predicted.length} predictions for ${actual.length} labels`);
  }
  const c: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < predicted.length; i++) {
    if (predicted[i]) {
      if (actual[i]) c.tp++;
      else c.fp++;
    } else if (actual[i]) c.fn++;
    else c.tn++;
  }
  return c;
}

function ratio(num: number, den: number): number | null {
  return den === 0 ? null : num / den;
}

/** tp / (tp + fp); null when nothing was predicted positive. */
export function precision(c: Confusion): number | null {
  return ratio(c.tp, c.tp + c.fp);
}

/** tp / (tp + fn), the true-positive rate; null when there are no positives. */
export function recall(c: Confusion): number | null {
  return ratio(c.tp, c.tp + c.fn);
}

/** tn / (tn + fp), the true-negative rate; null when there are no negatives. */
export function specificity(c: Confusion): number | null {
  return ratio(c.tn, c.tn + c.fp);
}

/** 2tp / (2tp + fp + fn), the harmonic mean of precision and recall; null when tp+fp+fn = 0. */
export function f1(c: Confusion): number | null {
  return ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn);
}

export function accuracy(c: Confusion): number | null {
  return ratio(c.tp + c.tn, c.tp + c.tn + c.fp + c.fn);
}

/** Mean of recall and specificity; null unless both classes are present. */
export function balancedAccuracy(c: Confusion): number | null {
  const tpr = recall(c);
  const tnr = specificity(c);
  return tpr === null || tnr === null ? null : (tpr + tnr) / 2;
}

/**
 * Area under the ROC curve as the Mann–Whitney U statistic: the probability that a random positive
 * scores above a random negative, a tie counting one half (midranks). Null unless both classes are present.
 */
export function auroc(scores: readonly number[], labels: readonly boolean[]): number | null {
  if (scores.length !== labels.length) {
    throw new RangeError(`auroc: ${scores.length} scores for ${labels.length} labels`);
  }
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let positiveRankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    // Ranks i+1 .. j+1 are tied: each gets their mean.
    const midrank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) {
      if (labels[order[k]!]) {
        positives++;
        positiveRankSum += midrank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return null;
  const u = positiveRankSum - (positives * (positives + 1)) / 2;
  return u / (positives * negatives);
}

export interface CalibrationBin {
  /** Score range [lo, hi); the last bin also holds hi = 1. */
  lo: number;
  hi: number;
  count: number;
  /** Mean predicted score in the bin; null when empty. */
  meanScore: number | null;
  /** Share of positives in the bin; null when empty. */
  observedRate: number | null;
}

/** Equal-width bins over [0, 1] of predicted score, each with its mean score and observed positive rate. */
export function calibrationBins(scores: readonly number[], labels: readonly boolean[], bins = 10): CalibrationBin[] {
  if (scores.length !== labels.length) {
    throw new RangeError(`calibrationBins: ${scores.length} scores for ${labels.length} labels`);
  }
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`calibrationBins: bins must be a positive integer, got ${bins}`);
  const count = new Array<number>(bins).fill(0);
  const scoreSum = new Array<number>(bins).fill(0);
  const positives = new Array<number>(bins).fill(0);
  for (let i = 0; i < scores.length; i++) {
    const s = Math.min(1, Math.max(0, scores[i]!));
    const b = Math.min(bins - 1, Math.floor(s * bins));
    count[b]!++;
    scoreSum[b]! += s;
    if (labels[i]) positives[b]!++;
  }
  return count.map((c, b) => ({
    lo: b / bins,
    hi: (b + 1) / bins,
    count: c,
    meanScore: c === 0 ? null : scoreSum[b]! / c,
    observedRate: c === 0 ? null : positives[b]! / c,
  }));
}

/** Expected calibration error: the count-weighted mean gap between mean score and observed rate; null with no rows. */
export function ece(bins: readonly CalibrationBin[]): number | null {
  let total = 0;
  let weighted = 0;
  for (const bin of bins) {
    if (bin.count === 0 || bin.meanScore === null || bin.observedRate === null) continue;
    total += bin.count;
    weighted += bin.count * Math.abs(bin.meanScore - bin.observedRate);
  }
  return total === 0 ? null : weighted / total;
}

/** Confusion matrix over named classes: `matrix[actual][predicted]`. */
export function multiclassConfusion<K extends string>(
  classes: readonly K[],
  predicted: readonly K[],
  actual: readonly K[],
): Record<K, Record<K, number>> {
  if (predicted.length !== actual.length) {
    throw new RangeError(`multiclassConfusion: ${predicted.length} predictions for ${actual.length} labels`);
  }
  const matrix = Object.fromEntries(
    classes.map((a) => [a, Object.fromEntries(classes.map((p) => [p, 0]))]),
  ) as Record<K, Record<K, number>>;
  for (let i = 0; i < actual.length; i++) {
    const row = matrix[actual[i]!];
    if (row === undefined || row[predicted[i]!] === undefined) {
      throw new RangeError(`multiclassConfusion: unknown class ${JSON.stringify(actual[i])} or ${JSON.stringify(predicted[i])}`);
    }
    row[predicted[i]!]++;
  }
  return matrix;
}

/** Share of the matrix on its diagonal; null when empty. */
export function multiclassAccuracy<K extends string>(matrix: Record<K, Record<K, number>>): number | null {
  let total = 0;
  let right = 0;
  for (const a of Object.keys(matrix) as K[]) {
    for (const p of Object.keys(matrix[a]) as K[]) {
      total += matrix[a][p];
      if (a === p) right += matrix[a][p];
    }
  }
  return ratio(right, total);
}

export interface ThresholdPoint {
  threshold: number;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  balancedAccuracy: number | null;
}

/** The figures a detector would reach if it flagged at `score >= threshold`, for each threshold given. */
export function thresholdSweep(
  scores: readonly number[],
  labels: readonly boolean[],
  thresholds: readonly number[] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
): ThresholdPoint[] {
  return thresholds.map((threshold) => {
    const c = confusion(
      scores.map((s) => s >= threshold),
      labels,
    );
    return { threshold, precision: precision(c), recall: recall(c), f1: f1(c), balancedAccuracy: balancedAccuracy(c) };
  });
}

/**
 * Ranks of `values`, 1-based, tied values sharing the mean of the ranks they span (midranks),
 * as Spearman's coefficient with ties needs: [10, 20, 20, 30] → [1, 2.5, 2.5, 4].
 */
export function midranks(values: readonly number[]): number[] {
  const order = Array.from({ length: values.length }, (_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const ranks = new Array<number>(values.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && values[order[j + 1]!] === values[order[i]!]) j++;
    for (let k = i; k <= j; k++) ranks[order[k]!] = (i + j + 2) / 2;
    i = j + 1;
  }
  return ranks;
}

/**
 * Spearman's rank correlation: Pearson's correlation of the midranks, which stays exact with ties
 * (the 1 − 6Σd²/(n(n²−1)) shortcut does not). Null with fewer than two pairs or when either side
 * is constant, since then no ordering can agree or disagree.
 */
export function spearman(x: readonly number[], y: readonly number[]): number | null {
  if (x.length !== y.length) throw new RangeError(`spearman: ${x.length} values for ${y.length}`);
  const n = x.length;
  if (n < 2) return null;
  const rx = midranks(x);
  const ry = midranks(y);
  const mean = (n + 1) / 2;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = rx[i]! - mean;
    const dy = ry[i]! - mean;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return null;
  return sxy / Math.sqrt(sxx * syy);
}

/** Mean of |x[i] − y[i]|; null when empty. */
export function meanAbsoluteError(x: readonly number[], y: readonly number[]): number | null {
  if (x.length !== y.length) throw new RangeError(`meanAbsoluteError: ${x.length} values for ${y.length}`);
  if (x.length === 0) return null;
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += Math.abs(x[i]! - y[i]!);
  return sum / x.length;
}
