import { escapeHtml } from '../eval/html.js';
import type { CalibrationBin } from './estimators.js';
import { htmlTable as table, pct } from './format.js';
import type { VerifiedComparison, VerifiedRate } from './verified.js';

/** The verified rates and the calibration curves, as report sections: a table and inline SVG. */

const n1 = (v: number) => v.toFixed(1);

export function formatVerified(v: { rate: number | null; ci95: { lo: number; hi: number } | null } | undefined): string {
  if (!v || v.rate === null || v.ci95 === null) return '—';
  return `${pct(v.rate)} [${pct(v.ci95.lo)}–${pct(v.ci95.hi)}]`;
}

/**
 * A calibration curve: bins' mean x against their labelled rate, each with its Wilson 95% interval
 * and its count, over the line a perfect calibration would follow (`ideal`).
 */
export function calibrationSvg(bins: CalibrationBin[], options: { title: string; xLabel: string; yLabel: string; ideal: 'rising' | 'falling' }): string {
  const size = { w: 360, h: 280 };
  const pad = { left: 52, right: 14, top: 30, bottom: 44 };
  const w = size.w - pad.left - pad.right;
  const h = size.h - pad.top - pad.bottom;
  const x = (v: number) => pad.left + v * w;
  const y = (v: number) => pad.top + (1 - v) * h;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${size.w} ${size.h}" width="${size.w}" height="${size.h}" role="img" class="calibration">`,
    `<title>${escapeHtml(options.title)}</title>`,
    `<text x="${size.w / 2}" y="16" text-anchor="middle" class="t">${escapeHtml(options.title)}</text>`,
  ];
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<line x1="${x(0)}" y1="${n1(y(t))}" x2="${x(1)}" y2="${n1(y(t))}" class="grid"/>`);
    parts.push(`<text x="${pad.left - 6}" y="${n1(y(t) + 4)}" text-anchor="end">${pct(t, 0)}</text>`);
    parts.push(`<text x="${n1(x(t))}" y="${pad.top + h + 16}" text-anchor="middle">${t}</text>`);
  }
  const [y0, y1] = options.ideal === 'rising' ? [0, 1] : [1, 0];
  parts.push(`<line x1="${x(0)}" y1="${n1(y(y0))}" x2="${x(1)}" y2="${n1(y(y1))}" class="ideal"><title>perfect calibration</title></line>`);
  for (const b of bins) {
    const tip = `${options.xLabel} ${b.lo.toFixed(1)}–${b.hi.toFixed(1)}: ${b.n} labelled, ${pct(b.rate)} hallucinated [${pct(b.ci95.lo)}–${pct(b.ci95.hi)}]`;
    parts.push(`<line x1="${n1(x(b.meanX))}" y1="${n1(y(b.ci95.lo))}" x2="${n1(x(b.meanX))}" y2="${n1(y(b.ci95.hi))}" class="ci"><title>${escapeHtml(tip)}</title></line>`);
  }
  const pts = bins.map((b) => `${n1(x(b.meanX))},${n1(y(b.rate))}`);
  if (pts.length > 1) parts.push(`<polyline points="${pts.join(' ')}" class="curve"/>`);
  for (const b of bins) {
    parts.push(`<circle cx="${n1(x(b.meanX))}" cy="${n1(y(b.rate))}" r="${Math.min(9, 3 + Math.sqrt(b.n))}" class="dot"><title>${escapeHtml(`${b.n} labelled, ${pct(b.rate)}`)}</title></circle>`);
    parts.push(`<text x="${n1(x(b.meanX) + 6)}" y="${n1(y(b.rate) - 6)}" class="n">${b.n}</text>`);
  }
  if (bins.length === 0) parts.push(`<text x="${size.w / 2}" y="${pad.top + h / 2}" text-anchor="middle">no labels yet</text>`);
  parts.push(`<text x="${x(0.5)}" y="${size.h - 8}" text-anchor="middle">${escapeHtml(options.xLabel)}</text>`);
  parts.push(`<text x="14" y="${pad.top + h / 2}" text-anchor="middle" transform="rotate(-90 14 ${pad.top + h / 2})">${escapeHtml(options.yLabel)}</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

