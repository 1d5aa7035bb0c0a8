import t from 'tap';
import {
  calibrationBins,
  certaintyCurve,
  expectedCalibrationError,
  halfWidth,
  moments,
  momentsFromSums,
  narrowingFromOneMoreLabel,
  ppiMean,
  ppiPlusPlus,
  rateDifference,
  reliabilityDiagram,
  type LabelledScore,
} from '../src/report/estimators.js';
import { wilson, Z95 } from '../src/report/wilson.js';
import { prng } from './helpers/labelled-seed.js';

const close = (t: Tap.Test, got: number, want: number, what: string, eps = 1e-9) =>
  t.ok(Math.abs(got - want) <= eps, `${what}: ${got} ≈ ${want}`);

// Four labelled checks, worked by hand:
//   f = 0.2 0.8 0.6 0.4,  y = 0 1 0 1
//   y - f = -0.2 0.2 -0.6 0.6: mean 0, sample variance (0.04 + 0.04 + 0.36 + 0.36) / 3 = 0.8/3
//   mean f = 0.5, mean y = 0.5, var f = (0.09 + 0.09 + 0.01 + 0.01) / 3 = 0.2/3, var y = 1/3
//   cov(y, f) = ((-0.3)(-0.5) + (0.3)(0.5) + (0.1)(-0.5) + (-0.1)(0.5)) / 3 = 0.2/3
const LABELLED: LabelledScore[] = [
  { score: 0.2, label: false },
  { score: 0.8, label: true },
  { score: 0.6, label: 0 },
  { score: 0.4, label: 1 },
];

t.test('moments and moments from running sums agree with the hand-computed ones', async (t) => {
  const m = moments([0.2, 0.4, 0.6, 0.8, 0.5]);
  t.equal(m.n, 5);
  close(t, m.mean, 0.5, 'mean');
  close(t, m.variance, (0.09 + 0.01 + 0.01 + 0.09 + 0) / 4, 'variance');
  // sum 2.5, sum of squares 0.04 + 0.16 + 0.36 + 0.64 + 0.25 = 1.45
  const s = momentsFromSums(5, 2.5, 1.45);
  close(t, s.mean, 0.5, 'mean from sums');
  close(t, s.variance, 0.05, 'variance from sums');
  t.same(momentsFromSums(0, 0, 0), { n: 0, mean: 0, variance: 0 });
});

t.test('PPI: the scores mean plus the labelled mean of y - f; variances add', async (t) => {
  const all = { n: 100, mean: 0.3, variance: 0.04 };
  const e = ppiMean(LABELLED, all)!;
  t.equal(e.method, 'ppi');
  t.equal(e.labels, 4);
  t.equal(e.lambda, 1);
  close(t, e.rate, 0.3 + 0, 'rate = 0.3 + mean(y - f) = 0.3');
  close(t, e.residualVariance, 0.8 / 3, 'var(y - f)');
  const se = Math.sqrt(0.04 / 100 + 0.8 / 3 / 4);
  close(t, e.se, se, 'se');
  close(t, e.ci95.lo, Math.max(0, 0.3 - Z95 * se), 'lo (clipped at 0)');
  close(t, e.ci95.hi, 0.3 + Z95 * se, 'hi');
  t.equal(e.ci95.lo, 0, 'this wide an interval reaches 0 and stops there');

  // Whole arrays: the all-checks mean 0.5, var 0.05 (5 checks), same labelled sample.
  const e2 = ppiMean(LABELLED, moments([0.2, 0.4, 0.6, 0.8, 0.5]))!;
  close(t, e2.rate, 0.5, 'rate');
  close(t, e2.se, Math.sqrt(0.05 / 5 + 0.8 / 3 / 4), 'se');
});

t.test('PPI++: lambda = cov(y, f) / ((1 + n/N) var f), the estimate and its variance follow', async (t) => {
  const all = { n: 100, mean: 0.3, variance: 0.1 };
  const e = ppiPlusPlus(LABELLED, all)!;
  const lambda = 0.2 / 3 / ((1 + 4 / 100) * 0.1); // 0.641…
  close(t, e.lambda, lambda, 'lambda');
  t.equal(e.method, 'ppi++');
  // theta = lambda·mean(f_all) + mean(y) - lambda·mean(f_lab)
  const theta = lambda * 0.3 + 0.5 - lambda * 0.5;
  close(t, e.rate, theta, 'rate');
  // var(y - lambda f) = var y + lambda² var f - 2 lambda cov
  const resVar = 1 / 3 + lambda * lambda * (0.2 / 3) - 2 * lambda * (0.2 / 3);
  close(t, e.residualVariance, resVar, 'residual variance');
  const se = Math.sqrt((lambda * lambda * 0.1) / 100 + resVar / 4);
  close(t, e.se, se, 'se');
  close(t, e.ci95.lo, Math.max(0, theta - Z95 * se), 'lo');
  close(t, e.ci95.hi, Math.min(1, theta + Z95 * se), 'hi');

  // A score that tracks the labels perfectly on a low-variance population: lambda clips at 1.
  t.equal(ppiPlusPlus(LABELLED, { n: 100, mean: 0.3, variance: 0.04 })!.lambda, 1, 'clipped to 1');
  // A score anti-correlated with the labels: lambda clips at 0, the labels alone remain.
  const anti = LABELLED.map((p) => ({ score: 1 - p.score, label: p.label }));
  const e0 = ppiPlusPlus(anti, all)!;
  t.equal(e0.lambda, 0, 'clipped to 0');
  close(t, e0.rate, 0.5, 'lambda 0: the labelled mean');
  close(t, e0.se, Math.sqrt(1 / 3 / 4), 'lambda 0: the labels alone');
});

