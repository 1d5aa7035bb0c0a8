import { escapeHtml } from '../eval/html.js';
import type { ModelFigures, RateFigure, ScoreBin } from './figures.js';
import { ESTIMATED_TEXT, FAILURE_MODE_TEXT, FLAGGED_TEXT, METHOD_LABEL, formatRate, htmlTable as table, PAGE_STYLE, pct } from './format.js';
import type { ReliabilityReport } from './types.js';
import { VERIFIED_STYLE, verifiedHtml } from './verified-html.js';

/** The reliability report as one self-contained HTML page: inline CSS and SVG, no scripts. */

const n1 = (v: number) => v.toFixed(1);

const label = (m: ModelFigures) => `${m.provider}/${m.model}`;

/** One row per model: the hallucination rate as a dot, its Wilson 95% interval as a whisker. */
export function forestSvg(models: ModelFigures[], pick: (m: ModelFigures) => RateFigure, title: string): string {
  const rows = models.filter((m) => pick(m).rate !== null);
  const rowH = 22;
  const pad = { left: 220, right: 90, top: 34, bottom: 34 };
  const w = 460;
  const width = pad.left + w + pad.right;
  const height = pad.top + Math.max(1, rows.length) * rowH + pad.bottom;
  const top = Math.max(0.01, ...rows.map((m) => pick(m).ci95!.hi));
  const step = [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25].find((s) => top / s <= 5) ?? 0.25;
  const max = Math.min(1, Math.ceil(top / step - 1e-9) * step);
  const x = (v: number) => pad.left + (Math.min(v, max) / max) * w;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img">`,
    `<title>${escapeHtml(title)}</title>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" class="t">${escapeHtml(title)}</text>`,
  ];
  for (let v = 0; v <= max + 1e-9; v += step) {
    parts.push(`<line x1="${n1(x(v))}" y1="${pad.top - 4}" x2="${n1(x(v))}" y2="${height - pad.bottom}" class="grid"/>`);
    parts.push(`<text x="${n1(x(v))}" y="${height - pad.bottom + 16}" text-anchor="middle">${pct(v, step < 0.01 ? 1 : 0)}</text>`);
  }
  rows.forEach((m, i) => {
    const f = pick(m);
    const y = pad.top + i * rowH + rowH / 2;
    const tip = `${label(m)}: ${formatRate(f)}`;
    parts.push(`<text x="${pad.left - 8}" y="${y + 4}" text-anchor="end">${escapeHtml(label(m))}</text>`);
    parts.push(`<line x1="${n1(x(f.ci95!.lo))}" y1="${y}" x2="${n1(x(f.ci95!.hi))}" y2="${y}" class="ci"><title>${escapeHtml(tip)}</title></line>`);
    parts.push(`<circle cx="${n1(x(f.rate!))}" cy="${y}" r="4" class="dot"><title>${escapeHtml(tip)}</title></circle>`);
    parts.push(`<text x="${pad.left + w + 8}" y="${y + 4}">${pct(f.rate)}</text>`);
  });
  if (rows.length === 0) parts.push(`<text x="${width / 2}" y="${pad.top + 14}" text-anchor="middle">no checks in the window</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

/** Score distribution as bars, and the flag rate a threshold at each bin's lower edge would give. */
export function scoresSvg(bins: ScoreBin[], title: string): string {
  const size = { w: 420, h: 260 };
  const pad = { left: 48, right: 16, top: 30, bottom: 40 };
  const w = size.w - pad.left - pad.right;
  const h = size.h - pad.top - pad.bottom;
  const finite = bins.filter((b) => b.hi <= 1);
  const x = (v: number) => pad.left + v * w;
  const y = (v: number) => pad.top + (1 - v) * h;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${size.w} ${size.h}" width="${size.w}" height="${size.h}" role="img">`,
    `<title>${escapeHtml(title)}</title>`,
    `<text x="${size.w / 2}" y="16" text-anchor="middle" class="t">${escapeHtml(title)}</text>`,
  ];
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<line x1="${x(0)}" y1="${n1(y(t))}" x2="${x(1)}" y2="${n1(y(t))}" class="grid"/>`);
    parts.push(`<text x="${pad.left - 6}" y="${n1(y(t) + 4)}" text-anchor="end">${pct(t, 0)}</text>`);
    parts.push(`<text x="${n1(x(t))}" y="${pad.top + h + 16}" text-anchor="middle">${t}</text>`);
  }
  for (const b of finite) {
    if (b.share === null) continue;
    const tip = `score (${b.lo}, ${b.hi}]: ${b.count} exchanges, ${pct(b.share)}; above ${b.lo}: ${pct(b.above)}`;
    parts.push(`<rect x="${n1(x(b.lo) + 1)}" y="${n1(y(b.share))}" width="${n1(x(b.hi) - x(b.lo) - 2)}" height="${n1(y(0) - y(b.share))}" class="bar"><title>${escapeHtml(tip)}</title></rect>`);
  }
  const curve = finite.filter((b) => b.above !== null).map((b) => `${n1(x(b.lo))},${n1(y(b.above!))}`);
  if (curve.length) parts.push(`<polyline points="${curve.join(' ')}" class="curve"/>`);
  parts.push(`<text x="${x(0.5)}" y="${size.h - 6}" text-anchor="middle">hallucination score</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