export const VERIFIED_STYLE = `
svg .ideal { stroke: #9aa3b2; stroke-dasharray: 4 3; } svg.calibration .ci { stroke-width: 2; } svg .n { fill: #5b6475; font-size: 10px; }
`;

export const WHY_RANDOM =
  'Only labels of exchanges drawn uniformly at random (selection "random", as the review queue draws them) enter a verified rate. ' +
  'Feedback labels, given to exchanges someone chose (a complaint, a flagged answer), are counted and shown but never estimated from: ' +
  'a sample chosen for looking wrong overstates the rate, and nothing can tell by how much.';

interface Row {
  provider: string;
  model: string;
  checks: number;
  hallucination: { rate: number | null };
  estimated: { rate: number | null };
  verified?: VerifiedRate;
  verifiedJudge?: VerifiedRate;
}

/** Says whose labels an estimate came from, where it was not people's. */
const fromJudge = (v: VerifiedRate) => (v.by === 'judge' ? ` (judge's labels: ${(v.judges ?? []).join(', ')})` : '');

/** How often the judge agreed with people on exchanges both labelled. */
export function agreementText(v: VerifiedRate | undefined): string {
  const a = v?.agreement;
  if (!a || a.both === 0) return 'no exchange labelled by both';
  return `${a.agree} of ${a.both} (${pct(a.agree / a.both)})`;
}

export const JUDGE_APART =
  'Labels by a judge model (by "judge:<model>") are kept apart from people\'s: the verified rate uses people\'s random labels, ' +
  'a judge\'s only where people gave fewer than 2, and then says so; the judge-labelled estimate comes from the judge\'s random labels alone.';

/** The report's section on verified rates; empty when no model has one computed (no Redis). */
export function verifiedHtml(models: Row[]): string {
  const withV = models.filter((m) => m.verified);
  if (withV.length === 0) return '';
  const name = (m: Row) => `${m.provider}/${m.model}`;
  const anyJudge = withV.some((m) => m.verifiedJudge);
  const anyRefusal = withV.some((m) => m.verified!.refusal);
  const rows = withV.map((m) => {
    const v = m.verified!;
    return [
      name(m),
      String(m.checks),
      pct(m.hallucination.rate),
      pct(m.estimated.rate),
      v.rate === null ? `— (${v.note ?? 'no estimate'})` : `${formatVerified(v)}${fromJudge(v)}`,
      `${v.labels}${v.by === 'judge' ? ' (judge)' : ''}`,
      String(v.feedback),
      formatVerified(v.labelled),
      v.narrowing === null ? '—' : `${(v.narrowing * 100).toFixed(2)} pts`,
      ...(anyJudge ? [m.verifiedJudge ? `${formatVerified(m.verifiedJudge)} (${m.verifiedJudge.labels})` : '—', m.verifiedJudge ? agreementText(m.verifiedJudge) : '—'] : []),
      ...(anyRefusal ? [v.refusal ? `${formatVerified(v.refusal)} (${v.refusal.labels})` : '—'] : []),
    ];
  });
  const curves = withV
    .filter((m) => m.verified!.labels > 0)
    .map(
      (m) => `<div class="curves"><h3>${escapeHtml(name(m) + fromJudge(m.verified!))}</h3>
${calibrationSvg(m.verified!.calibration.reliability, { title: 'Detector reliability', xLabel: 'hallucination score', yLabel: 'labelled hallucinated', ideal: 'rising' })}
${calibrationSvg(m.verified!.calibration.certainty, { title: 'Model certainty vs wrongness', xLabel: 'claim certainty (hedged → assertive)', yLabel: 'labelled hallucinated', ideal: 'falling' })}
</div>`,
    )
    .join('\n');
  return `<h2>Verified hallucination rates (from labels)</h2>
<p class="note">Prediction-powered estimate (PPI++, Angelopoulos et al. 2023): every check's score, corrected by a uniformly random labelled
sample, with its 95% interval. Unbiased whatever the detector's errors; the better the detector, the narrower the interval.
${escapeHtml(WHY_RANDOM)}${anyJudge ? ` ${escapeHtml(JUDGE_APART)}` : ''}</p>
<div class="wide">${table(
    [
      'model',
      'checks',
      'flagged',
      'estimated (grounded)',
      'verified [95% CI]',
      'random labels',
      'feedback labels (not used)',
      'labels alone [Wilson]',
      'one more label narrows by',
      ...(anyJudge ? ['judge-labelled estimate (labels)', 'judge agrees with people'] : []),
      ...(anyRefusal ? ['verified refusal rate'] : []),
    ],
    rows,
  )}</div>
${curves ? `<h2>Calibration from labels</h2>
<p class="note">Left: the detector's reliability diagram, score bins against the share labelled hallucinated (on the dashed line the score is a calibrated probability).
Right: the model's own calibration, how sure its wording sounded (claim certainty) against how often it was wrong: a well-calibrated model is wrong less often the surer it sounds.
Dots: bins (size and number: labels), bars: Wilson 95% intervals. From random labels only: people's, or a judge's where the heading says so.</p>
${curves}` : ''}
`;
}

