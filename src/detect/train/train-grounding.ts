/**
 * Fits the claim scorer of src/detect/models/grounding.ts: a logistic regression over the
 * hand-made claim features of grounding.ts, then a one-variable calibration of the exchange score
 * (sigmoid(a * max claim logit + b)).
 *
 *   node --import=./node_modules/@tapjs/typescript/dist/esm/import.mjs src/detect/train/train-grounding.ts [--write]
 *
 * Run from the repository root; --write rewrites src/detect/models/grounding.ts. Knobs (env): L2,
 * MONOTONE, NON_NEGATIVE, DECISION_FIT, DECISION_FIT_SLOPE, DROP (see below).
 *
 * Claim labels: a HaluEval claim takes its exchange's label; a FaithBench claim is positive when
 * its exchange is a hallucination and the claim overlaps an annotated span. Each dataset weighs the
 * same, and within it each class weighs the same, so neither the larger set nor the majority class
 * sets the threshold. Figures are reported in-sample and by 5-fold cross-validation grouped by
 * context (rows that share a passage never sit on both sides of a split).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { extractClaims } from '../claims.js';
import { buildContextIndex, claimFeatures, contextText, featureVector, FEATURE_NAMES } from '../grounding.js';
import { detectRefusal } from '../refusal.js';
import { defaultDetectConfig, loadRows, type Row } from './data.js';
import { auroc, balancedAccuracy } from './metrics.js';
import { fitLogistic, hash, sigmoid } from './logistic.js';

interface Item {
  dataset: string;
  group: string;
  label: boolean;
  claims: Array<{ x: number[]; y: boolean }>;
}

const cfg = defaultDetectConfig();
/** Features to zero out, for ablation runs: DROP=length,antonymFlip */
/**
 * NON_NEGATIVE=1 keeps every claim weight ≥ 0. Measured on the dev rows it costs about 0.02
 * balanced accuracy on both sets under cross-validation, so the default fits freely.
 */
const NON_NEGATIVE = process.env.NON_NEGATIVE === '1';
/** DECISION_FIT=0 keeps the plain likelihood calibration of the exchange score. */
const DECISION_FIT = process.env.DECISION_FIT !== '0';
/** DECISION_FIT_SLOPE=1 lets the decision fit move the claim-count slope too (overfits on dev). */
const DECISION_FIT_SLOPE = process.env.DECISION_FIT_SLOPE === '1';
const range = (from: number, to: number, step: number): number[] =>
  Array.from({ length: Math.floor((to - from) / step + 1e-9) + 1 }, (_, i) => from + i * step);
/**
 * Features whose weight may not go negative whatever the dev rows say: a name, number or fact
 * the context lacks, or a flipped polarity, can never make a claim better supported.
 */
const MONOTONE = new Set(
  (process.env.MONOTONE ?? 'novelMissingShare,novelMissingCount,properMissing,numberMissing,negationFlip,antonymFlip,specificSwap').split(',').filter(Boolean),
);
const DROP = new Set((process.env.DROP ?? '').split(',').filter(Boolean));

function items(dataset: string, rows: Row[]): Item[] {
  const out: Item[] = [];
  for (const r of rows) {
    const ex = r.exchange;
    const { text: ctx, grounded } = contextText(ex.context, cfg.maxContextChars);
    if (!grounded) continue;
    const text = ex.response.text.slice(0, cfg.maxResponseChars);
    if (detectRefusal({ ...ex.response, text }).kind === 'full') continue;
    const index = buildContextIndex(ctx, ex.question);
    const label = r.expected.hallucination === true;
    const spans = r.expected.spans ?? [];
    const claims = extractClaims(text).map((c) => {
      const x = featureVector(claimFeatures(c, index)).map((v, i) => (DROP.has(FEATURE_NAMES[i]!) ? 0 : v));
      const y = dataset === 'faithbench' ? label && spans.some(([s, e]) => s < c.end && e > c.start) : label;
      return { x, y };
    });
    out.push({ dataset, group: `${dataset}:${ctx.slice(0, 200)}`, label, claims });
  }
  return out;
}


