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