const signedPts = (d: number) => `${d >= 0 ? '+' : '−'}${(Math.abs(d) * 100).toFixed(1)} pts`;

/** `report --compare`'s verified lines, for the terminal. */
export function verifiedCompareText(v: VerifiedComparison): string[] {
  const one = (s: VerifiedComparison['a']) => [
    `  ${s.provider}/${s.model}: ${s.verified.rate === null ? `no estimate (${s.verified.note ?? 'too few labels'})` : `${formatVerified(s.verified)}${fromJudge(s.verified)}`} from ${s.verified.labels} random labels and ${s.verified.checks} checks${s.verified.feedback ? ` (${s.verified.feedback} feedback labels not used)` : ''}`,
    ...(s.verifiedJudge ? [`    judge-labelled, apart: ${formatVerified(s.verifiedJudge)} from ${s.verifiedJudge.labels} judge labels; agrees with people on ${agreementText(s.verifiedJudge)}`] : []),
  ];
  const d = v.difference;
  return [
    '',
    'Verified hallucination rates (PPI++, from random labels and every check\'s score; all traffic of each model, not only shared prompts):',
    ...one(v.a),
    ...one(v.b),
    d ? `  A − B${d.by === 'judge' ? " (judge's labels)" : ''}: ${signedPts(d.difference)} [${signedPts(d.ci95.lo)}, ${signedPts(d.ci95.hi)}]${d.ci95.lo > 0 || d.ci95.hi < 0 ? ' (the interval excludes 0)' : ' (the interval includes 0: no difference shown)'}` : '  A − B: needs an estimate for both models from the same kind of labels (people\'s, or else a judge\'s)',
  ];
}

export function verifiedCompareHtml(v: VerifiedComparison): string {
  const d = v.difference;
  const anyJudge = Boolean(v.a.verifiedJudge || v.b.verifiedJudge);
  const rows = [v.a, v.b].map((s) => [
    `${s.provider}/${s.model}`,
    `${formatVerified(s.verified)}${fromJudge(s.verified)}`,
    String(s.verified.labels),
    String(s.verified.feedback),
    String(s.verified.checks),
    ...(anyJudge ? [s.verifiedJudge ? `${formatVerified(s.verifiedJudge)} (${s.verifiedJudge.labels})` : '—'] : []),
  ]);
  return `<h2>Verified hallucination rates (from labels)</h2>
<p class="note">Each model's PPI++ estimate from its own uniformly random labels and every check's score, over all its traffic in the window
(not only the shared prompts). ${escapeHtml(WHY_RANDOM)}${anyJudge ? ` ${escapeHtml(JUDGE_APART)}` : ''}</p>
${table(['model', 'verified [95% CI]', 'random labels', 'feedback labels (not used)', 'checks', ...(anyJudge ? ['judge-labelled estimate (labels)'] : [])], rows)}
<p><b>A − B${d?.by === 'judge' ? " (judge's labels)" : ''}:</b> ${d ? `${escapeHtml(signedPts(d.difference))} [${escapeHtml(signedPts(d.ci95.lo))}, ${escapeHtml(signedPts(d.ci95.hi))}] (95% interval; independent samples, variances add)` : 'needs an estimate for both models'}</p>
`;
}
