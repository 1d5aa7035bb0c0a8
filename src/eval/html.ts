import type { CalibrationBin } from './metrics.js';
import { REFUSAL_KINDS, type EvalReport, type GroupFigures } from './score.js';
import { binLabel, claimBucketRows, fmt, hardCaseRows, modelRateRows, thresholds } from './summary.js';

/** A self-contained HTML page of an eval report: inline CSS and SVG, no scripts, no external assets. */

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

function htmlTable(header: string[], rows: string[][], caption?: string): string {
  const th = header.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c, i) => (i === 0 ? `<th scope="row">${escapeHtml(c)}</th>` : `<td>${escapeHtml(c)}</td>`)).join('')}</tr>`).join('\n');
  return `<table>${caption ? `<caption>${escapeHtml(caption)}</caption>` : ''}<thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/**
 * Reliability diagram: per score bin, a bar of the observed positive rate at the bin's position,
 * a dot at the bin's mean score, and the diagonal a calibrated detector would follow.
 */
export function reliabilitySvg(bins: readonly CalibrationBin[], title = 'Reliability diagram'): string {
  const size = 320;
  const pad = { left: 48, right: 16, top: 28, bottom: 44 };
  const w = size - pad.left - pad.right;
  const h = size - pad.top - pad.bottom;
  const x = (v: number) => pad.left + v * w;
  const y = (v: number) => pad.top + (1 - v) * h;
  const n = (v: number) => v.toFixed(1);
  const total = bins.reduce((s, b) => s + b.count, 0);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${size} ${size}" width="${size}" height="${size}" role="img" aria-labelledby="rd-title">`);
  parts.push(`<title id="rd-title">${escapeHtml(title)}</title>`);
  parts.push(`<text x="${size / 2}" y="16" text-anchor="middle" class="t">${escapeHtml(title)}</text>`);
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<line x1="${n(x(0))}" y1="${n(y(t))}" x2="${n(x(1))}" y2="${n(y(t))}" class="grid"/>`);
    parts.push(`<text x="${pad.left - 6}" y="${n(y(t) + 4)}" text-anchor="end">${t}</text>`);
    parts.push(`<text x="${n(x(t))}" y="${pad.top + h + 16}" text-anchor="middle">${t}</text>`);
  }
  for (const b of bins) {
    if (b.count === 0 || b.observedRate === null || b.meanScore === null) continue;
    const bx = x(b.lo) + 1;
    const bw = x(b.hi) - x(b.lo) - 2;
    const tip = `${binLabel(b)}: ${b.count} rows, mean score ${fmt(b.meanScore)}, observed ${fmt(b.observedRate)}`;
    parts.push(
      `<rect x="${n(bx)}" y="${n(y(b.observedRate))}" width="${n(bw)}" height="${n(y(0) - y(b.observedRate))}" class="bar" style="opacity:${n(0.35 + (0.65 * b.count) / Math.max(1, total))}"><title>${escapeHtml(tip)}</title></rect>`,
    );
    parts.push(`<circle cx="${n(x(b.meanScore))}" cy="${n(y(b.observedRate))}" r="3" class="dot"><title>${escapeHtml(tip)}</title></circle>`);
  }
  parts.push(`<line x1="${n(x(0))}" y1="${n(y(0))}" x2="${n(x(1))}" y2="${n(y(1))}" class="diag"/>`);
  parts.push(`<rect x="${pad.left}" y="${pad.top}" width="${w}" height="${h}" class="frame"/>`);
  parts.push(`<text x="${n(x(0.5))}" y="${size - 8}" text-anchor="middle">predicted score</text>`);
  parts.push(`<text x="12" y="${n(y(0.5))}" text-anchor="middle" transform="rotate(-90 12 ${n(y(0.5))})">observed rate</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

function groupTable(field: string, groups: Record<string, GroupFigures>, pick: 'hallucination' | 'refusal'): string {
  const rows: string[][] = [];
  for (const [name, g] of Object.entries(groups)) {
    const f = g[pick];
    if (!f) continue;
    const last = 'ece' in f ? fmt(f.ece) : fmt(f.kinds.accuracy);
    rows.push([name, String(f.rows), String(f.positives), fmt(f.precision), fmt(f.recall), fmt(f.f1), fmt(f.balancedAccuracy), fmt(f.auroc), last]);
  }
  if (rows.length === 0) return '';
  const lastHeader = pick === 'hallucination' ? 'ECE' : '3-class acc';
  return `<h3>${pick === 'hallucination' ? 'Hallucination' : 'Refusal'} by ${escapeHtml(field)}</h3>\n${htmlTable([field, 'rows', 'positives', 'precision', 'recall', 'F1', 'balanced acc', 'AUROC', lastHeader], rows)}`;
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1b1f24}
h1{font-size:1.4rem}h2{margin-top:2rem;border-bottom:1px solid #d0d7de}h3{font-size:1rem;margin-top:1.5rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{padding:.25rem .6rem;border-bottom:1px solid #eaeef2;text-align:right}
thead th{border-bottom:2px solid #d0d7de}tbody th{text-align:left;font-weight:500}caption{text-align:left;color:#57606a;padding-bottom:.25rem}
.flex{display:flex;flex-wrap:wrap;gap:2rem;align-items:flex-start}.muted{color:#57606a}
svg text{font-size:11px;fill:#57606a}svg .t{font-size:13px;fill:#1b1f24}
svg .grid{stroke:#eaeef2}svg .frame{fill:none;stroke:#8c959f}svg .diag{stroke:#8c959f;stroke-dasharray:4 3}
svg .bar{fill:#0969da}svg .dot{fill:#cf222e}
`;

export function reportHtml(report: EvalReport, generatedAt = new Date()): string {
  const sections: string[] = [];
  const h = report.hallucination;
  if (h) {
    const c = h.confusion;
    sections.push(`<h2>Hallucination</h2>
<p>${h.rows} rows, ${h.positives} labelled hallucinated. Flagged: ${c.tp} true positives, ${c.fp} false positives, ${c.fn} missed, ${c.tn} true negatives.</p>
${htmlTable(['', 'precision', 'recall', 'F1', 'accuracy', 'balanced acc', 'AUROC', 'ECE'], [['all rows', fmt(h.precision), fmt(h.recall), fmt(h.f1), fmt(h.accuracy), fmt(h.balancedAccuracy), fmt(h.auroc), fmt(h.ece)]])}
<div class="flex">
${reliabilitySvg(h.calibration ?? [], 'Reliability of the hallucination score')}
${htmlTable(['score bin', 'rows', 'mean score', 'observed rate'], (h.calibration ?? []).map((b) => [binLabel(b), String(b.count), fmt(b.meanScore), fmt(b.observedRate)]), 'Calibration, 10 equal-width bins')}
</div>
${h.thresholds ? htmlTable(['threshold', 'precision', 'recall', 'F1', 'balanced acc'], h.thresholds.map((p) => [`score ≥ ${p.threshold.toFixed(1)}`, fmt(p.precision), fmt(p.recall), fmt(p.f1), fmt(p.balancedAccuracy)]), 'Flagging at other thresholds') : ''}
${report.spans ? htmlTable(['', 'rows', 'spans', 'found', 'recall', 'unsupported claims', 'on a span', 'precision'], [['annotated spans', String(report.spans.rows), String(report.spans.spans), String(report.spans.spansFound), fmt(report.spans.recall), String(report.spans.claimsFlagged), String(report.spans.claimsOnSpan), fmt(report.spans.precision)]], 'Unsupported or contradicted claims against human-annotated spans') : ''}
<p class="muted">Bars: share of rows labelled hallucinated in each score bin; dots: the bin's mean score. A calibrated score keeps both on the dashed diagonal.</p>
${report.claimBuckets && report.claimBuckets.length > 0 ? htmlTable(['claims', 'faithful', 'false positives', 'FP rate', 'hallucinated', 'detected', 'detection rate'], claimBucketRows(report), 'By number of claims in the answer: false alarms on faithful answers should not climb with length') : ''}
${report.modelRates ? `${htmlTable(['model', 'grounded rows', 'estimated rate', 'observed rate', 'error'], modelRateRows(report), 'Per answering model: estimated rate (mean score) vs observed (labels)')}
<p>Across ${report.modelRates.models.length} model${report.modelRates.models.length === 1 ? '' : 's'}: Spearman ${fmt(report.modelRates.spearman)}${report.modelRates.models.length < 3 ? ' (needs 3 models)' : ''}, mean absolute error ${fmt(report.modelRates.meanAbsoluteError)}.</p>` : ''}
${report.hardCases ? `${htmlTable(['kind', 'edit', 'rows', 'labelled hallucinated', 'flagged', 'share flagged', 'mean score'], hardCaseRows(report), 'Hard cases: a paraphrase should not be flagged, an edit should')}
<p>Within a pair (same passage), a hallucinated row scored above a faithful one in ${fmt(report.hardCases.pairs.hallucinatedAbove)} of ${report.hardCases.pairs.couples} couples over ${report.hardCases.pairs.pairs} pairs (ties count ½).</p>` : ''}`);
  }
  const r = report.refusal;
  if (r) {
    sections.push(`<h2>Refusal</h2>
<p>${r.rows} rows, ${r.positives} labelled refusal (full or partial).</p>
${htmlTable(['', 'precision', 'recall', 'F1', 'balanced acc', 'AUROC', '3-class acc'], [['all rows', fmt(r.precision), fmt(r.recall), fmt(r.f1), fmt(r.balancedAccuracy), fmt(r.auroc), fmt(r.kinds.accuracy)]])}
${r.kinds.rows > 0 ? htmlTable(['expected \\ predicted', ...REFUSAL_KINDS], REFUSAL_KINDS.map((a) => [a, ...REFUSAL_KINDS.map((p) => String(r.kinds.matrix[a][p]))]), `Refusal kind confusion matrix, ${r.kinds.rows} rows`) : ''}`);
  }
  const breakdowns: string[] = [];
  for (const [field, groups] of Object.entries(report.by)) {
    breakdowns.push(groupTable(field, groups, 'hallucination'), groupTable(field, groups, 'refusal'));
  }
  if (breakdowns.some((b) => b !== '')) sections.push(`<h2>Breakdowns</h2>\n${breakdowns.filter((b) => b !== '').join('\n')}`);
  if (report.failures.length > 0) {
    sections.push(`<h2>Failed lines</h2>
${htmlTable(['line', 'id', 'error'], report.failures.map((f) => [String(f.line), f.id ?? '', f.error]), `First ${report.failures.length} of ${report.errors}`)}`);
  }
  if (!h && !r) sections.push('<p>No row carried a hallucination or refusal label: nothing to score.</p>');

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Veracity eval: ${escapeHtml(report.input)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Veracity eval: ${escapeHtml(report.input)}</h1>
<p class="muted">${report.lines} rows, ${report.judged} judged, ${report.errors} failed, ${report.unlabelled} without labels${report.elapsedMs === undefined ? '' : ` in ${(report.elapsedMs / 1000).toFixed(1)} s`}. Generated ${escapeHtml(generatedAt.toISOString())}.</p>
${report.config ? `<p class="muted">Config ${escapeHtml(report.config.file)}: ${escapeHtml(thresholds(report.config.detect))}.</p>` : ''}
${Object.keys(report.provenance).length > 0 ? `<p class="muted">Detectors: ${escapeHtml(Object.entries(report.provenance).map(([k, v]) => `${k} (${v})`).join(', '))}.</p>` : ''}
${sections.join('\n')}
</body>
</html>
`;
}
