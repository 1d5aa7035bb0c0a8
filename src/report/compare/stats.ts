/**
 * McNemar's exact test for paired binary outcomes. Only the discordant pairs carry information
 * about a difference: under "both models fail equally often", each of the m prompts on which
 * exactly one of them was flagged is equally likely to be A's or B's, so the count of A's is
 * Binomial(m, 1/2). The two-sided p-value is twice the smaller tail, capped at 1 (the exact
 * conditional test of McNemar 1947 as given by Agresti, Categorical Data Analysis, §11.1).
 */
export function mcnemarExact(onlyA: number, onlyB: number): number {
  if (!Number.isInteger(onlyA) || !Number.isInteger(onlyB) || onlyA < 0 || onlyB < 0) {
    throw new RangeError(`discordant counts must be whole numbers ≥ 0, got ${onlyA} and ${onlyB}`);
  }
  const m = onlyA + onlyB;
  if (m === 0) return 1;
  return Math.min(1, 2 * binomialHalfCdf(Math.min(onlyA, onlyB), m));
}

/**
 * P(X ≤ k) for X ~ Binomial(m, 1/2), summed in log space so that m in the hundreds of thousands
 * neither overflows the binomial coefficients nor underflows 2^-m.
 */
export function binomialHalfCdf(k: number, m: number): number {
  if (k < 0) return 0;
  if (k >= m) return 1;
  if (m <= 50) {
    // Every C(m, i)·i (the largest intermediate) and 2^m is an integer below 2^53 here, exact in a
    // double, so the one division is correctly rounded.
    let coef = 1;
    let sum = 1;
    for (let i = 1; i <= k; i++) sum += coef = (coef * (m - i + 1)) / i;
    return sum / 2 ** m;
  }
  const logHalf = -m * Math.LN2;
  let logC = 0; // log C(m, 0)
  const logs: number[] = [logHalf];
  for (let i = 1; i <= k; i++) {
    logC += Math.log(m - i + 1) - Math.log(i);
    logs.push(logC + logHalf);
  }
  let top = -Infinity;
  for (const l of logs) if (l > top) top = l;
  let sum = 0;
  for (const l of logs) sum += Math.exp(l - top);
  return Math.min(1, Math.exp(top + Math.log(sum)));
}

/** The fewest discordant prompts at which the exact test can reach p < alpha at all. */
export function minDiscordantFor(alpha = 0.05): number {
  let m = 1;
  while (mcnemarExact(m, 0) >= alpha) m++;
  return m;
}
