import type { EstimateFigure, RateFigure } from '../../report/figures.js';
import { ESTIMATED_TEXT, FLAGGED_TEXT } from '../../report/format.js';
import { scoresSvg } from '../../report/html.js';
import type { ModelKey } from '../../verdicts/aggregates.js';
import type { ModelRow, Overview } from '../data.js';
import { html, pct, trusted, utc, type Html } from '../html.js';
import { RANGES, link, type Filters } from '../query.js';
import { rateChart } from './charts.js';

const name = (k: ModelKey) => `${k.provider}/${k.model}`;
/** A model as `report --compare` and the compare page name it. */
export const specOf = (k: { provider: string; model: string }) => `${k.provider}:${k.model}`;

const METHOD_WORDS: Record<string, string> = { context: 'context', samples: 'samples', none: 'nothing' };

export function rateCell(f: RateFigure, field?: string): Html {
  if (f.rate === null || f.ci95 === null) return html`<td class="rate"${field ? html` data-field="${field}"` : ''}>—</td>`;
  return html`<td class="rate"${field ? html` data-field="${field}"` : ''}><b>${pct(f.rate)}</b><small>${f.count} of ${f.of}</small><small class="ci">95% CI <span>${pct(f.ci95.lo)}–${pct(f.ci95.hi)}</span></small></td>`;
}

function estimateCell(e: EstimateFigure): Html {
  if (e.rate === null || e.ci95 === null) return html`<td class="rate" data-field="estimated"><b>—</b><small>no grounded checks</small></td>`;
  return html`<td class="rate" data-field="estimated"><b>${pct(e.rate)}</b><small>${e.expected.toFixed(1)} of ${e.checks} grounded</small><small class="ci">95% CI <span>${pct(e.ci95.lo)}–${pct(e.ci95.hi)}</span></small></td>`;
}

/** People's labels and a judge's stay apart: a rate from the judge's says so, and the judge's own estimate is a line of its own. */
function verifiedCell(m: ModelRow): Html {
  const v = m.verified;
  const j = m.verifiedJudge;
  const judgeLine = j && v?.by !== 'judge' ? html`<small data-field="verified-judge">judge: ${j.rate === null ? '—' : pct(j.rate)} (${j.labels} labels)</small>` : html``;
  if (!v || v.rate === null || v.ci95 === null) {
    return html`<td class="rate" data-field="verified"><b>—</b><small>${v ? `${v.labels} random labels` : ''}</small><small><a href="/veracity/review">label some</a></small>${judgeLine}</td>`;
  }
  return html`<td class="rate" data-field="verified"><b>${pct(v.rate)}</b><small>${v.labels} random labels${v.by === 'judge' ? " by the judge, none by people" : ''}</small><small>95% CI ${pct(v.ci95.lo)}–${pct(v.ci95.hi)}</small>${judgeLine}</td>`;
}

function methodsCell(m: ModelRow): Html {
  const entries = Object.entries(m.methods).filter(([, f]) => f.of > 0);
  if (entries.length === 0) return html`<td data-field="methods">—</td>`;
  return html`<td class="left" data-field="methods">${entries.map(([k, f], i) => html`${i > 0 ? html`<br>` : ''}<span data-method="${k}">${METHOD_WORDS[k] ?? k} ${f.of}</span>`)}</td>`;
}

/** Tool calls checked and the share that failed, with each failure mode's count. */
function toolCallsCell(m: ModelRow): Html {
  const t = m.toolCalls;
  if (t.checked === 0) return html`<td data-field="tool_calls">—</td>`;
  const f = t.failed;
  return html`<td class="rate" data-field="tool_calls" data-checked="${t.checked}" data-failed="${f.count}"><b>${pct(f.rate)}</b><small>${f.count} of ${t.checked} failed</small>${f.ci95 ? html`<small class="ci">95% CI <span>${pct(f.ci95.lo)}–${pct(f.ci95.hi)}</span></small>` : ''}${Object.entries(t.modes)
    .filter(([, r]) => r.count > 0)
    .map(([mode, r]) => html`<small data-mode="${mode}">${mode} ${r.count}</small>`)}</td>`;
}

