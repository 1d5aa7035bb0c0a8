import { escapeHtml } from '../../eval/html.js';
import { verifiedCompareHtml, verifiedCompareText } from '../verified-html.js';
import type { RateFigure } from '../figures.js';
import { formatRate, htmlTable as table, PAGE_STYLE, pct } from '../format.js';
import { MEASURES } from './pairing.js';
import { fmtP, MEASURE_NAMES, type Comparison, type Disagreement, type PairedMeasure } from './figures.js';

/** The comparison as a text table (stdout) and as one self-contained HTML page. */

const rateText = (f: RateFigure) => (f.rate === null || f.ci95 === null ? '—' : `${pct(f.rate)} [${pct(f.ci95.lo)}–${pct(f.ci95.hi)}]`);
const signed = (v: number | null) => (v === null ? '—' : `${v >= 0 ? '+' : '−'}${(Math.abs(v) * 100).toFixed(1)} pts`);
const ellipsis = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

function windowText(c: Comparison): string {
  if (c.since === null) return c.from !== null || c.to !== null ? `${c.from ?? '…'} to ${c.to ?? '…'}` : 'all verdicts in the file';
  return `last ${c.since} (${c.from ?? '…'} to ${c.to ?? '…'})`;
}

function pairingText(c: Comparison): string[] {
  const p = c.pairing;
  const lines = [
    `Prompts answered by both: ${p.prompts}${p.shadowPairs > 0 ? ` (${p.shadowPairs} as shadow pairs)` : ''}, from ${p.verdicts.a} verdicts of A and ${p.verdicts.b} of B.`,
    `Not paired (the other model did not answer that prompt): A ${p.unpaired.a}, B ${p.unpaired.b}. Set aside (a newer verdict on the same prompt counts): A ${p.setAside.a}, B ${p.setAside.b}.`,
  ];
  const extra: string[] = [];
  if (p.withoutHash.a + p.withoutHash.b > 0) extra.push(`without prompt_hash: A ${p.withoutHash.a}, B ${p.withoutHash.b}`);
  if (p.skipped > 0) extra.push(`skipped by the worker: ${p.skipped}`);
  if (p.outsideWindow > 0) extra.push(`outside the window: ${p.outsideWindow}`);
  if (p.ignored > 0) extra.push(`not verdicts: ${p.ignored}`);
  if (extra.length > 0) lines.push(`Left out: ${extra.join('; ')}.`);
  return lines;
}

function exampleLine(d: Disagreement, flagged: 'a' | 'b'): string {
  const s = d[flagged];
  const claim = s.claims.find((c) => c.text !== '') ?? s.claims[0];
  const what = s.refusalKind !== undefined ? `refusal: ${s.refusalKind}` : claim ? (claim.text ? `"${ellipsis(claim.text, 90)}"` : '(claim text not stored)') : '';
  return `  gap ${d.gap.toFixed(2)}  A ${d.a.id} ${d.a.score.toFixed(2)} · B ${d.b.id} ${d.b.score.toFixed(2)}${d.shadow ? ' (shadow pair)' : ''}  ${what}`.trimEnd();
}

