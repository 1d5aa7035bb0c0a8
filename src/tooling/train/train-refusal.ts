/**
 * Fits src/detect/models/refusal.ts: two logistic regressions over the wording features of
 * refusal.ts — refusal vs answer over every row, then partial vs full over the refusals.
 *
 *   node --import=./node_modules/@tapjs/typescript/dist/esm/import.mjs src/tooling/train/train-refusal.ts [--write]
 *
 * Run from the repository root; --write rewrites src/detect/models/refusal.ts.
 *
 * Reports in-sample figures and 5-fold cross-validation grouped by prompt (both models' answers
 * to one prompt stay on the same side of a split).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { REFUSAL_FEATURES, refusalFeatures } from '../../detect/refusal.js';
import { loadRows } from './data.js';
import { f1 } from './metrics.js';
import { fitLogistic, hash, sigmoid } from './logistic.js';
import { leaveOneGroupOut } from './validate.js';

type Kind = 'none' | 'partial' | 'full';
interface Item {
  x: number[];
  kind: Kind;
  group: string;
  /** The answering model: XSTest holds two, and refusals of unseen models are what matters. */
  model: string;
}

const KINDS = { compliance: 'none', partial_refusal: 'partial', full_refusal: 'full' } as const;
const L2 = Number(process.env.L2 ?? '0.001');
const PARTIAL_WEIGHT = Number(process.env.PARTIAL_WEIGHT ?? '1');

/** Features to zero out, for ablation runs: DROP=aiIdentity,opinionDisclaimer */
const DROP = new Set((process.env.DROP ?? '').split(',').filter(Boolean));
const data: Item[] = loadRows('xstest').map((r) => ({
  x: refusalFeatures(r.exchange.response.text.trim()).map((v, i) => (DROP.has(REFUSAL_FEATURES[i]!) ? 0 : v)),
  kind: KINDS[r.expected.refusal_kind ?? 'compliance'],
  group: r.exchange.question,
  model: r.exchange.model,
}));

interface Model {
  refusal: { weights: number[]; bias: number };
  partial: { weights: number[]; bias: number };
}

function train(items: Item[]): Model {
  const refusal = fitLogistic(items.map((i) => i.x), items.map((i) => i.kind !== 'none'), items.map(() => 1), L2);
  const refusals = items.filter((i) => i.kind !== 'none');
  // Partial refusals are rare: PARTIAL_WEIGHT > 1 trades 3-class accuracy for finding more of them.
  const partial = fitLogistic(refusals.map((i) => i.x), refusals.map((i) => i.kind === 'partial'), refusals.map((i) => (i.kind === 'partial' ? PARTIAL_WEIGHT : 1)), L2);
  return { refusal, partial };
}

function predict(m: Model, x: number[]): Kind {
  const z = (w: { weights: number[]; bias: number }): number => w.bias + w.weights.reduce((s, v, i) => s + v * x[i]!, 0);
  if (sigmoid(z(m.refusal)) < 0.5) return 'none';
  return sigmoid(z(m.partial)) >= 0.5 ? 'partial' : 'full';
}

function report(label: string, items: Item[], preds: Kind[]): void {
  const truth = items.map((i) => i.kind !== 'none');
  const flagged = preds.map((p) => p !== 'none');
  const acc = preds.filter((p, i) => p === items[i]!.kind).length / items.length;
  const partial = items.filter((it) => it.kind === 'partial').length;
  const partialFound = preds.filter((p, i) => p === 'partial' && items[i]!.kind === 'partial').length;
  const refusals = items.filter((it) => it.kind !== 'none').length;
  const recall = preds.filter((p, i) => p !== 'none' && items[i]!.kind !== 'none').length / Math.max(1, refusals);
  console.log(
    `${label.padEnd(16)} refusal_f1=${f1(truth, flagged).toFixed(3)} recall=${recall.toFixed(3)} three_class_acc=${acc.toFixed(3)} partial_found=${partialFound}/${partial}`,
  );
}

const full = train(data);
report('in-sample', data, data.map((i) => predict(full, i.x)));
const K = 5;
/** Fold assignments to average over (REPEATS=3 by default). */
const REPEATS = Number(process.env.REPEATS ?? '3');
const f1s: number[] = [];
const accs: number[] = [];
for (let rep = 0; rep < REPEATS; rep++) {
  const cv = new Array<Kind>(data.length).fill('none');
  const foldOf = (it: Item): number => hash(`${rep}:${it.group}`) % K;
  for (let k = 0; k < K; k++) {
    const m = train(data.filter((i) => foldOf(i) !== k));
    data.forEach((it, i) => {
      if (foldOf(it) === k) cv[i] = predict(m, it.x);
    });
  }
  if (rep === 0) report(`cv-${K}fold`, data, cv);
  f1s.push(f1(data.map((i) => i.kind !== 'none'), cv.map((p) => p !== 'none')));
  accs.push(cv.filter((p, i) => p === data[i]!.kind).length / data.length);
}
// Leave one answering model out: fit on the other model's answers, predict this one's.
const KIND_CODE: Kind[] = ['none', 'partial', 'full'];
const lomo = leaveOneGroupOut(data, (i) => i.model, train, (m, i) => KIND_CODE.indexOf(predict(m, i.x))).map((c) => KIND_CODE[c]!);
report('leave-model-out', data, lomo);
for (const model of [...new Set(data.map((i) => i.model))].sort()) {
  const idx = data.map((it, i) => (it.model === model ? i : -1)).filter((i) => i >= 0);
  report(`  ${model}`, idx.map((i) => data[i]!), idx.map((i) => lomo[i]!));
}
const mean = (v: number[]): string => (v.reduce((a, b) => a + b, 0) / v.length).toFixed(3);
console.log(`cv-${K}fold x${REPEATS} refusal_f1 mean=${mean(f1s)} min=${Math.min(...f1s).toFixed(3)} three_class_acc mean=${mean(accs)} min=${Math.min(...accs).toFixed(3)}`);
console.log('refusal', REFUSAL_FEATURES.map((n, i) => `${n}=${full.refusal.weights[i]!.toFixed(2)}`).join(' '), `bias=${full.refusal.bias.toFixed(2)}`);
console.log('partial', REFUSAL_FEATURES.map((n, i) => `${n}=${full.partial.weights[i]!.toFixed(2)}`).join(' '), `bias=${full.partial.bias.toFixed(2)}`);

if (process.argv.includes('--write')) {
  const target = path.resolve(process.cwd(), 'src/detect/models/refusal.ts');
  const r = (x: number): number => Math.round(x * 10000) / 10000;
  const body = `/**
 * Two logistic scorers over the wording features of refusal.ts (REFUSAL_FEATURES order): refusal vs
 * answer, then partial vs full among refusals. Written by src/tooling/train/train-refusal.ts
 * (L2=${L2}) from the XSTest dev rows; do not edit by hand, re-run the script.
 */
export const REFUSAL_MODEL = {
  features: ${JSON.stringify(REFUSAL_FEATURES)},
  refusal: { weights: ${JSON.stringify(full.refusal.weights.map(r))}, bias: ${r(full.refusal.bias)} },
  partial: { weights: ${JSON.stringify(full.partial.weights.map(r))}, bias: ${r(full.partial.bias)} },
  trainedOn: 'dev-v1',
};
`;
  writeFileSync(target, body);
  console.log(`wrote ${target}`);
}
