import t from 'tap';
import {
  accuracy,
  auroc,
  balancedAccuracy,
  calibrationBins,
  confusion,
  ece,
  f1,
  meanAbsoluteError,
  midranks,
  multiclassAccuracy,
  multiclassConfusion,
  precision,
  recall,
  spearman,
  thresholdSweep,
} from '../src/eval/metrics.js';

const close = (t: { ok: (pass: boolean, msg: string) => unknown }, got: number | null, want: number, msg: string) =>
  t.ok(got !== null && Math.abs(got - want) < 1e-12, `${msg}: got ${got}, want ${want}`);

t.test('confusion counts and the ratios built on them', async (t) => {
  //                 tp    tp    tp    fn     tn     tn     fp    fp
  const predicted = [true, true, true, false, false, false, true, true];
  const actual = [true, true, true, true, false, false, false, false];
  const c = confusion(predicted, actual);
  t.same(c, { tp: 3, fp: 2, tn: 2, fn: 1 });
  close(t, precision(c), 3 / 5, 'precision');
  close(t, recall(c), 3 / 4, 'recall');
  close(t, f1(c), 6 / 9, 'f1 = 2tp/(2tp+fp+fn)');
  close(t, accuracy(c), 5 / 8, 'accuracy');
  close(t, balancedAccuracy(c), (0.75 + 0.5) / 2, 'balanced accuracy');
  t.throws(() => confusion([true], []), RangeError);
});

t.test('unmeasurable figures are null, not 0', async (t) => {
  const noPositives = confusion([false, true], [false, false]);
  t.equal(recall(noPositives), null, 'recall without positives');
  t.equal(balancedAccuracy(noPositives), null, 'balanced accuracy needs both classes');
  t.equal(precision(noPositives), 0, 'precision is measurable: one false alarm');
  const nothingPredicted = confusion([false, false], [true, false]);
  t.equal(precision(nothingPredicted), null, 'precision with nothing predicted positive');
  t.equal(f1(nothingPredicted), 0, 'f1 is 0 when positives exist and none were found');
  const empty = confusion([], []);
  t.same(empty, { tp: 0, fp: 0, tn: 0, fn: 0 });
  for (const fn of [precision, recall, f1, accuracy, balancedAccuracy]) t.equal(fn(empty), null, `${fn.name} of nothing`);
});

t.test('auroc is the Mann–Whitney statistic with ties counted as one half', async (t) => {
  // Positive/negative pairs: (0.4,0.1)=1 (0.4,0.4)=½ (0.8,0.1)=1 (0.8,0.4)=1 → 3.5/4.
  close(t, auroc([0.1, 0.4, 0.4, 0.8], [false, true, false, true]), 0.875, 'one tie across classes');
  t.equal(auroc([0.1, 0.2, 0.9], [false, false, true]), 1, 'perfect ranking');
  t.equal(auroc([0.9, 0.2, 0.1], [false, false, true]), 0, 'reversed ranking');
  t.equal(auroc([0.5, 0.5, 0.5, 0.5], [true, false, true, false]), 0.5, 'all tied is chance');
  // Ties inside one class do not matter: pairs (0.3,0.2)=1 ×2, (0.3,0.3)=½ ×2 → 3/4.
  close(t, auroc([0.3, 0.3, 0.2, 0.3], [true, true, false, false]), 0.75, 'ties within and across classes');
  t.equal(auroc([0.1, 0.9], [false, false]), null, 'no positives');
  t.equal(auroc([0.1, 0.9], [true, true]), null, 'no negatives');
  t.equal(auroc([], []), null, 'empty');
  t.equal(auroc([0.2, 0.1], [true, false]), 1, 'input order does not matter');
});

t.test('calibration bins and ECE', async (t) => {
  const scores = [0.05, 0.15, 0.95, 0.95, 1];
  const labels = [false, true, true, false, true];
  const bins = calibrationBins(scores, labels);
  t.equal(bins.length, 10);
  t.same(
    bins.map((b) => b.count),
    [1, 1, 0, 0, 0, 0, 0, 0, 0, 3],
    'score 1 falls in the last bin',
  );
  t.equal(bins[2]!.meanScore, null, 'empty bin has no mean');
  close(t, bins[9]!.meanScore, (0.95 + 0.95 + 1) / 3, 'mean score of last bin');
  close(t, bins[9]!.observedRate, 2 / 3, 'observed rate of last bin');
  close(t, bins[0]!.lo, 0, 'first bin starts at 0');
  close(t, bins[9]!.hi, 1, 'last bin ends at 1');
  // (|0.05-0| + |0.15-1| + 3·|2.9/3 - 2/3|) / 5 = (0.05 + 0.85 + 0.9) / 5.
  close(t, ece(bins), 0.36, 'ece');
  t.equal(ece(calibrationBins([], [])), null, 'ece of nothing');
  t.equal(ece(calibrationBins([0.0, 1.0], [false, true])), 0, 'perfectly calibrated');
  t.same(
    calibrationBins([0.1, 0.5], [true, false], 2).map((b) => b.count),
    [1, 1],
    '0.5 opens the upper of two bins',
  );
  t.throws(() => calibrationBins([0.1], [true], 0), RangeError);
});

