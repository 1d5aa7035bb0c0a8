import { escapeHtml } from '../eval/html.js';
import type { RateFigure } from './figures.js';

/** How figures are written, the same in the report, the comparison and the console. */

export const pct = (v: number | null | undefined, digits = 1) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(digits)}%`);

/** `10.0% [8.3%–12.0%] (100/1000)`: rate, Wilson 95% interval, events/trials. */
export function formatRate(f: RateFigure): string {
  if (f.rate === null || f.ci95 === null) return '—';
  return `${pct(f.rate)} [${pct(f.ci95.lo)}–${pct(f.ci95.hi)}] (${f.count}/${f.of})`;
}

/** A plain table of text cells (escaped), the first cell of each row its header. */
export function htmlTable(header: string[], rows: string[][]): string {
  return `<table><thead><tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>\n${rows
    .map((r) => `<tr>${r.map((c, i) => (i === 0 ? `<th scope="row">${escapeHtml(c)}</th>` : `<td>${escapeHtml(c)}</td>`)).join('')}</tr>`)
    .join('\n')}\n</tbody></table>`;
}

/** What each check method held the answer against, in words. */
export const METHOD_LABEL: Record<string, string> = { context: 'context', samples: 'samples', none: 'nothing' };

/** Failure modes in words, for legends. */
export const FAILURE_MODE_TEXT =
  '<b>number</b> (numbers, dates, quantities, units absent or different), <b>entity</b> (a person, place, organisation or product the ' +
  'context lacks, or swapped), <b>negation</b> (polarity or antonym flipped), <b>reference</b> (URLs, endpoints, paths, function or package ' +
  'names, citations the context does not contain), <b>unsupported</b> (anything else)';

/** Which hallucination rate is which, in words. */
export const FLAGGED_TEXT = 'share of checks whose score reached the threshold; it moves with the threshold';
export const ESTIMATED_TEXT = 'mean calibrated hallucination score of the grounded checks: an estimate of the share of hallucinated answers that does not depend on the threshold';

/** The stylesheet both self-contained report pages (the report and the paired comparison) start from. */
export const PAGE_STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #1d2330; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { margin-top: 2rem; font-size: 1.2rem; }
.meta { color: #5b6475; }
table { border-collapse: collapse; margin: .5rem 0; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid #e3e6ec; padding: .3rem .6rem; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f4f6f9; }
svg { font: 11px system-ui, sans-serif; margin: .5rem 1rem .5rem 0; }
svg .t { font-size: 13px; font-weight: 600; }
svg .grid { stroke: #e3e6ec; } svg .ci { stroke: #3b6fd6; stroke-width: 3; } svg .dot { fill: #c2410c; }
.note { color: #5b6475; max-width: 60rem; }
.wide { overflow-x: auto; }
.tag { font-size: 11px; padding: 0 .3rem; border-radius: 3px; background: #fde7d9; }
.tag.contradicted { background: #f8c9c9; }
`;