t.test('no estimate without two labels or any checks; a sample without spread still has an interval', async (t) => {
  t.equal(ppiMean([], { n: 10, mean: 0.1, variance: 0.01 }), null);
  t.equal(ppiMean([{ score: 0.1, label: 0 }], { n: 10, mean: 0.1, variance: 0.01 }), null);
  t.equal(ppiMean(LABELLED, { n: 0, mean: 0, variance: 0 }), null);
  // 50 labels, all 0, detector scores all 0: y - f is 0 everywhere, but 50 labels do not prove a
  // rate of exactly 0. The residual variance floor is that of 1 event in 51: (1/51)(50/51).
  const zeros = Array.from({ length: 50 }, () => ({ score: 0, label: 0 }));
  const e = ppiMean(zeros, { n: 1000, mean: 0, variance: 0 })!;
  t.equal(e.rate, 0);
  t.equal(e.ci95.lo, 0);
  close(t, e.ci95.hi, Z95 * Math.sqrt((1 / 51) * (50 / 51) / 50), 'hi from the floor');
  t.ok(e.ci95.hi > 0.02 && e.ci95.hi < 0.06, `hi ${e.ci95.hi} near Wilson's ${wilson(0, 50)!.hi}`);
});

t.test('the difference of two rates: centres subtract, variances add', async (t) => {
  const a = ppiMean(LABELLED, { n: 100, mean: 0.3, variance: 0.04 })!;
  const b = ppiMean(LABELLED.map((p) => ({ ...p, label: 0 })), { n: 200, mean: 0.1, variance: 0.02 })!;
  // b: y - f = -0.2 -0.8 -0.6 -0.4, mean -0.5, theta = 0.1 - 0.5 = -0.4; the sample variance
  // (0.09 + 0.09 + 0.01 + 0.01)/3 = 0.067 is below the 4-label floor (1/5)(4/5) = 0.16, which holds.
  close(t, b.unclipped, -0.4, 'b unclipped');
  close(t, b.residualVariance, 0.16, 'b residual variance at its floor');
  t.equal(b.rate, 0, 'b clipped to 0');
  const d = rateDifference(a, b);
  close(t, d.difference, 0.3 - -0.4, 'difference of the unclipped estimates');
  const se = Math.sqrt(0.04 / 100 + 0.8 / 3 / 4 + 0.02 / 200 + 0.16 / 4);
  close(t, d.se, se, 'se');
  close(t, d.ci95.lo, 0.7 - Z95 * se, 'lo');
  t.equal(d.ci95.hi, 1, 'hi clipped to 1');
});

t.test('one more label narrows the half-width by z(sqrt(a + b/n) - sqrt(a + b/(n+1)))', async (t) => {
  const all = { n: 100, mean: 0.3, variance: 0.04 };
  const e = ppiMean(LABELLED, all)!;
  const want = Z95 * (Math.sqrt(0.04 / 100 + 0.8 / 3 / 4) - Math.sqrt(0.04 / 100 + 0.8 / 3 / 5));
  close(t, narrowingFromOneMoreLabel(4, all, e)!, want, 'narrowing');
  close(t, halfWidth(e.ci95) <= Z95 * e.se ? 1 : 0, 1, 'clipping never widens');
  // No estimate yet: the largest residual variance (0.25) stands in; the first label gives no interval below 1.
  const two = narrowingFromOneMoreLabel(2, all)!;
  close(t, two, Z95 * (Math.sqrt(0.04 / 100 + 0.25 / 2) - Math.sqrt(0.04 / 100 + 0.25 / 3)), 'from two labels');
  t.ok(narrowingFromOneMoreLabel(10, all)! < two, 'each label narrows it less than the one before');
  t.equal(narrowingFromOneMoreLabel(3, { n: 0, mean: 0, variance: 0 }), null, 'no checks, nothing to say');
});