function examplesHtml(report: ReliabilityReport): string {
  if (!report.examples) return '';
  const sections = Object.entries(report.examples).map(([model, list]) => {
    const items = list
      .map((e) => {
        const claims = e.claims
          .map((c) => `<li><span class="tag ${escapeHtml(c.support)}">${escapeHtml(c.support)} ${c.score.toFixed(2)}</span> ${c.text ? escapeHtml(c.text) : '<i>text not stored</i>'}</li>`)
          .join('');
        return `<li><code>${escapeHtml(e.id)}</code> score ${e.score.toFixed(2)}${e.analysedAt ? ` · ${escapeHtml(e.analysedAt)}` : ''}${e.app ? ` · app ${escapeHtml(e.app)}` : ''}<ul>${claims}</ul></li>`;
      })
      .join('\n');
    return `<h3>${escapeHtml(model)}</h3><ol>${items}</ol>`;
  });
  return `<h2>Worst examples</h2>
<p class="note">Each model's highest-scoring flagged exchanges in the window that are still stored, with their least supported claims.</p>
${sections.length > 0 ? sections.join('\n') : '<p class="note">No flagged exchanges stored.</p>'}`;
}

const labelOf = (report: ReliabilityReport, m: ModelFigures) => (m === report.overall ? 'all models' : label(m));

