import type { Verdict } from '../../detect/verdict.js';
import type { IndexedModel } from '../../verdicts/model-index.js';
import type { RecentList } from '../data.js';
import { html, utc, type Html } from '../html.js';
import { link, type Filters } from '../query.js';
import { inlineBadge } from './inline.js';
import { filtersForm } from './overview.js';

const score = (n: number) => n.toFixed(2);

const snippet = (q: string) => (q.length > 160 ? `${q.slice(0, 159)}…` : q);

function item(v: Verdict, question: string | undefined): Html {
  const h = v.hallucination;
  return html`<li data-id="${v.id}"><a href="/veracity/exchanges/${encodeURIComponent(v.id)}">${v.id}</a>
${v.analysed_at ? html` <span class="muted">${utc(Date.parse(v.analysed_at))}</span>` : ''}
${v.skipped !== undefined
    ? html` <span class="badge">not analysed: ${v.skipped}</span>`
    : h.method === 'none' || (!h.method && !v.grounded)
      ? html` <span class="badge">checked against nothing (prior score ${score(h.score)})</span>`
      : html` <span class="badge${h.flagged ? ' flagged' : ''}">hallucination ${score(h.score)}</span> <span class="badge">checked against ${h.method ?? 'context'}</span>`}
${v.skipped !== undefined ? '' : html`
${v.confidence_mismatch.flagged ? html` <span class="badge flagged">confidence mismatch ${score(v.confidence_mismatch.score)}</span>` : ''}
${v.refusal.kind !== 'none' ? html` <span class="badge${v.refusal.flagged ? ' flagged' : ''}">${v.refusal.kind} refusal</span>` : ''}`}
${v.tool_calls ? html` <span class="badge${v.tool_calls.failed > 0 ? ' flagged' : ''}" data-field="tool_calls">tool calls: ${v.tool_calls.failed} of ${v.tool_calls.checked} failed</span>` : ''}
${v.shadow_of !== undefined ? html` <span class="badge">shadow of <a href="/veracity/exchanges/${encodeURIComponent(v.shadow_of)}">${v.shadow_of}</a></span>` : ''}
${v.app ? html` <span class="badge">app ${v.app}</span>` : ''}${inlineBadge(v)}
${question ? html`<span class="snippet">${snippet(question)}</span>` : ''}</li>`;
}

/**
 * Every recent exchange of each model, flagged or not, newest first, read from the per-model
 * time index; a model past the label bound is listed under `other`.
 */
export function recentBody(filters: Filters, available: IndexedModel[], lists: RecentList[], perModel: number): Html {
  const asKey = (m: IndexedModel) => ({ traffic: 'primary' as const, provider: m.provider, model: m.label });
  return html`<h1>Recent exchanges</h1>
<p class="note">Every stored exchange per model, flagged or not, newest first (${perModel} a page), including shadow models’ answers; open one for its claims.</p>
${filtersForm('/veracity/exchanges', filters, available.map(asKey))}
${lists.length === 0 ? html`<p>No stored exchanges for ${filters.models.length > 0 ? 'the selected models' : 'any model'} (the time index is off when <code>verdicts.maxIndexedPerModel</code> is 0).</p>` : ''}
${lists.map(
  ({ model, verdicts, questions, next }, i) => html`<section aria-labelledby="r-${i}">
<h2 id="r-${i}">${model.provider}/${model.label}</h2>
${verdicts.length === 0 ? html`<p class="muted">None in this range${filters.skip ? ' past the newest ' + filters.skip : ''}.</p>` : html`<ol class="list recent">${verdicts.map((v) => item(v, questions.get(v.id)))}</ol>`}
${next ? html`<p><a href="${link('/veracity/exchanges', filters, { models: [`${model.provider}/${model.label}`], page: next })}" rel="next">Older exchanges of ${model.provider}/${model.label}</a></p>` : ''}
</section>`,
)}`;
}
