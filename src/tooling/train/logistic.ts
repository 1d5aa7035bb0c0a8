/** Small numeric helpers shared by the training scripts. */

export const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/**
 * Weighted logistic regression by full-batch gradient descent with an L2 penalty. `offsets`, where
 * given, is a fixed logit per row that the fitted weights and bias add to.
 */
export function fitLogistic(
  xs: number[][],
  ys: boolean[],
  ws: number[],
  l2: number,
  iters = 3000,
  nonNegative: boolean | boolean[] = false,
  offsets?: number[],
): { weights: number[]; bias: number } {
  const d = xs[0]?.length ?? 0;
  const w = new Array<number>(d).fill(0);
  let b = 0;
  const wsum = ws.reduce((s, v) => s + v, 0) || 1;
  const lr = 1.0;
  for (let it = 0; it < iters; it++) {
    const gw = new Array<number>(d).fill(0);
    let gb = 0;
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i]!;
      let z = b + (offsets?.[i] ?? 0);
      for (let j = 0; j < d; j++) z += w[j]! * x[j]!;
      const err = (sigmoid(z) - (ys[i] ? 1 : 0)) * ws[i]!;
      for (let j = 0; j < d; j++) gw[j]! += err * x[j]!;
      gb += err;
    }
    for (let j = 0; j < d; j++) {
      w[j]! -= lr * (gw[j]! / wsum + l2 * w[j]!);
      // Every feature is oriented so that more means less support: keep the weights monotone.
      if ((nonNegative === true || (Array.isArray(nonNegative) && nonNegative[j])) && w[j]! < 0) w[j] = 0;
    }
    b -= lr * (gb / wsum);
  }
  return { weights: w, bias: b };
}

/** FNV-1a, for assigning groups to cross-validation folds. */
export function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