/** Exchanges handled but not analysed, by reason. */
function skippedCell(m: ModelRow): Html {
  if (m.skipped === 0) return html`<td data-field="skipped">0</td>`;
  return html`<td class="left" data-field="skipped" data-count="${m.skipped}"><b>${m.skipped}</b>${Object.entries(m.skippedBy).map(([reason, n]) => html`<small data-reason="${reason}">${reason} ${n}</small>`)}</td>`;
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

function modelSection(m: ModelRow, filters: Filters, i: number, shadows: ModelRow[]): Html {
  const models = [name(m.key)];
  return html`<section class="model" aria-labelledby="m-${i}">
<h3 id="m-${i}">${name(m.key)}</h3>
<p class="muted">${m.checks} checks · unsupported claims ${pct(m.unsupportedClaims.rate)} (${m.unsupportedClaims.count} of ${m.unsupportedClaims.of})${m.sampled > 0 ? ` · ${m.sampled} checked against sampled answers` : ''}${m.toolCalls.checked > 0 ? ` · ${m.toolCalls.failed.count} of ${m.toolCalls.checked} tool calls failed` : ''}${m.skipped > 0 ? ` · ${m.skipped} handled but not analysed` : ''}</p>
${trusted(rateChart(m.series.hallucination, 'Hallucination, flagged', `c${i}h`))}
${trusted(rateChart(m.series.estimated, 'Hallucination, estimated', `c${i}e`))}
${trusted(rateChart(m.series.mismatch, 'Confidence-mismatch rate', `c${i}m`))}
${trusted(rateChart(m.series.refusal, 'Refusal rate', `c${i}r`))}
${m.scores.length > 0 ? trusted(scoresSvg(m.scores, 'Hallucination score distribution')) : ''}
<p>Flagged: <a href="${link('/veracity/flagged', filters, { models, kind: 'hallucination' })}">hallucinations</a> ·
<a href="${link('/veracity/flagged', filters, { models, kind: 'mismatch' })}">confidence mismatches</a> ·
<a href="${link('/veracity/flagged', filters, { models, kind: 'refusal' })}">refusals</a></p>
<p><a href="${link('/veracity/exchanges', filters, { models })}">All recent exchanges</a>${shadows.map((s) => html` · <a href="${link('/veracity/compare', filters, { models: [], compare: [specOf(m.key), specOf(s.key)] })}">compare with ${name(s.key)}</a>`)}</p>
</section>`;
}

function table(rows: ModelRow[], caption: string, filters: Filters): Html {
  return html`<div class="table-wrap"><table class="models-table">
<caption>${caption}</caption>
<thead><tr><th scope="col">Model</th><th scope="col">Checks</th><th scope="col">Hallucination, flagged</th><th scope="col">Hallucination, estimated</th><th scope="col">Hallucination, verified</th><th scope="col">Confidence mismatch</th><th scope="col">Refusal</th><th scope="col">Grounded</th><th scope="col" class="left">Checked against</th><th scope="col">Tool calls, failed</th><th scope="col">Not analysed</th></tr></thead>
<tbody>
${rows.map(
  (m) => html`<tr data-model="${name(m.key)}"><th scope="row" class="left"><a href="${link('/veracity/flagged', filters, { models: [name(m.key)] })}">${name(m.key)}</a></th>
<td data-field="checks">${m.checks}</td>${rateCell(m.hallucination, 'flagged')}${estimateCell(m.estimated)}${verifiedCell(m)}${rateCell(m.confidenceMismatch, 'mismatch')}${rateCell(m.refusal, 'refusal')}
<td class="rate"><b>${pct(m.grounded.rate)}</b><small>${m.grounded.count} of ${m.grounded.of}</small></td>${methodsCell(m)}${toolCallsCell(m)}${skippedCell(m)}</tr>`,
)}
</tbody></table></div>`;
}

function profileTable(rows: ModelRow[]): Html {
  const withClaims = rows.filter((m) => m.failureModes.claims > 0);
  if (withClaims.length === 0) return html`<p class="muted">No unsupported claims among the checked answers in this range.</p>`;
  const modes = [...new Set(withClaims.flatMap((m) => m.failureModes.modes.map((x) => x.mode)))];
  return html`<div class="table-wrap"><table class="profile">
<caption>Share of each model's unsupported or contradicted claims by how they fail (count), among claims checked against context or sampled answers</caption>
<thead><tr><th scope="col">Model</th><th scope="col">Unsupported claims</th>${modes.map((mode) => html`<th scope="col">${mode}</th>`)}</tr></thead>
<tbody>${withClaims.map(
    (m) => html`<tr data-model="${name(m.key)}"><th scope="row" class="left">${name(m.key)}${m.key.traffic === 'shadow' ? ' (shadow)' : ''}</th><td>${m.failureModes.claims}</td>${modes.map((mode) => {
      const f = m.failureModes.modes.find((x) => x.mode === mode);
      return html`<td data-mode="${mode}">${f && f.share !== null ? html`<b>${pct(f.share)}</b> <small>(<span data-count>${f.count}</span>)</small>` : '—'}</td>`;
    })}</tr>`,
  )}</tbody></table></div>`;
}

/** Primary models' answers checked against samples beside the shadow models asked the same requests. */
function primaryVsShadow(primary: ModelRow[], shadow: ModelRow[]): Html {
  const sampled = primary.filter((m) => (m.methods.samples?.of ?? 0) > 0);
  if (shadow.length === 0 && sampled.length === 0) return html``;
  const row = (m: ModelRow, role: string, f: RateFigure) =>
    html`<tr data-model="${name(m.key)}" data-traffic="${m.key.traffic}"><th scope="row" class="left">${name(m.key)}</th><td class="left">${role}</td><td>${f.of}</td>${rateCell(f, 'flagged')}${rateCell(m.unsupportedClaims)}</tr>`;
  return html`<h2>Primary vs shadow</h2>
<p class="note">On sampled requests: each answering model's answers that were checked against its resampled and shadow answers (no context),
beside the shadow models' answers to the same requests, each checked against all the others. Shadow answers are never counted with the traffic above.</p>
<div class="table-wrap"><table class="split">
<caption>Flagged hallucination rate of primary and shadow answers on sampled requests</caption>
<thead><tr><th scope="col">Model</th><th scope="col" class="left">Answers</th><th scope="col">Checks</th><th scope="col">Hallucination, flagged</th><th scope="col">Unsupported claims</th></tr></thead>
<tbody>${sampled.map((m) => row(m, 'primary, checked against samples', m.methods.samples!))}${shadow.map((m) => row(m, 'shadow', m.hallucination))}</tbody>
</table></div>`;
}

export function overviewBody(o: Overview, filters: Filters): Html {
  const primary = o.models.filter((m) => m.key.traffic === 'primary');
  const shadow = o.models.filter((m) => m.key.traffic === 'shadow');
  const checks = primary.reduce((s, m) => s + m.checks, 0);
  const flagged = primary.reduce((s, m) => s + m.hallucination.count, 0);
  const grounded = primary.reduce((s, m) => s + m.estimated.checks, 0);
  const expected = primary.reduce((s, m) => s + m.estimated.expected, 0);
  const unit = o.resolution === 60 ? 'minute' : 'hour';
  return html`<h1>Overview</h1>
${filtersForm('/veracity/', filters, o.available)}
${primary.length === 0
    ? html`<p>No exchanges were analysed in this range${filters.models.length > 0 ? ' for the selected models' : ''}. Send requests through the proxy (for example <code>POST /v1/chat/completions</code>); each is analysed within a second and counted here.</p>`
    : html`<div class="cards">
<div class="card">Checks<b>${checks}</b></div>
<div class="card">Models<b>${primary.length}</b></div>
<div class="card" data-field="flagged">Hallucination rate, flagged<b>${pct(checks > 0 ? flagged / checks : null)}</b>${flagged} of ${checks} over the threshold</div>
<div class="card" data-field="estimated">Hallucination rate, estimated<b>${pct(grounded > 0 ? expected / grounded : null)}</b>mean score of ${grounded} grounded checks</div>
</div>
<p class="note"><b>Flagged</b>: ${FLAGGED_TEXT}. <b>Estimated</b>: ${ESTIMATED_TEXT}; checks without context score a prior, not evidence, and are left out.
<b>Verified</b>: every check's score corrected by people's labels of a random sample (the <a href="/veracity/review">review queue</a>), with an interval that holds whatever the detector's errors.</p>
${table(primary, 'Per model: each rate with its count and Wilson 95% interval; what the answers were checked against', filters)}
<h2>Failure modes</h2>
<p class="note">How unsupported claims fail: <b>number</b> (a number, date, quantity or unit absent or different), <b>entity</b> (a name absent or swapped),
<b>negation</b> (polarity or antonym flipped), <b>reference</b> (a URL, path, function, package or citation not in the context), <b>unsupported</b> (anything else).</p>
${profileTable([...primary, ...shadow])}
${primaryVsShadow(primary, shadow)}
<h2>Over time</h2>
<p class="note">Rates per interval with their 95% interval (band); hover a point for its counts. Counted per ${unit}.</p>
<div class="models">${primary.filter((m) => m.checks > 0).map((m, i) => modelSection(m, filters, i, shadow))}</div>`}
${shadow.length > 0 ? html`<h2>Shadow models</h2><p class="note">Other models asked the same sampled requests; kept apart from the traffic above.</p>${table(shadow, 'Shadow models', filters)}` : ''}
<p class="note">From the counts the workers keep in Redis beside the verdicts (the same figures Prometheus holds), ${utc(o.from * 1000)} to ${utc(o.to * 1000)}, widened to whole ${unit}s.</p>`;
}
