import { createHash } from 'node:crypto';
import type { IndexedModel } from '../../verdicts/model-index.js';
import type { ExchangeText } from '../../verdicts/text.js';
import type { Verdict } from '../../detect/verdict.js';
import { WHY_RANDOM } from '../../report/verified-html.js';
import type { ReviewModel } from '../review.js';
import { html, pct, type Html } from '../html.js';
import { RANGES, link, type Filters } from '../query.js';
import { exchangeBody } from './exchange.js';

/**
 * The review queue: the models' standing (labels, verified rate, what one more label brings), and
 * one exchange drawn at random from the chosen model, shown as the exchange page shows it, with the
 * labelling form. Labels go to POST /veracity/v1/labels from the page's one script (review.js),
 * which also binds the keys and remembers the reviewer's name.
 */

const spec = (m: { provider: string; model: string }) => `${m.provider}/${m.model}`;

function ci(v: { rate: number | null; ci95: { lo: number; hi: number } | null }): Html {
  if (v.rate === null || v.ci95 === null) return html`—`;
  return html`<b>${pct(v.rate)}</b><small>95% CI ${pct(v.ci95.lo)}–${pct(v.ci95.hi)}</small>`;
}

export function reviewTable(models: ReviewModel[], filters: Filters): Html {
  if (models.length === 0) return html`<p>No analysed exchanges in this range.</p>`;
  // A judge's labels (labels.judge) get columns of their own: they never count as people's.
  const anyJudge = models.some((m) => m.verifiedJudge);
  const judgeCells = (m: ReviewModel) =>
    anyJudge
      ? html`<td data-field="judge-labels">${m.verifiedJudge?.labels ?? 0}</td><td class="rate" data-field="verified-judge">${m.verifiedJudge ? ci(m.verifiedJudge) : html`—`}${m.verifiedJudge?.agreement?.both ? html`<small>agrees with people on ${m.verifiedJudge.agreement.agree} of ${m.verifiedJudge.agreement.both}</small>` : ''}</td>`
      : html``;
  return html`<table class="review-models">
<thead><tr><th scope="col">model</th><th scope="col">exchanges</th><th scope="col">random labels</th><th scope="col">feedback labels</th><th scope="col">verified rate</th><th scope="col">one more label narrows it by</th>${anyJudge ? html`<th scope="col">judge labels</th><th scope="col">judge-labelled rate</th>` : ''}<th scope="col"></th></tr></thead>
<tbody>${models.map(
    (m) => html`<tr data-model="${spec(m)}"><th scope="row">${spec(m)}</th><td>${m.indexed}</td><td data-field="labels">${m.verified.labels}${m.verified.by === 'judge' ? ' (judge)' : ''}</td><td data-field="feedback">${m.verified.feedback}</td><td class="rate" data-field="verified" data-by="${m.verified.by}">${ci(m.verified)}${m.verified.by === 'judge' ? html`<small>from the judge's labels: none by people yet</small>` : ''}</td><td data-field="narrowing">${m.verified.narrowing === null || m.verified.by === 'judge' ? '—' : `${(m.verified.narrowing * 100).toFixed(2)} pts`}</td>${judgeCells(m)}<td><a href="${link('/veracity/review', filters, { models: [spec(m)] })}">review</a></td></tr>`,
  )}</tbody></table>`;
}

export function reviewBody(filters: Filters, models: ReviewModel[], current: { model: IndexedModel; verdict: Verdict; text?: ExchangeText } | undefined, storeText: boolean, chosen?: string): Html {
  const ranges = RANGES.map((r) => html`<li><a href="${link('/veracity/review', filters, { range: r })}"${filters.range === r ? html` aria-current="true"` : ''}>${r}</a></li>`);
  const form = current
    ? html`<form class="review-form" id="review-form" data-id="${current.verdict.id}" aria-label="Label this exchange">
<p><label for="review-by">Reviewer</label> <input id="review-by" name="by" autocomplete="name" maxlength="100" placeholder="your name"></p>
<fieldset><legend>Refusal (optional)</legend>
<label><input type="radio" name="refusal" value="none"> none <kbd>1</kbd></label>
<label><input type="radio" name="refusal" value="partial"> partial <kbd>2</kbd></label>
<label><input type="radio" name="refusal" value="full"> full <kbd>3</kbd></label></fieldset>
<p class="review-buttons"><button type="button" data-label="hallucinated" class="bad">Hallucinated <kbd>h</kbd></button>
<button type="button" data-label="faithful" class="good">Faithful <kbd>f</kbd></button>
<a href="${link('/veracity/review', filters, {})}" data-action="skip">Skip <kbd>s</kbd></a></p>
<p id="review-status" role="status" aria-live="polite"></p>
<noscript><p class="error">Labelling here needs JavaScript; without it, POST labels to /veracity/v1/labels.</p></noscript>
</form>`
    : html``;
  return html`<h1>Review queue</h1>
<p class="muted">${WHY_RANDOM} Each exchange below is drawn uniformly at random from the chosen model's analysed traffic in the range, leaving out those already labelled.</p>
<nav aria-label="Range"><ul class="ranges">${ranges}</ul></nav>
${reviewTable(models, filters)}
${current
    ? html`<section class="review" aria-label="Exchange to label">
<p class="muted">Drawn at random from <b>${spec({ provider: current.model.provider, model: current.model.label })}</b>. Read the answer against its context, then label it.</p>
${form}
${exchangeBody(current.verdict, current.text, storeText)}
</section>`
    : html`<p data-field="empty">${chosen ? `Nothing left to label for ${chosen} in this range: every exchange drawn is labelled, expired or not analysed.` : 'No exchange to label in this range.'}</p>`}
<script src="${REVIEW_JS_PATH}" defer></script>`;
}