interface Model {
  weights: number[];
  bias: number;
  a: number;
  a2: number;
  b: number;
  c: number;
}

function logit(m: Pick<Model, 'weights' | 'bias'>, x: number[]): number {
  let z = m.bias;
  for (let i = 0; i < x.length; i++) z += m.weights[i]! * x[i]!;
  return z;
}

/** Weights that give each dataset, and each class inside it, the same total. */
function balance(labels: boolean[], datasets: string[]): number[] {
  const counts = new Map<string, number>();
  for (let i = 0; i < labels.length; i++) {
    const k = `${datasets[i]}:${labels[i]}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return labels.map((l, i) => 1 / counts.get(`${datasets[i]}:${l}`)!);
}

function train(data: Item[], l2: number): Model {
  const xs: number[][] = [];
  const ys: boolean[] = [];
  const ds: string[] = [];
  for (const it of data) for (const c of it.claims) {
    xs.push(c.x);
    ys.push(c.y);
    ds.push(it.dataset);
  }
  const claimModel = fitLogistic(xs, ys, balance(ys, ds), l2, 3000, NON_NEGATIVE || FEATURE_NAMES.map((n) => MONOTONE.has(n)));
  // Calibrate the exchange score on the top two claim logits, exchanges balanced per dataset and class:
  // one bad claim can be noise, a second one rarely is.
  const ex = data.filter((it) => it.claims.length > 0);
  // The max over many claims runs higher by chance alone, so the claim count joins the calibration.
  const zs = ex.map((it) => calibrationInputs(claimModel, it));
  const cal = fitLogistic(zs, ex.map((it) => it.label), balance(ex.map((it) => it.label), ex.map((it) => it.dataset)), 0, 4000);
  const a = cal.weights[0]!;
  const a2 = cal.weights[1]!;
  let best = { b: cal.bias, c: cal.weights[2]!, value: -Infinity };
  if (DECISION_FIT) {
    // Likelihood is ruled by the far tails; the flag is decided at 0.5. Move the offset and the
    // claim-count slope (slope a kept) to where the decision is best on average across datasets.
    const datasets = [...new Set(ex.map((it) => it.dataset))];
    for (let b = -3; b <= 3.001; b += 0.05) {
      for (const c of DECISION_FIT_SLOPE ? range(-2.5, 0.5, 0.05) : [cal.weights[2]!]) {
        let value = 0;
        for (const d of datasets) {
          const idx = ex.map((it, i) => (it.dataset === d ? i : -1)).filter((i) => i >= 0);
          value += balancedAccuracy(idx.map((i) => ex[i]!.label), idx.map((i) => a * zs[i]![0]! + a2 * zs[i]![1]! + c * zs[i]![2]! + b >= 0));
        }
        // Ties go to the likelihood fit.
        value -= 1e-4 * (Math.abs(b - cal.bias) + Math.abs(c - cal.weights[2]!));
        if (value > best.value) best = { b, c, value };
      }
    }
  }
  return { ...claimModel, a, a2, c: best.c, b: best.b };
}

/** Highest and second-highest claim logit (the same for one claim), and ln(claim count). */
function calibrationInputs(m: Pick<Model, 'weights' | 'bias'>, it: Item): number[] {
  const zs = it.claims.map((c) => logit(m, c.x)).sort((x, y) => y - x);
  return [zs[0]!, zs[1] ?? zs[0]!, Math.log(it.claims.length)];
}

function exchangeScore(m: Model, it: Item): number {
  if (it.claims.length === 0) return 0;
  const [z1, z2, logN] = calibrationInputs(m, it);
  return sigmoid(m.a * z1! + m.a2 * z2! + m.c * logN! + m.b);
}

function report(label: string, data: Item[], scores: number[]): void {
  for (const ds of ['halueval-qa', 'faithbench']) {
    const idx = data.map((it, i) => (it.dataset === ds ? i : -1)).filter((i) => i >= 0);
    const ys = idx.map((i) => data[i]!.label);
    const ss = idx.map((i) => scores[i]!);
    console.log(
      `${label.padEnd(10)} ${ds.padEnd(12)} balanced_acc@0.5=${balancedAccuracy(ys, ss.map((s) => s >= 0.5)).toFixed(3)} auroc=${auroc(ys, ss).toFixed(3)}`,
    );
  }
}

const L2 = Number(process.env.L2 ?? '0.001');
const data = [...items('halueval-qa', loadRows('halueval-qa')), ...items('faithbench', loadRows('faithbench'))];

const full = train(data, L2);
report('in-sample', data, data.map((it) => exchangeScore(full, it)));

const K = 5;
/** Fold assignments to average over (REPEATS=3 by default): one split's figure swings by ±0.02. */
const REPEATS = Number(process.env.REPEATS ?? '3');
const repeated: Record<string, number[]> = {};
for (let rep = 0; rep < REPEATS; rep++) {
  const cvScores = new Array<number>(data.length).fill(0);
  const foldOf = (it: Item): number => hash(`${rep}:${it.group}`) % K;
  for (let k = 0; k < K; k++) {
    const m = train(data.filter((it) => foldOf(it) !== k), L2);
    data.forEach((it, i) => {
      if (foldOf(it) === k) cvScores[i] = exchangeScore(m, it);
    });
  }
  for (const ds of ['halueval-qa', 'faithbench']) {
    const idx = data.map((it, i) => (it.dataset === ds ? i : -1)).filter((i) => i >= 0);
    const ys = idx.map((i) => data[i]!.label);
    const ss = idx.map((i) => cvScores[i]!);
    (repeated[`${ds} balanced_acc`] ??= []).push(balancedAccuracy(ys, ss.map((x) => x >= 0.5)));
    (repeated[`${ds} auroc`] ??= []).push(auroc(ys, ss));
  }
  if (rep === 0) report(`cv-${K}fold`, data, cvScores);
}
for (const [k, v] of Object.entries(repeated)) {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  console.log(`cv-${K}fold x${REPEATS} ${k} mean=${mean.toFixed(3)} min=${Math.min(...v).toFixed(3)} max=${Math.max(...v).toFixed(3)}`);
}

console.log('weights', FEATURE_NAMES.map((n, i) => `${n}=${full.weights[i]!.toFixed(3)}`).join(' '));
console.log(`bias=${full.bias.toFixed(3)} a=${full.a.toFixed(3)} a2=${full.a2.toFixed(3)} b=${full.b.toFixed(3)} c=${full.c.toFixed(3)}`);

if (process.argv.includes('--write')) {
  // Run from the repository root: the model is written into the source tree, not next to the build.
  const target = path.resolve(process.cwd(), 'src/detect/models/grounding.ts');
  const r = (x: number): number => Math.round(x * 10000) / 10000;
  const body = `/**
 * Logistic scorer over the claim features of grounding.ts (FEATURE_NAMES order).
 * Written by src/detect/train/train-grounding.ts (L2=${L2}) from the HaluEval-QA and FaithBench dev
 * rows; do not edit by hand, re-run the script.
 */
export const GROUNDING_MODEL = {
  features: ${JSON.stringify(FEATURE_NAMES)},
  weights: ${JSON.stringify(full.weights.map(r))},
  bias: ${r(full.bias)},
  /** Exchange score = sigmoid(a * top claim logit + a2 * second claim logit + c * ln(claim count) + b). */
  exchange: { a: ${r(full.a)}, a2: ${r(full.a2)}, b: ${r(full.b)}, c: ${r(full.c)} },
  trainedOn: 'dev-v1',
};
`;
  writeFileSync(target, body);
  console.log(`wrote ${target}`);
}
