import type { Verdict } from '../../detect/verdict.js';
import { html, type Html } from '../html.js';

const exchangeLink = (id: string) => html`<a href="/veracity/exchanges/${encodeURIComponent(id)}">${id}</a>`;

/** A short badge for lists: what inline mode did with the exchange (blocked, retried), or nothing. */
export function inlineBadge(v: Verdict): Html {
  const d = v.inline;
  if (!d) return html``;
  if (d.decision === 'blocked') return html` <span class="badge flagged" data-field="inline" data-decision="blocked">blocked (422)${d.attempt > 1 ? ` after ${d.attempt} attempts` : ''}</span>`;
  if (d.decision === 'retried') return html` <span class="badge flagged" data-field="inline" data-decision="retried">withheld, retried${d.retried_as ? html` as ${exchangeLink(d.retried_as)}` : ''}</span>`;
  if (d.retry_of) return html` <span class="badge" data-field="inline" data-decision="delivered">delivered on retry of ${exchangeLink(d.retry_of)}</span>`;
  return html` <span class="badge" data-field="inline" data-decision="delivered">judged inline</span>`;
}

const DECISION: Record<string, string> = {
  delivered: 'the client got this answer with the verdict',
  blocked: 'the client got a 422 (veracity_blocked) instead of this answer',
  retried: 'withheld, and the upstream was asked again',
};

/** The exchange page's facts about inline mode: what the response told the client, and the attempts it is linked to. */
export function inlineFacts(v: Verdict): Html {
  const d = v.inline;
  if (!d) return html``;
  const told = d.stream ? 'in a comment after the stream’s last event' : d.decision === 'delivered' ? 'in the response headers' : 'in the 422 and its headers';
  return html`<dt>Inline</dt><dd data-field="inline" data-decision="${d.decision}">${d.mode}, attempt ${d.attempt}: ${DECISION[d.decision] ?? d.decision}${d.stream ? ' (a stream is never withheld: annotated)' : ''}.
Told the client ${told}: hallucination ${d.hallucination}, flagged ${d.flagged.length > 0 ? d.flagged.join(', ') : 'none'}${v.hallucination.score !== d.hallucination ? html` <span class="muted">(refined since, by ${(v.provenance ?? []).filter((p) => !p.startsWith('heuristic') && !p.startsWith('grounding')).join(', ') || 'a later check'})</span>` : ''}.
${d.retry_of ? html`Retry of ${exchangeLink(d.retry_of)}. ` : ''}${d.retried_as ? html`Retried as ${exchangeLink(d.retried_as)}.` : ''}</dd>`;
}