/** The page's script: key bindings, the reviewer's name in localStorage, the POST to the labels API. */
export const REVIEW_JS = `'use strict';
(function () {
  var form = document.getElementById('review-form');
  if (!form) return;
  var by = document.getElementById('review-by');
  var status = document.getElementById('review-status');
  var KEY = 'veracity.reviewer';
  try { by.value = localStorage.getItem(KEY) || ''; } catch (e) {}
  by.addEventListener('change', function () { try { localStorage.setItem(KEY, by.value.trim()); } catch (e) {} });
  var busy = false;
  function send(hallucinated) {
    if (busy) return;
    var name = by.value.trim();
    if (!name) { status.textContent = 'Enter your name first: labels say who gave them.'; by.focus(); return; }
    try { localStorage.setItem(KEY, name); } catch (e) {}
    var body = { id: form.dataset.id, hallucination: hallucinated, by: name, selection: 'random' };
    var refusal = form.querySelector('input[name=refusal]:checked');
    if (refusal) body.refusal = refusal.value;
    busy = true;
    status.textContent = 'Saving…';
    fetch('/veracity/v1/labels', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), credentials: 'same-origin' })
      .then(function (res) { return res.json().then(function (j) { return { ok: res.ok, j: j }; }); })
      .then(function (r) {
        busy = false;
        if (!r.ok) { status.textContent = 'Not saved: ' + ((r.j.error && r.j.error.message) || 'error'); return; }
        if (r.j.unknown && r.j.unknown.length) { status.textContent = 'Not saved: the exchange expired.'; return; }
        status.textContent = 'Saved (' + (hallucinated ? 'hallucinated' : 'faithful') + '). Next…';
        form.dataset.saved = form.dataset.id;
        window.location.reload();
      })
      .catch(function (e) { busy = false; status.textContent = 'Not saved: ' + e.message; });
  }
  form.querySelector('[data-label=hallucinated]').addEventListener('click', function () { send(true); });
  form.querySelector('[data-label=faithful]').addEventListener('click', function () { send(false); });
  document.addEventListener('keydown', function (e) {
    if (e.target === by || e.ctrlKey || e.metaKey || e.altKey) return;
    var k = e.key.toLowerCase();
    if (k === 'h') { e.preventDefault(); send(true); }
    else if (k === 'f') { e.preventDefault(); send(false); }
    else if (k === 's') { e.preventDefault(); window.location.reload(); }
    else if (k === '1' || k === '2' || k === '3') {
      var r = form.querySelector('input[name=refusal][value=' + ['none', 'partial', 'full'][Number(k) - 1] + ']');
      if (r) r.checked = true;
    }
  });
})();
`;

export const REVIEW_JS_PATH = `/veracity/static/review.${createHash('sha256').update(REVIEW_JS).digest('hex').slice(0, 12)}.js`;

export const REVIEW_CSS = `
.review-form { border: 1px solid var(--line); border-radius: 8px; padding: .6rem 1rem; margin: 1rem 0; background: var(--soft); position: sticky; top: 0; z-index: 1; }
.review-form fieldset { display: inline-flex; gap: .8rem; border: 0; padding: 0; margin: 0; }
.review-form legend { float: left; margin-right: .6rem; font-weight: 600; }
.review-buttons { display: flex; gap: .8rem; align-items: center; }
.review-buttons button { font: inherit; padding: .45rem 1rem; border-radius: 6px; border: 1px solid var(--line); cursor: pointer; }
.review-buttons button.bad { background: var(--bad); border-color: var(--bad-line); }
.review-buttons button.good { background: var(--ok); border-color: var(--ok-line); }
kbd { font: .8rem ui-monospace, monospace; border: 1px solid var(--line); border-radius: 3px; padding: 0 .3rem; background: var(--soft); }
table.review-models td small { display: block; color: var(--muted); }
`;