t.test('multiclass confusion and accuracy', async (t) => {
  const classes = ['none', 'partial', 'full'] as const;
  const m = multiclassConfusion(classes, ['none', 'full', 'full', 'partial'], ['none', 'full', 'partial', 'partial']);
  t.same(m, {
    none: { none: 1, partial: 0, full: 0 },
    partial: { none: 0, partial: 1, full: 1 },
    full: { none: 0, partial: 0, full: 1 },
  });
  t.equal(multiclassAccuracy(m), 0.75);
  t.equal(multiclassAccuracy(multiclassConfusion(classes, [], [])), null);
  t.throws(() => multiclassConfusion(classes, ['nope' as 'none'], ['none']), RangeError);
});

t.test('threshold sweep flags at score >= t', async (t) => {
  const sweep = thresholdSweep([0.2, 0.4, 0.6, 0.8], [false, true, false, true], [0.3, 0.5, 0.9]);
  t.same(sweep, [
    // 0.3: flags 0.4 0.6 0.8 → tp 2, fp 1, fn 0.
    { threshold: 0.3, precision: 2 / 3, recall: 1, f1: 0.8, balancedAccuracy: 0.75 },
    // 0.5: flags 0.6 0.8 → tp 1, fp 1, fn 1.
    { threshold: 0.5, precision: 0.5, recall: 0.5, f1: 0.5, balancedAccuracy: 0.5 },
    // 0.9: flags nothing.
    { threshold: 0.9, precision: null, recall: 0, f1: 0, balancedAccuracy: 0.5 },
  ]);
  t.same(thresholdSweep([], []).length, 9, 'default thresholds 0.1..0.9');
});

t.test('midranks give tied values the mean of the ranks they span', async (t) => {
  t.same(midranks([10, 20, 20, 30]), [1, 2.5, 2.5, 4]);
  t.same(midranks([0.3, 0.1, 0.2]), [3, 1, 2], 'input order is kept');
  t.same(midranks([5, 5, 5]), [2, 2, 2]);
  t.same(midranks([]), []);
});

t.test('spearman is the Pearson correlation of midranks', async (t) => {
  t.equal(spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1, 'same order');
  t.equal(spearman([1, 2, 3, 4], [0.9, 0.5, 0.2, 0.1]), -1, 'reversed order');
  // No ties: d = (−1, 1, −1, 1, 0), Σd² = 4, ρ = 1 − 6·4 / (5·24) = 0.8.
  close(t, spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]), 0.8, 'one swap in each half');
  // Ties in x: ranks (1, 2.5, 2.5, 4) vs (1, 3, 2, 4); about the mean 2.5: Σdxdy = 4.5, Σdx² = 4.5,
  // Σdy² = 5, ρ = 4.5 / √22.5 = √0.9. The no-ties shortcut would say 1 − 6·0.5/60 = 0.95.
  close(t, spearman([1, 2, 2, 3], [1, 3, 2, 4]), Math.sqrt(0.9), 'ties on one side');
  // Ties on both sides: ranks (1.5, 1.5, 3, 4) vs (3, 1.5, 1.5, 4): Σdxdy = 2.25, Σdx² = Σdy² = 4.5 → 0.5.
  close(t, spearman([0.1, 0.1, 0.2, 0.3], [0.5, 0.4, 0.4, 0.9]), 0.5, 'ties on both sides');
  t.equal(spearman([0.2, 0.1], [0.7, 0.9]), -1, 'two points are a perfect (dis)agreement');
  t.equal(spearman([0.3, 0.3, 0.3], [0.1, 0.5, 0.9]), null, 'a constant side cannot rank');
  t.equal(spearman([0.3], [0.1]), null, 'one point');
  t.equal(spearman([], []), null, 'nothing');
  t.throws(() => spearman([1, 2], [1]), RangeError);
});

t.test('mean absolute error', async (t) => {
  close(t, meanAbsoluteError([0.5, 0.2, 0.9], [0.4, 0.4, 0.9]), 0.1, '(0.1 + 0.2 + 0) / 3');
  t.equal(meanAbsoluteError([], []), null);
  t.throws(() => meanAbsoluteError([1], []), RangeError);
});