/** Estimated beside flagged, each model's failure-mode profile, and what the checks held answers against. */
function estimatesHtml(report: ReliabilityReport): string {
  const all = [report.overall, ...report.models];
  const estimateRows = all.map((m) => {
    const e = m.estimated;
    return [
      labelOf(report, m),
      String(e.checks),
      e.rate === null ? '—' : `${pct(e.rate)} [${pct(e.ci95?.lo)}–${pct(e.ci95?.hi)}] (${e.expected.toFixed(1)}/${e.checks})`,
      formatRate(e.flagged),
    ];
  });
  const modes = [...new Set(all.flatMap((m) => m.failureModes.modes.map((x) => x.mode)))];
  const profileRows = all.map((m) => {
    const p = m.failureModes;
    return [labelOf(report, m), String(p.claims), ...modes.map((mode) => {
      const f = p.modes.find((x) => x.mode === mode);
      return f && f.share !== null ? `${pct(f.share)} (${f.count})` : '—';
    })];
  });
  const methods = [...new Set(all.flatMap((m) => Object.keys(m.methods)))];
  const methodRows = all.map((m) => [labelOf(report, m), String(m.checks), ...methods.map((k) => (m.methods[k]!.of > 0 ? `${m.methods[k]!.of} · ${formatRate(m.methods[k]!)}` : '0')), String(m.sampled)]);
  return `<h2>Estimated and flagged hallucination rate (grounded checks)</h2>
<p class="note"><b>Flagged</b>: ${FLAGGED_TEXT}. <b>Estimated</b>: the ${ESTIMATED_TEXT} (the expected count is the sum of scores).
Both are over the same grounded checks (checked against the context the request carried). The estimate's interval covers sampling only,
conservatively; it holds as far as the scores are calibrated (<code>veracity eval</code> checks calibration per dev source). Exchanges without
context are left out of both: their score is a prior, not evidence.</p>
<div class="wide">${table(['model', 'grounded checks', 'estimated rate (mean score)', 'flagged rate (over threshold)'], estimateRows)}</div>

<h2>Failure-mode profile</h2>
<p class="note">How each model's unsupported or contradicted claims fail, among claims checked against context or resampled answers:
${FAILURE_MODE_TEXT}. Each cell: share of the model's checked unsupported claims (count).</p>
<div class="wide">${table(['model', 'unsupported claims checked', ...modes], profileRows)}</div>

<h2>What the answers were checked against</h2>
<p class="note">Checks per method, each with the flagged hallucination rate among them: <b>context</b> (the request carried context),
<b>samples</b> (no context; held against resampled and shadow answers), <b>nothing</b> (no context and not sampled: a prior score, never flagged).
The last column counts checks held against at least one sampled answer, with or without context.</p>
<div class="wide">${table(['model', 'checks', ...methods.map((k) => `against ${METHOD_LABEL[k] ?? k}`), 'sampled'], methodRows)}</div>
`;
}

/** Tool calls checked per model and how many failed, by failure mode. */
function toolCallsHtml(report: ReliabilityReport): string {
  const all = [report.overall, ...report.models];
  if (report.overall.toolCalls.checked === 0) {
    return `<h2>Tool calls</h2>\n<p class="note">No tool calls were checked in this window.</p>\n`;
  }
  const modes = [...new Set(all.flatMap((m) => Object.keys(m.toolCalls.modes)))];
  const rows = all.map((m) => [labelOf(report, m), String(m.toolCalls.checked), formatRate(m.toolCalls.failed), ...modes.map((k) => (m.toolCalls.modes[k] ? formatRate(m.toolCalls.modes[k]!) : '—'))]);
  return `<h2>Tool calls</h2>
<p class="note">Complete tool calls in the answers, each held to the tools its request declared: the name must be declared, the arguments
valid JSON that meets the tool's JSON Schema. <b>tool_name</b>: not a declared tool; <b>tool_arguments</b>: invalid JSON or a schema violation.
Each rate is over the calls checked.</p>
<div class="wide">${table(['model', 'tool calls checked', 'failed', ...modes], rows)}</div>
`;
}

function sourceLabel(report: ReliabilityReport): string {
  if (report.source?.kind === 'redis') return `Redis aggregates (${report.source.location})`;
  return `Prometheus ${report.prometheus}`;
}

