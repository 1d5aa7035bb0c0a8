import { escapeHtml } from '../../eval/html.js';
import type { Comparison } from '../../report/compare/figures.js';
import { comparisonSections, comparisonTitle } from '../../report/compare/render.js';
import type { IndexedModel } from '../../verdicts/model-index.js';
import { html, trusted, utc, type Html } from '../html.js';
import { RANGES, link, type Filters } from '../query.js';

function select(side: 'a' | 'b', label: string, chosen: string | undefined, options: string[]): Html {
  const all = chosen !== undefined && !options.includes(chosen) ? [chosen, ...options] : options;
  return html`<label for="cmp-${side}"><b>${label}</b></label>
<select id="cmp-${side}" name="${side}">${chosen === undefined ? html`<option value="" selected>choose a model</option>` : ''}${all.map((o) => html`<option value="${o}"${o === chosen ? html` selected` : ''}>${o}</option>`)}</select>`;
}

/**
 * `report --compare` in the console: the same pairing, counts, intervals, McNemar test and
 * examples (report/compare), rendered on the server from the verdicts in Redis.
 */
export function compareBody(filters: Filters, models: IndexedModel[], result?: { comparison?: Comparison; error?: string }): Html {
  const options = models.map((m) => `${m.provider}:${m.label}`);
  const ranges = RANGES.map(
    (r) => html`<li><a href="${link('/veracity/compare', filters, { range: r, compare: filters.a && filters.b ? [filters.a, filters.b] : undefined })}"${filters.range === r ? html` aria-current="true"` : ''}>${r}</a></li>`,
  );
  const c = result?.comparison;
  return html`<h1>Compare two models</h1>
<p class="note">Which of two models fails less on the prompts both answered (the same <code>prompt_hash</code>, or a shadow model’s answer to the other’s request): the paired counts, each model’s rate with its Wilson 95% interval, and McNemar’s exact test, as <code>veracity report --compare A B</code> gives them.</p>
<form class="filters" method="get" action="/veracity/compare" aria-label="Models to compare">
<div><span class="legend-label" id="range-label"><b>Time range</b></span>
<ul class="ranges" aria-labelledby="range-label">${ranges}</ul>
<p class="muted">${utc(filters.from * 1000)} to ${utc(filters.to * 1000)}</p></div>
${filters.range ? html`<input type="hidden" name="range" value="${filters.range}">` : html`<input type="hidden" name="from" value="${filters.from * 1000}"><input type="hidden" name="to" value="${filters.to * 1000}">`}
<div>${select('a', 'Model A', filters.a, options)}</div>
<div>${select('b', 'Model B', filters.b, options)}</div>
<button type="submit">Compare</button>
</form>
${filters.errors.length > 0 ? html`<p class="error" role="alert">${filters.errors.join('; ')}</p>` : ''}
${result?.error ? html`<p class="error" role="alert">${result.error}</p>` : ''}
${c
    ? html`<p class="meta muted">${comparisonTitle(c)}</p>
<section class="comparison" aria-label="Comparison">${trusted(comparisonSections(c, { idHtml: (id) => `<a href="/veracity/exchanges/${encodeURIComponent(id)}"><code>${escapeHtml(id)}</code></a>` }))}</section>`
    : !result?.error
      ? html`<p>Choose two models${options.length === 0 ? ' (none has stored verdicts yet)' : ''}.</p>`
      : ''}`;
}
