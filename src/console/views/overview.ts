import type { RateFigure } from '../../report/report.js';
import { scoresSvg } from '../../report/html.js';
import type { ModelKey } from '../../verdicts/aggregates.js';
import type { ModelRow, Overview } from '../data.js';
import { html, pct, trusted, utc, type Html } from '../html.js';
import { RANGES, link, type Filters } from '../query.js';
import { rateChart } from './charts.js';

const name = (k: ModelKey) => `${k.provider}/${k.model}`;

export function rateCell(f: RateFigure): Html {
  if (f.rate === null || f.ci95 === null) return html`<td class="rate">—</td>`;
  return html`<td class="rate"><b>${pct(f.rate)}</b><small>${f.count} of ${f.of} · 95% CI ${pct(f.ci95.lo)}–${pct(f.ci95.hi)}</small></td>`;
}

export function filtersForm(path: string, filters: Filters, available: ModelKey[], extra: Html = html``): Html {
  const ranges = RANGES.map(
    (r) => html`<li><a href="${link(path, filters, { range: r })}"${filters.range === r ? html` aria-current="true"` : ''}>${r}</a></li>`,
  );
  const names = [...new Set([...available.map(name), ...filters.models])].sort();
  return html`<form class="filters" method="get" action="${path}" aria-label="Filters">
<div><span class="legend-label" id="range-label"><b>Time range</b></span>
<ul class="ranges" aria-labelledby="range-label">${ranges}</ul>
<p class="muted">${utc(filters.from * 1000)} to ${utc(filters.to * 1000)}</p></div>
${filters.range ? html`<input type="hidden" name="range" value="${filters.range}">` : html`<input type="hidden" name="from" value="${filters.from * 1000}"><input type="hidden" name="to" value="${filters.to * 1000}">`}
${extra}
${names.length > 0
    ? html`<fieldset><legend>Models</legend>${names.map((m, i) => html`<label><input type="checkbox" name="model" value="${m}" id="model-${i}"${filters.models.includes(m) ? html` checked` : ''}> ${m}</label>`)}</fieldset>`
    : ''}
<button type="submit">Apply</button>
${filters.models.length > 0 ? html`<a href="${link(path, filters, { models: [] })}">All models</a>` : ''}
</form>
${filters.errors.length > 0 ? html`<p class="error" role="alert">${filters.errors.join('; ')}</p>` : ''}`;
}

function modelSection(m: ModelRow, filters: Filters, i: number): Html {
  const models = [name(m.key)];
  const methods = Object.entries(m.methods).sort();
  const modes = Object.entries(m.failureModes).sort((a, b) => b[1] - a[1]);
  return html`<section class="model" aria-labelledby="m-${i}">
<h3 id="m-${i}">${name(m.key)}</h3>
<p class="muted">${m.checks} checks · unsupported claims ${pct(m.unsupportedClaims.rate)} (${m.unsupportedClaims.count} of ${m.unsupportedClaims.of})${m.skipped > 0 ? ` · ${m.skipped} handled but not analysed` : ''}</p>
${trusted(rateChart(m.series.hallucination, 'Hallucination rate', `c${i}h`))}
${trusted(rateChart(m.series.mismatch, 'Confidence-mismatch rate', `c${i}m`))}
${trusted(rateChart(m.series.refusal, 'Refusal rate', `c${i}r`))}
${m.scores.length > 0 ? trusted(scoresSvg(m.scores, 'Hallucination score distribution')) : ''}
${methods.length > 0 ? html`<p>Checked against: ${methods.map(([k, n], j) => html`${j > 0 ? ', ' : ''}${k === 'context' ? 'the request’s context' : k === 'samples' ? 'resampled answers' : k === 'none' ? 'nothing (no context)' : k} ${n}`)}</p>` : ''}
${modes.length > 0 ? html`<p>Unsupported claims by failure mode: ${modes.map(([k, n], j) => html`${j > 0 ? ', ' : ''}${k} ${n}`)}</p>` : ''}
<p>Flagged: <a href="${link('/veracity/flagged', filters, { models, kind: 'hallucination' })}">hallucinations</a> ·
<a href="${link('/veracity/flagged', filters, { models, kind: 'mismatch' })}">confidence mismatches</a> ·
<a href="${link('/veracity/flagged', filters, { models, kind: 'refusal' })}">refusals</a></p>
</section>`;
}

function table(rows: ModelRow[], caption: string, filters: Filters): Html {
  return html`<div class="table-wrap"><table>
<caption>${caption}</caption>
<thead><tr><th scope="col">Model</th><th scope="col">Checks</th><th scope="col">Hallucination</th><th scope="col">Confidence mismatch</th><th scope="col">Refusal</th><th scope="col">Grounded</th></tr></thead>
<tbody>
${rows.map(
  (m) => html`<tr><th scope="row" class="left"><a href="${link('/veracity/flagged', filters, { models: [name(m.key)] })}">${name(m.key)}</a></th>
<td data-field="checks">${m.checks}</td>${rateCell(m.hallucination)}${rateCell(m.mismatch)}${rateCell(m.refusal)}
<td class="rate"><b>${pct(m.grounded.rate)}</b><small>${m.grounded.count} of ${m.grounded.of}</small></td></tr>`,
)}
</tbody></table></div>`;
}

export function overviewBody(o: Overview, filters: Filters): Html {
  const primary = o.models.filter((m) => m.key.traffic === 'primary');
  const shadow = o.models.filter((m) => m.key.traffic === 'shadow');
  const checks = primary.reduce((s, m) => s + m.checks, 0);
  const flagged = primary.reduce((s, m) => s + m.hallucination.count, 0);
  const unit = o.resolution === 60 ? 'minute' : 'hour';
  return html`<h1>Overview</h1>
${filtersForm('/veracity/', filters, o.available)}
${primary.length === 0
    ? html`<p>No exchanges were analysed in this range${filters.models.length > 0 ? ' for the selected models' : ''}. Send requests through the proxy (for example <code>POST /v1/chat/completions</code>); each is analysed within a second and counted here.</p>`
    : html`<div class="cards">
<div class="card">Checks<b>${checks}</b></div>
<div class="card">Models<b>${primary.length}</b></div>
<div class="card">Hallucination rate<b>${pct(checks > 0 ? flagged / checks : null)}</b>${flagged} flagged</div>
</div>
${table(primary, 'Per model: each rate with its count and Wilson 95% interval', filters)}
<h2>Over time</h2>
<p class="note">Rates per interval with their 95% interval (band); hover a point for its counts. Counted per ${unit}.</p>
<div class="models">${primary.map((m, i) => modelSection(m, filters, i))}</div>`}
${shadow.length > 0 ? html`<h2>Shadow models</h2><p class="note">Other models asked the same sampled requests; kept apart from the traffic above.</p>${table(shadow, 'Shadow models', filters)}` : ''}
<p class="note">From the counts the workers keep in Redis beside the verdicts (the same figures Prometheus holds), ${utc(o.from * 1000)} to ${utc(o.to * 1000)}, widened to whole ${unit}s.</p>`;
}