export function reportHtml(report: ReliabilityReport, generatedAt = new Date()): string {
  const all = [report.overall, ...report.models];
  const kinds = [...new Set(all.flatMap((m) => Object.keys(m.refusalByKind)))].sort();
  const rateRows = all.map((m) => [
    m === report.overall ? 'all models' : label(m),
    String(m.checks),
    pct(m.grounded.rate),
    formatRate(m.hallucination),
    formatRate(m.unsupportedClaims),
    formatRate(m.confidenceMismatch),
    formatRate(m.refusal),
    ...kinds.map((k) => (m.refusalByKind[k] ? formatRate(m.refusalByKind[k]!) : '—')),
  ]);
  const binHeader = report.overall.scores.filter((b) => b.hi <= 1).map((b) => `(${b.lo}, ${b.hi}]`);
  const scoreRows = all.map((m) => [
    m === report.overall ? 'all models' : label(m),
    ...report.overall.scores.filter((b) => b.hi <= 1).map((ref) => {
      const b = m.scores.find((s) => s.lo === ref.lo && s.hi === ref.hi);
      return b ? pct(b.share) : '—';
    }),
  ]);
  const evaluated = new Date(report.evaluatedAt * 1000).toISOString();
  const o = report.overall;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Veracity reliability report — last ${escapeHtml(report.since)}</title>
<style>
${PAGE_STYLE}
.cards { display: flex; gap: 1rem; flex-wrap: wrap; margin: 1rem 0; }
.card { border: 1px solid #d7dbe3; border-radius: 6px; padding: .6rem 1rem; min-width: 170px; }
.card b { display: block; font-size: 1.4rem; }
svg .bar { fill: #3b6fd6; opacity: .75; } svg .curve { fill: none; stroke: #c2410c; stroke-width: 2; }
${VERIFIED_STYLE}</style>
</head>
<body>
<h1>Veracity reliability report</h1>
<p class="meta">Window: last ${escapeHtml(report.since)} up to ${escapeHtml(evaluated)} · source: ${escapeHtml(sourceLabel(report))} · generated ${escapeHtml(generatedAt.toISOString())}</p>
<div class="cards">
<div class="card">checks<b>${o.checks}</b></div>
<div class="card">models<b>${report.models.length}</b></div>
<div class="card">flagged hallucination rate<b>${pct(o.hallucination.rate)}</b>${o.hallucination.ci95 ? `95% CI ${pct(o.hallucination.ci95.lo)}–${pct(o.hallucination.ci95.hi)}` : ''}</div>
<div class="card">estimated rate, grounded<b>${pct(o.estimated.rate)}</b>mean calibrated score of ${o.estimated.checks} checks</div>
<div class="card">unsupported claims<b>${pct(o.unsupportedClaims.rate)}</b>of ${o.unsupportedClaims.of} claims</div>
<div class="card">refusals<b>${pct(o.refusal.rate)}</b></div>
</div>

<h2>Hallucination rate by model</h2>
${forestSvg(report.models, (m) => m.hallucination, 'Hallucination rate with Wilson 95% interval')}
${forestSvg(report.models, (m) => m.unsupportedClaims, 'Unsupported-claim rate with Wilson 95% interval')}

<h2>Rates by model</h2>
<p class="note">Each cell: rate [Wilson 95% interval] (events/trials). Models are ordered by hallucination rate, highest first.</p>
<div class="wide">${table(['model', 'checks', 'grounded', 'hallucination (flagged)', 'unsupported claims', 'confidence mismatch', 'refusal', ...kinds.map((k) => `refusal: ${k}`)], rateRows)}</div>

${verifiedHtml(report.models)}
${estimatesHtml(report)}
${toolCallsHtml(report)}<h2>Hallucination score distribution (calibration view)</h2>
${scoresSvg(o.scores, 'All models: hallucination score distribution')}
<p class="note">Bars: share of exchanges per score bin. Line: share of exchanges scoring above each bin's lower edge, i.e. the flag rate a threshold there would give.</p>
${table(['model', ...binHeader], scoreRows)}

${examplesHtml(report)}
<h2>Method</h2>
${report.source?.kind === 'redis' ? `<p class="note">Source: ${escapeHtml(report.source.note ?? 'aggregates in Redis')}. The counts are the sums the workers kept per model and time bucket in Redis, exact rather than extrapolated; the figures below are computed from them exactly as from Prometheus' counters.</p>` : ''}
<p class="note">Counts are <code>increase()</code> of Veracity's counters over the window, summed across every
proxy and worker instance, and rounded to whole exchanges (Prometheus extrapolates increases to the
window's edges). Every rate is a ratio of those sums: hallucinations, confidence mismatches and refusals
per analysed exchange; unsupported or contradicted claims per extracted claim. Intervals are Wilson score
intervals at 95%, which stay meaningful for small counts and for rates near 0% or 100%. The score
distribution comes from the <code>veracity_hallucination_score</code> histogram; the line gives the share of
exchanges a flag threshold at each bin edge would flag. Checking the scores against ground truth
(a reliability diagram) needs labelled data: see <code>veracity eval</code>.</p>
</body>
</html>
`;
}
