/**
 * Leave-one-group-out validation shared by the training scripts: hold out a whole group (a source
 * dataset, an answering model, a FaithBench batch), fit on the rest, score the held-out group, and
 * pool the held-out scores. Figures from these splits predict unseen data; in-sample ones do not.
 */
import { auroc, balancedAccuracy, f1 } from './metrics.js';

/**
 * Out-of-group scores: for each group value, fit on every item outside it and score the items in
 * it. Items whose group is undefined are never held out (they always train) and score NaN.
 */
export function leaveOneGroupOut<T, M>(
  items: T[],
  groupOf: (t: T) => string | undefined,
  fit: (train: T[]) => M,
  score: (m: M, t: T) => number,
): number[] {
  const out = new Array<number>(items.length).fill(Number.NaN);
  const groups = [...new Set(items.map(groupOf).filter((g): g is string => g !== undefined))].sort();
  for (const g of groups) {
    const m = fit(items.filter((t) => groupOf(t) !== g));
    items.forEach((t, i) => {
      if (groupOf(t) === g) out[i] = score(m, t);
    });
  }
  return out;
}

/** Expected calibration error over `bins` equal-width score bins. */
export function expectedCalibrationError(labels: boolean[], scores: number[], bins = 10): number {
  const n = new Array<number>(bins).fill(0);
  const s = new Array<number>(bins).fill(0);
  const p = new Array<number>(bins).fill(0);
  scores.forEach((x, i) => {
    const b = Math.min(bins - 1, Math.max(0, Math.floor(x * bins)));
    n[b]!++;
    s[b]! += x;
    if (labels[i]) p[b]!++;
  });
  let e = 0;
  for (let b = 0; b < bins; b++) if (n[b]! > 0) e += Math.abs(s[b]! - p[b]!);
  return scores.length > 0 ? e / scores.length : 0;
}

export interface BinaryReport {
  n: number;
  balancedAccuracy: number;
  f1: number;
  auroc: number;
  /** Mean score: the estimated rate when the score is calibrated. */
  meanScore: number;
  /** Observed share of positives. */
  rate: number;
  ece: number;
}

export function binaryReport(labels: boolean[], scores: number[], threshold: number): BinaryReport {
  const flagged = scores.map((s) => s >= threshold);
  const mean = (v: number[]): number => (v.length > 0 ? v.reduce((a, b) => a + b, 0) / v.length : 0);
  return {
    n: labels.length,
    balancedAccuracy: balancedAccuracy(labels, flagged),
    f1: f1(labels, flagged),
    auroc: auroc(labels, scores),
    meanScore: mean(scores),
    rate: mean(labels.map((l) => (l ? 1 : 0))),
    ece: expectedCalibrationError(labels, scores),
  };
}

export function formatReport(r: BinaryReport): string {
  return (
    `n=${String(r.n).padStart(3)} balanced_acc=${r.balancedAccuracy.toFixed(3)} f1=${r.f1.toFixed(3)} auroc=${r.auroc.toFixed(3)} ` +
    `mean_score=${r.meanScore.toFixed(3)} rate=${r.rate.toFixed(3)} ece=${r.ece.toFixed(3)}`
  );
}