t.test('calibration bins: equal-width bins of x, labelled rate, counts, Wilson intervals', async (t) => {
  const bins = calibrationBins(
    [
      { x: 0.05, label: 0 },
      { x: 0.15, label: 1 },
      { x: 0.12, label: false },
      { x: 0.95, label: true },
      { x: 1, label: true },
      { x: Number.NaN, label: true },
    ],
    10,
  );
  t.equal(bins.length, 3, 'empty bins and a NaN left out');
  t.same(bins.map((b) => [b.lo, b.n, b.rate]), [[0, 1, 0], [0.1, 2, 0.5], [0.9, 2, 1]]);
  close(t, bins[1].meanX, 0.135, 'mean x');
  t.same(bins[1].ci95, wilson(1, 2));
  // ECE = (1·|0 - 0.05| + 2·|0.5 - 0.135| + 2·|1 - 0.975|) / 5
  close(t, expectedCalibrationError(bins)!, (0.05 + 2 * 0.365 + 2 * 0.025) / 5, 'ECE');
  t.equal(expectedCalibrationError([]), null);

  const rel = reliabilityDiagram(LABELLED, 2);
  // scores 0.2, 0.4 in [0, 0.5): labels 0, 1; scores 0.6, 0.8 in [0.5, 1]: labels 0, 1
  t.same(rel.map((b) => [b.lo, b.hi, b.n, b.rate]), [[0, 0.5, 2, 0.5], [0.5, 1, 2, 0.5]]);
  const cc = certaintyCurve([{ certainty: 0.9, hallucinated: true }, { certainty: 0.1, hallucinated: false }, { certainty: 0.95, hallucinated: false }], 5);
  t.same(cc.map((b) => [b.lo, b.n, b.rate]), [[0, 1, 0], [0.8, 2, 0.5]]);
});

function gauss(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

t.test('coverage: over 1,000 seeded draws the 95% intervals cover the true rate about 95% of the time', async (t) => {
  const TRUE_RATE = 0.3;
  const N = 2000;
  const n = 80;
  const DRAWS = 1000;
  // A good but biased detector (mean score 0.4 where the rate is 0.3), and a useless one.
  const scorers = {
    good: (y: number, r: () => number) => Math.min(1, Math.max(0, 0.25 + 0.5 * y + 0.15 * gauss(r))),
    useless: (_y: number, r: () => number) => r(),
  };
  for (const [name, score] of Object.entries(scorers)) {
    const rand = prng(name === 'good' ? 20231 : 20232);
    const cover = { ppi: 0, ppipp: 0, naive: 0 };
    const width = { ppi: 0, ppipp: 0, labels: 0 };
    for (let d = 0; d < DRAWS; d++) {
      const ys = new Float64Array(N);
      const fs = new Float64Array(N);
      for (let i = 0; i < N; i++) {
        ys[i] = rand() < TRUE_RATE ? 1 : 0;
        fs[i] = score(ys[i], rand);
      }
      const all = moments(Array.from(fs));
      // A uniformly random labelled sample of n distinct checks (partial Fisher-Yates).
      const idx = Array.from({ length: N }, (_, i) => i);
      const labelled: LabelledScore[] = [];
      for (let k = 0; k < n; k++) {
        const j = k + Math.floor(rand() * (N - k));
        [idx[k], idx[j]] = [idx[j], idx[k]];
        labelled.push({ score: fs[idx[k]], label: ys[idx[k]] });
      }
      const p = ppiMean(labelled, all)!;
      const pp = ppiPlusPlus(labelled, all)!;
      if (p.ci95.lo <= TRUE_RATE && TRUE_RATE <= p.ci95.hi) cover.ppi++;
      if (pp.ci95.lo <= TRUE_RATE && TRUE_RATE <= pp.ci95.hi) cover.ppipp++;
      const naiveHalf = Z95 * Math.sqrt(all.variance / N);
      if (Math.abs(all.mean - TRUE_RATE) <= naiveHalf) cover.naive++;
      width.ppi += halfWidth(p.ci95) / DRAWS;
      width.ppipp += halfWidth(pp.ci95) / DRAWS;
      const k = labelled.filter((l) => l.label === 1).length;
      width.labels += halfWidth(wilson(k, n)!) / DRAWS;
    }
    const rate = (c: number) => c / DRAWS;
    t.ok(rate(cover.ppi) >= 0.92 && rate(cover.ppi) <= 0.98, `${name} score, PPI covers ${rate(cover.ppi)}`);
    t.ok(rate(cover.ppipp) >= 0.92 && rate(cover.ppipp) <= 0.98, `${name} score, PPI++ covers ${rate(cover.ppipp)}`);
    t.comment(`${name}: mean half-width PPI ${width.ppi.toFixed(4)}, PPI++ ${width.ppipp.toFixed(4)}, labels alone ${width.labels.toFixed(4)}`);
    if (name === 'good') {
      t.ok(rate(cover.naive) < 0.05, `the detector's own mean almost never covers the rate (${rate(cover.naive)}): it is biased`);
      t.ok(width.ppipp < width.labels * 0.9, 'a good score narrows the interval well below the labels alone');
    } else {
      t.ok(width.ppi > width.labels, 'plain PPI pays for a useless score');
      t.ok(width.ppipp < width.labels * 1.05, 'PPI++ falls back on the labels alone');
    }
  }
});
