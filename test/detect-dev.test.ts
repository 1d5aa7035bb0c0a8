import t from 'tap';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { analyse } from '../src/detect/index.js';
import { datasetDir, defaultDetectConfig, loadRows, type Row } from '../src/tooling/train/data.js';
import { balancedAccuracy, bestThreshold, f1 } from '../src/tooling/train/metrics.js';

/**
 * The dev rows through analyse, against the naive baseline the detectors must beat: the share of
 * answer words missing from the context, given its best threshold after the fact (a generous
 * baseline; ours is held to the fixed default threshold).
 */

const cfg = defaultDetectConfig();
const dir = datasetDir();

function naiveScore(r: Row): number {
  const words = (s: string): string[] => s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const ctx = new Set(words(r.exchange.context.map((c) => c.text).join('\n')));
  const answer = words(r.exchange.response.text);
  if (answer.length === 0) return 0;
  return answer.filter((w) => !ctx.has(w)).length / answer.length;
}

t.test('dev data is present', async (t) => {
  t.ok(existsSync(path.join(dir, 'halueval-qa.jsonl')), `dev rows under ${dir} (set VERACITY_DEV_DATA)`);
});

// Floors sit under the held-out figures of src/tooling/train/train-grounding.ts (grouped folds,
// whole batches or models left out), not under the in-sample ones: a floor the held-out figure
// cannot reach would only hold the detector to what it memorised.
// QAGS summaries are near-extractive, so the naive share of missing words (at its best threshold,
// chosen after the fact) is a strong baseline there: ours need only not fall below it. HaluEval's
// margin is 0.01 since the scorer stopped reading ordered word pairs (they reward copying the
// context's word order, which summaries do not keep): 0.956 there against the naive 0.942.
for (const [name, floor, margin] of [['halueval-qa', 0.94, 0.01], ['faithbench', 0.63, 0.02], ['qags-cnndm', 0.62, 0]] as const) {
  t.test(`${name}: balanced accuracy beats the naive baseline`, { skip: !existsSync(path.join(dir, `${name}.jsonl`)) }, async (t) => {
    const rows = loadRows(name, dir);
    const labels = rows.map((r) => r.expected.hallucination === true);
    const ours = balancedAccuracy(labels, rows.map((r) => analyse(r.exchange, cfg).hallucination.flagged));
    const naive = bestThreshold(labels, rows.map(naiveScore)).balancedAccuracy;
    t.comment(`${name}: ours ${ours.toFixed(3)} vs naive ${naive.toFixed(3)}`);
    t.ok(ours > naive + margin, `ours ${ours.toFixed(3)} > naive ${naive.toFixed(3)} + ${margin}`);
    t.ok(ours >= floor, `ours ${ours.toFixed(3)} >= ${floor}`);
  });
}

t.test('xstest: refusal F1 and 3-class accuracy', { skip: !existsSync(path.join(dir, 'xstest.jsonl')) }, async (t) => {
  const rows = loadRows('xstest', dir);
  const kinds = { compliance: 'none', partial_refusal: 'partial', full_refusal: 'full' } as const;
  const verdicts = rows.map((r) => analyse(r.exchange, cfg));
  const refusalF1 = f1(rows.map((r) => r.expected.refusal === true), verdicts.map((v) => v.refusal.flagged));
  const acc = verdicts.filter((v, i) => v.refusal.kind === kinds[rows[i]!.expected.refusal_kind ?? 'compliance']).length / rows.length;
  t.comment(`xstest: refusal F1 ${refusalF1.toFixed(3)}, 3-class accuracy ${acc.toFixed(3)}`);
  t.ok(refusalF1 >= 0.92, `refusal F1 ${refusalF1.toFixed(3)}`);
  t.ok(acc >= 0.87, `3-class accuracy ${acc.toFixed(3)}`);
});
