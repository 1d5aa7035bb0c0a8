import type { Verdict } from '../../detect/verdict.js';
import { FLAG_KINDS, type FlagKind, type ModelKey } from '../../verdicts/aggregates.js';
import { html, utc, type Html } from '../html.js';
import { link, type Filters } from '../query.js';
import { inlineBadge } from './inline.js';
import { filtersForm } from './overview.js';

const KIND_LABEL: Record<FlagKind, string> = { hallucination: 'Hallucinations', mismatch: 'Confidence mismatches', refusal: 'Refusals' };

export function scoreOf(v: Verdict, kind: FlagKind): number {
  return kind === 'hallucination' ? v.hallucination.score : kind === 'mismatch' ? v.confidence_mismatch.score : v.refusal.score;
}

function item(v: Verdict, kind: FlagKind): Html {
  const worst = [...v.hallucination.claims].filter((c) => c.support !== 'supported').sort((a, b) => b.score - a.score)[0];
  const snippet =
    kind === 'refusal'
      ? `${v.refusal.kind} refusal`
      : worst
        ? worst.text
          ? `${worst.support}: “${worst.text.length > 200 ? `${worst.text.slice(0, 200)}…` : worst.text}”`
          : `${worst.support} claim at ${worst.start}–${worst.end} (text not stored)`
        : '';
  // A failing tool call holds an exchange flagged with no claim behind it: say which call.
  const call = kind === 'hallucination' ? v.tool_calls?.calls.find((c) => c.failure_mode) : undefined;
  const finding = call?.findings[0]?.text;
  const tool = call
    ? `${v.tool_calls!.failed} of ${v.tool_calls!.checked} tool ${v.tool_calls!.checked === 1 ? 'call' : 'calls'} failed: ${call.name || 'a call'} (${call.failure_mode})${finding ? `: ${finding.length > 200 ? `${finding.slice(0, 200)}…` : finding}` : ''}`
    : '';
  return html`<li data-id="${v.id}"><a href="/veracity/exchanges/${encodeURIComponent(v.id)}">${v.id}</a>
<span class="badge flagged">${kind} ${scoreOf(v, kind).toFixed(2)}</span>
${v.analysed_at ? html` <span class="muted">${utc(Date.parse(v.analysed_at))}</span>` : ''}${v.app ? html` <span class="badge">app ${v.app}</span>` : ''}${inlineBadge(v)}
${snippet ? html`<span class="snippet">${snippet}</span>` : ''}${tool ? html`<span class="snippet" data-field="tool_calls">${tool}</span>` : ''}</li>`;
}

export function flaggedBody(filters: Filters, available: ModelKey[], lists: Array<{ key: ModelKey; verdicts: Verdict[] }>): Html {
  const kinds = FLAG_KINDS.map(
    (k) => html`<li><a href="${link('/veracity/flagged', filters, { kind: k })}"${filters.kind === k ? html` aria-current="true"` : ''}>${KIND_LABEL[k]}</a></li>`,
  );
  const orders = (['recent', 'top'] as const).map(
    (o) => html`<li><a href="${link('/veracity/flagged', filters, { order: o })}"${filters.order === o ? html` aria-current="true"` : ''}>${o === 'recent' ? 'Most recent' : 'Highest score'}</a></li>`,
  );
  const extra = html`<input type="hidden" name="kind" value="${filters.kind}"><input type="hidden" name="order" value="${filters.order}">`;
  return html`<h1>Flagged exchanges</h1>
<nav aria-label="Kind"><ul class="ranges">${kinds}</ul></nav>
<nav aria-label="Order" class="filters-order"><ul class="ranges">${orders}</ul></nav>
${filtersForm('/veracity/flagged', filters, available, extra)}
${lists.length === 0 ? html`<p>No models had traffic in this range.</p>` : ''}
${lists.map(
  ({ key, verdicts }, i) => html`<section aria-labelledby="f-${i}">
<h2 id="f-${i}">${key.provider}/${key.model}${key.traffic === 'shadow' ? ' (shadow)' : ''}</h2>
${verdicts.length === 0 ? html`<p class="muted">None flagged in this range.</p>` : html`<ol class="list">${verdicts.map((v) => item(v, filters.kind))}</ol>`}
</section>`,
)}`;
}
