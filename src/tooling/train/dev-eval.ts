/**
 * Dev evaluation of `analyse` over the labelled dev rows.
 *
 *   node --import=./node_modules/@tapjs/typescript/dist/esm/import.mjs src/tooling/train/dev-eval.ts [--verbose]
 *   (or compiled: npm run build && node dist/tooling/train/dev-eval.js)
 *
 * Run from the repository root. --verbose lists every misclassified row with its claims.
 *
 * Data: VERACITY_DEV_DATA or ../shared/datasets/dev. Prints per-dataset balanced accuracy, F1 and
 * AUROC of `hallucination`, refusal F1 and 3-class accuracy, and exchanges/s over FaithBench.
 */
import { analyse } from '../../detect/index.js';
import { defaultDetectConfig, loadRows, type Row } from './data.js';
import { auroc, balancedAccuracy, bestThreshold, f1 } from './metrics.js';

const cfg = defaultDetectConfig();
const verbose = process.argv.includes('--verbose');

function hallucination(name: string, rows: Row[]): void {
  const labels = rows.map((r) => r.expected.hallucination === true);
  const verdicts = rows.map((r) => analyse(r.exchange, cfg));
  const scores = verdicts.map((v) => v.hallucination.score);
  const flagged = verdicts.map((v) => v.hallucination.flagged);
  const best = bestThreshold(labels, scores);
  const ungrounded = verdicts.filter((v) => !v.grounded).length;
  console.log(
    `${name.padEnd(12)} n=${rows.length} balanced_acc=${balancedAccuracy(labels, flagged).toFixed(3)} ` +
      `f1=${f1(labels, flagged).toFixed(3)} auroc=${auroc(labels, scores).toFixed(3)} ` +
      `(best threshold ${best.threshold.toFixed(3)} → ${best.balancedAccuracy.toFixed(3)}) ungrounded=${ungrounded} ` +
      `mean_score=${(scores.reduce((a, b) => a + b, 0) / scores.length).toFixed(3)} rate=${(labels.filter(Boolean).length / labels.length).toFixed(3)}`,
  );
  // Claim level, where spans are annotated: a claim is hallucinated when it overlaps a span.
  const claimLabels: boolean[] = [];
  const claimScores: number[] = [];
  rows.forEach((r, i) => {
    if (!Array.isArray(r.expected.spans)) return;
    for (const c of verdicts[i]!.hallucination.claims) {
      claimLabels.push(labels[i]! && r.expected.spans.some(([s, e]) => s < c.end && e > c.start));
      claimScores.push(c.score);
    }
  });
  if (claimLabels.length > 0) {
    console.log(
      `${''.padEnd(12)} claims=${claimLabels.length} claim_auroc=${auroc(claimLabels, claimScores).toFixed(3)} ` +
        `claim_balanced_acc=${balancedAccuracy(claimLabels, claimScores.map((s) => s >= cfg.claimThreshold)).toFixed(3)}`,
    );
  }
  if (verbose) {
    for (let i = 0; i < rows.length; i++) {
      if (labels[i] !== flagged[i]) {
        const v = verdicts[i]!;
        console.log(`  MISS ${rows[i]!.id} label=${labels[i]} score=${v.hallucination.score}`);
        for (const c of v.hallucination.claims) console.log(`     [${c.support} ${c.score}] ${c.text.slice(0, 140)}`);
      }
    }
  }
}

function refusal(rows: Row[]): void {
  const kinds = { compliance: 'none', partial_refusal: 'partial', full_refusal: 'full' } as const;
  const verdicts = rows.map((r) => analyse(r.exchange, cfg));
  const labels = rows.map((r) => r.expected.refusal === true);
  const flagged = verdicts.map((v) => v.refusal.flagged);
  let correct = 0;
  const confusion: Record<string, number> = {};
  for (let i = 0; i < rows.length; i++) {
    const want = kinds[rows[i]!.expected.refusal_kind ?? 'compliance'];
    const got = verdicts[i]!.refusal.kind;
    if (want === got) correct++;
    confusion[`${want}→${got}`] = (confusion[`${want}→${got}`] ?? 0) + 1;
    if (verbose && want !== got) console.log(`  MISS ${rows[i]!.id} want=${want} got=${got} | ${rows[i]!.exchange.response.text.slice(0, 200).replace(/\n/g, ' ')}`);
  }
  console.log(
    `xstest       n=${rows.length} refusal_f1=${f1(labels, flagged).toFixed(3)} ` +
      `refusal_balanced_acc=${balancedAccuracy(labels, flagged).toFixed(3)} three_class_acc=${(correct / rows.length).toFixed(3)}`,
  );
  console.log(`             confusion ${JSON.stringify(confusion)}`);
}

function throughput(rows: Row[]): void {
  for (const r of rows.slice(0, 50)) analyse(r.exchange, cfg);
  const rounds = 3;
  const t0 = process.hrtime.bigint();
  for (let k = 0; k < rounds; k++) for (const r of rows) analyse(r.exchange, cfg);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`throughput   ${((rows.length * rounds) / secs).toFixed(0)} exchanges/s (FaithBench dev rows, one core)`);
}

const halu = loadRows('halueval-qa');
const faith = loadRows('faithbench');
const qags = loadRows('qags-cnndm');
const xs = loadRows('xstest');
hallucination('halueval-qa', halu);
hallucination('faithbench', faith);
hallucination('qags-cnndm', qags);
refusal(xs);
throughput(faith);
