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

