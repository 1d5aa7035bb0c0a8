/** Binary and multi-class scores used by the dev evaluation and the training script. */

export function balancedAccuracy(labels: boolean[], predicted: boolean[]): number {
  let tp = 0, tn = 0, pos = 0, neg = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i]) {
      pos++;
      if (predicted[i]) tp++;
    } else {
      neg++;
      if (!predicted[i]) tn++;
    }
  }
  const tpr = pos > 0 ? tp / pos : 0;
  const tnr = neg > 0 ? tn / neg : 0;
  return (tpr + tnr) / 2;
}

export function f1(labels: boolean[], predicted: boolean[]): number {
  let tp = 0, fp = 0, fn = 0;
  for (let i = 0; i < labels.length; i++) {
    if (predicted[i] && labels[i]) tp++;
    else if (predicted[i]) fp++;
    else if (labels[i]) fn++;
  }
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

/** Area under the ROC curve by the rank-sum formula, ties counted half. */
export function auroc(labels: boolean[], scores: number[]): number {
  const idx = scores.map((s, i) => [s, i] as const).sort((a, b) => a[0] - b[0]);
  let rankSumPos = 0;
  let pos = 0;
  let i = 0;
  while (i < idx.length) {
    let j = i;
    while (j + 1 < idx.length && idx[j + 1]![0] === idx[i]![0]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (labels[idx[k]![1]]) {
      rankSumPos += avgRank;
      pos++;
    }
    i = j + 1;
  }
  const neg = labels.length - pos;
  if (pos === 0 || neg === 0) return 0.5;
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** The threshold on `scores` that maximises balanced accuracy (for reporting headroom only). */
export function bestThreshold(labels: boolean[], scores: number[]): { threshold: number; balancedAccuracy: number } {
  const cands = [...new Set(scores)].sort((a, b) => a - b);
  let best = { threshold: 0.5, balancedAccuracy: 0 };
  for (const t of cands) {
    const ba = balancedAccuracy(labels, scores.map((s) => s >= t));
    if (ba > best.balancedAccuracy) best = { threshold: t, balancedAccuracy: ba };
  }
  return best;
}

/** Ranks from 1, ties given the mean of the ranks they span. */
export function ranks(xs: readonly number[]): number[] {
  const order = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(xs.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    for (let k = i; k <= j; k++) out[order[k]![1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return out;
}

/** Spearman's rank correlation (Pearson's on ranks, so ties are handled); NaN below two points. */
export function spearman(a: readonly number[], b: readonly number[]): number {
  if (a.length < 2 || a.length !== b.length) return Number.NaN;
  const ra = ranks(a);
  const rb = ranks(b);
  const mean = (v: number[]): number => v.reduce((s, x) => s + x, 0) / v.length;
  const ma = mean(ra);
  const mb = mean(rb);
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < ra.length; i++) {
    num += (ra[i]! - ma) * (rb[i]! - mb);
    da += (ra[i]! - ma) ** 2;
    db += (rb[i]! - mb) ** 2;
  }
  return da === 0 || db === 0 ? Number.NaN : num / Math.sqrt(da * db);
}