export function comparisonText(c: Comparison): string {
  const header = ['measure', 'both', 'only A', 'only B', 'neither', 'A rate [95% CI]', 'B rate [95% CI]', 'A − B', 'McNemar p'];
  const rows = MEASURES.map((m) => {
    const f: PairedMeasure = c[m];
    return [MEASURE_NAMES[m], String(f.both), String(f.onlyA), String(f.onlyB), String(f.neither), rateText(f.a), rateText(f.b), signed(f.difference), fmtP(f.mcnemar.p)];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  const out = [
    `Paired comparison: A = ${c.a.provider ? `${c.a.provider}:` : ''}${c.a.name}, B = ${c.b.provider ? `${c.b.provider}:` : ''}${c.b.name}`,
    `Source: ${c.source}, ${windowText(c)}`,
    ...pairingText(c),
    '',
    line(header),
    ...rows.map(line),
    ...(c.verified ? verifiedCompareText(c.verified) : []),
  ];
  for (const m of MEASURES) {
    for (const [which, list] of [['A', c[m].examples.onlyA], ['B', c[m].examples.onlyB]] as const) {
      if (list.length === 0) continue;
      out.push('', `Largest disagreements, ${MEASURE_NAMES[m]} flagged for ${which} only:`);
      for (const d of list) out.push(exampleLine(d, which === 'A' ? 'a' : 'b'));
    }
  }
  out.push('', ...c.notes.map((n) => `- ${n}`));
  return `${out.join('\n')}\n`;
}

/** Both models' rates on one axis, each a dot with its Wilson 95% whisker. */
function ratesSvg(c: Comparison): string {
  const rowH = 20;
  const pad = { left: 170, right: 70, top: 30, bottom: 30 };
  const w = 420;
  const rows = MEASURES.flatMap((m) => [
    { label: `${MEASURE_NAMES[m]} · A`, f: c[m].a, cls: 'a' },
    { label: `${MEASURE_NAMES[m]} · B`, f: c[m].b, cls: 'b' },
  ]);
  const top = Math.max(0.01, ...rows.map((r) => r.f.ci95?.hi ?? 0));
  const step = [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25].find((s) => top / s <= 5) ?? 0.25;
  const max = Math.min(1, Math.ceil(top / step - 1e-9) * step);
  const x = (v: number) => (pad.left + (Math.min(v, max) / max) * w).toFixed(1);
  const width = pad.left + w + pad.right;
  const height = pad.top + rows.length * rowH + pad.bottom;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img">`,
    '<title>Rates on the paired prompts with Wilson 95% intervals</title>',
    `<text x="${width / 2}" y="18" text-anchor="middle" class="t">Rates on the paired prompts, Wilson 95% intervals</text>`,
  ];
  for (let v = 0; v <= max + 1e-9; v += step) {
    parts.push(`<line x1="${x(v)}" y1="${pad.top - 4}" x2="${x(v)}" y2="${height - pad.bottom}" class="grid"/>`);
    parts.push(`<text x="${x(v)}" y="${height - pad.bottom + 16}" text-anchor="middle">${pct(v, step < 0.01 ? 1 : 0)}</text>`);
  }
  rows.forEach((r, i) => {
    const y = pad.top + i * rowH + rowH / 2;
    parts.push(`<text x="${pad.left - 8}" y="${y + 4}" text-anchor="end">${escapeHtml(r.label)}</text>`);
    if (r.f.rate === null || r.f.ci95 === null) return;
    const tip = `${r.label}: ${formatRate(r.f)}`;
    parts.push(`<line x1="${x(r.f.ci95.lo)}" y1="${y}" x2="${x(r.f.ci95.hi)}" y2="${y}" class="ci ${r.cls}"><title>${escapeHtml(tip)}</title></line>`);
    parts.push(`<circle cx="${x(r.f.rate)}" cy="${y}" r="4" class="dot ${r.cls}"><title>${escapeHtml(tip)}</title></circle>`);
    parts.push(`<text x="${pad.left + w + 8}" y="${y + 4}">${pct(r.f.rate)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** How an example's verdict id is written: as code, or (in the console) as a link to its page. */
type IdHtml = (id: string) => string;
const idCode: IdHtml = (id) => `<code>${escapeHtml(id)}</code>`;

function sideHtml(name: string, s: Disagreement['a'], idHtml: IdHtml): string {
  const claims = s.claims
    .map((cl) => `<li><span class="tag ${escapeHtml(cl.support)}">${escapeHtml(cl.support)} ${cl.score.toFixed(2)}</span> ${cl.text ? escapeHtml(cl.text) : '<i>text not stored</i>'}</li>`)
    .join('');
  const kind = s.refusalKind !== undefined ? ` · ${escapeHtml(s.refusalKind)}` : '';
  return `<td><b>${escapeHtml(name)}</b> ${s.flagged ? 'flagged' : 'not flagged'} · score ${s.score.toFixed(2)}${kind}<br>${idHtml(s.id)}${s.analysedAt ? ` · ${escapeHtml(s.analysedAt)}` : ''}${claims ? `<ul>${claims}</ul>` : ''}</td>`;
}

function examplesHtml(c: Comparison, idHtml: IdHtml): string {
  const sections: string[] = [];
  for (const m of MEASURES) {
    for (const [which, list] of [['A', c[m].examples.onlyA], ['B', c[m].examples.onlyB]] as const) {
      if (list.length === 0) continue;
      const rows = list
        .map((d) => `<tr><td>${d.gap.toFixed(2)}${d.shadow ? '<br><small>shadow pair</small>' : ''}</td>${sideHtml(`A ${c.a.name}`, d.a, idHtml)}${sideHtml(`B ${c.b.name}`, d.b, idHtml)}</tr>`)
        .join('\n');
      sections.push(`<h3>${escapeHtml(MEASURE_NAMES[m])}: flagged for ${which} only</h3>
<table class="ex"><thead><tr><th>score gap</th><th>A</th><th>B</th></tr></thead><tbody>
${rows}
</tbody></table>`);
    }
  }
  return sections.length > 0 ? sections.join('\n') : '<p class="note">The models agree on every paired prompt.</p>';
}

/**
 * The comparison's figures, readings, examples and method as HTML, every value escaped: the body
 * of the standalone page below and of the console's compare page.
 */
export function comparisonSections(c: Comparison, options: { headingLevel?: number; idHtml?: IdHtml } = {}): string {
  const h = `h${options.headingLevel ?? 2}`;
  const rows = MEASURES.map((m) => {
    const f = c[m];
    return [MEASURE_NAMES[m], String(f.n), String(f.both), String(f.onlyA), String(f.onlyB), String(f.neither), formatRate(f.a), formatRate(f.b), signed(f.difference), fmtP(f.mcnemar.p)];
  });
  return `<p class="pairing">${pairingText(c).map(escapeHtml).join('<br>')}</p>

<${h}>Same prompts, both models</${h}>
<div class="wide table-wrap">${table(['measure', 'prompts', 'both', 'only A', 'only B', 'neither', 'A rate [95% CI] (k/n)', 'B rate [95% CI] (k/n)', 'A − B', 'McNemar p'], rows)}</div>
${ratesSvg(c)}
<ul class="note">${c.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('\n')}</ul>

<${h}>Most telling disagreements</${h}>
<p class="note">Prompts flagged for one model only, largest score gap first, with the flagged answer's least supported claims.</p>
${examplesHtml(c, options.idHtml ?? idCode)}

<${h}>Method</${h}>
<p class="note">A prompt is identified by its <code>prompt_hash</code> (system prompt, documents, tool results, earlier
turns and the question, normalised; not the model or sampling parameters); a shadow model's verdict pairs with the
verdict of the request it answered. Each prompt both models answered is one pair; where a model answered it more than
once its latest verdict counts, a shadow pair first. Rates are per paired prompt with Wilson 95% intervals. McNemar's
exact test looks only at the prompts where exactly one model was flagged: if both failed equally often, each of those
would be A's or B's with even odds; p is the two-sided binomial probability of a split at least as uneven as the one
seen. A small p says the difference is unlikely to be chance on prompts like these; a large p with few disagreements
says the sample cannot tell yet.</p>`;
}

export const comparisonTitle = (c: Comparison) =>
  `A: ${c.a.provider ? `${c.a.provider}:` : ''}${c.a.name} · B: ${c.b.provider ? `${c.b.provider}:` : ''}${c.b.name} · source: ${c.source} · ${windowText(c)}`;

export function comparisonHtml(c: Comparison, generatedAt = new Date()): string {
  const title = `${c.a.name} vs ${c.b.name}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Veracity paired comparison — ${escapeHtml(title)}</title>
<style>
${PAGE_STYLE}
h3 { font-size: 1rem; }
th, td { vertical-align: top; }
table.ex td, table.ex th { text-align: left; white-space: normal; max-width: 32rem; }
svg .ci.a { stroke: #3b6fd6; } svg .ci.b { stroke: #8a5cc2; }
</style>
</head>
<body>
<h1>Veracity paired comparison</h1>
<p class="meta">${escapeHtml(comparisonTitle(c))} · generated ${escapeHtml(generatedAt.toISOString())}</p>
${comparisonSections(c)}
${c.verified ? verifiedCompareHtml(c.verified) : ''}
</body>
</html>
`;
}
