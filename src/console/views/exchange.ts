import { certaintyCues } from '../../detect/confidence.js';
import type { ClaimVerdict, ToolCallVerdict, Verdict } from '../../detect/verdict.js';
import type { ExchangeText } from '../../verdicts/text.js';
import { html, utc, type Html } from '../html.js';
import { inlineFacts } from './inline.js';

const METHOD: Record<string, string> = {
  context: 'against the context the request carried (system prompt, documents, tool results, earlier turns)',
  samples: 'against other answers to the same request (resampled and shadow models): a claim they do not repeat is unsupported',
  none: 'against nothing: the request carried no context, so each claim gets a moderate prior score and the exchange is not flagged for it',
};

/** Why an exchange was handled but not analysed (src/worker/skipped.ts), in words. */
const SKIP_REASON: Record<string, string> = {
  upstream_error: 'the upstream answered with an error status, or never answered and the proxy answered the client with a 502 or 504 itself',
  empty_response: 'the answer held no text, no refusal and no tool call: nothing to check',
  unparseable: 'the captured request or answer could not be read (also counted as a parse_error drop)',
};

/** How far a tool call was checked (ToolCallVerdict.checked), in words. */
const TOOL_CHECKED: Record<string, string> = {
  schema: 'name, JSON and the declared JSON Schema',
  json: 'name and JSON only (no usable schema declared)',
  name: 'name only (a free-text custom tool)',
  none: 'not checked (incomplete call)',
};

const score = (n: number | undefined) => (typeof n === 'number' ? n.toFixed(2) : '—');

/**
 * The response with every claim marked by its support. Claims are laid over the stored response
 * text by their offsets; a claim whose offsets do not fit (overlapping, or past the text) is left
 * to the table below.
 */
function highlighted(response: string, claims: ClaimVerdict[]): Html {
  const order = claims.map((c, i) => ({ c, n: i + 1 })).sort((a, b) => a.c.start - b.c.start);
  const parts: Html[] = [];
  let pos = 0;
  for (const { c, n } of order) {
    if (!(c.start >= pos && c.end > c.start && c.end <= response.length)) continue;
    parts.push(html`${response.slice(pos, c.start)}`);
    parts.push(
      html`<mark class="claim" data-support="${c.support}" data-claim="${n}" id="c-${n}">${response.slice(c.start, c.end)}<sup><a href="#claim-${n}" aria-label="claim ${n}: ${c.support}, score ${score(c.score)}">${n}</a></sup></mark>`,
    );
    pos = c.end;
  }
  parts.push(html`${response.slice(pos)}`);
  return html`${parts}`;
}

function cues(text: string): Html {
  const found = certaintyCues(text);
  if (found.length === 0) return html`<span class="muted">none</span>`;
  return html`${found.map((q, i) => html`${i > 0 ? ' ' : ''}<span class="badge ${q.kind === 'booster' ? 'unsupported' : 'supported'}">${q.kind}: ${q.text}</span>`)}`;
}

/** What else read the claim: the samples (how many supported it), remote scoring, the judge, token log-probabilities. */
function otherChecks(c: ClaimVerdict): Html {
  const parts: Html[] = [];
  if (c.agreement) parts.push(html`<span data-field="agreement">${c.agreement.supporting} of ${c.agreement.samples} sampled answers support it</span>`);
  if (c.remote !== undefined) parts.push(html`<span data-field="remote">remote model: ${score(c.remote)} not supported</span>`);
  if (c.judge) parts.push(html`judge: ${c.judge}`);
  if (c.logprob) parts.push(html`log-prob mean ${c.logprob.mean}, min ${c.logprob.min}`);
  if (parts.length === 0) return html`<span class="muted">—</span>`;
  return html`${parts.map((p, i) => html`${i > 0 ? html`<br>` : ''}${p}`)}`;
}

function disagreementText(d: NonNullable<Verdict['hallucination']['disagreement']>): string {
  return `${d.answers} answers compared (this one and the sampled and shadow answers) fall into ${d.clusters} meaning ${d.clusters === 1 ? 'cluster' : 'clusters'}: disagreement ${d.entropy.toFixed(2)}, from 0 (all agree) to 1 (each answer alone).`;
}

function shadowList(v: Verdict, shadows: Verdict[]): Html {
  if (shadows.length === 0) return html``;
  return html`<h2>Shadow answers</h2>
<p class="note">Other models asked this same request; each answer is checked against all the others, this one included.</p>
<ul class="list shadows">${shadows.map(
    (s) => html`<li><a href="/veracity/exchanges/${encodeURIComponent(s.id)}">${s.provider}/${s.model}</a>
<span class="badge${s.hallucination.flagged ? ' flagged' : ''}">hallucination ${score(s.hallucination.score)}${s.hallucination.flagged ? ', flagged' : ''}</span>
${s.hallucination.method ? html`<span class="badge">checked against ${s.hallucination.method}</span>` : ''}
<a href="/veracity/compare?a=${encodeURIComponent(`${v.provider}:${v.model}`)}&amp;b=${encodeURIComponent(`${s.provider}:${s.model}`)}">compare the two models</a></li>`,
  )}</ul>`;
}

function claimRow(c: ClaimVerdict, n: number, withText: boolean): Html {
  return html`<tr id="claim-${n}">
<th scope="row"><a href="#c-${n}">${n}</a></th>
<td class="claimtext">${withText && c.text ? c.text : html`<span class="muted">offsets ${c.start}–${c.end}</span>`}</td>
<td><span class="badge ${c.support}">${c.support}</span></td>
<td data-field="failure_mode">${c.failure_mode ? html`<span class="badge mode">${c.failure_mode}</span>` : html`<span class="muted">—</span>`}</td>
<td>${score(c.score)}</td>
<td>${score(c.certainty)}</td>
<td class="left">${withText && c.text ? cues(c.text) : html`<span class="muted">—</span>`}</td>
<td class="left" data-field="checks">${otherChecks(c)}</td>
<td class="evidence">${c.evidence ? html`<q>${c.evidence}</q>` : html`<span class="muted">${withText ? 'no passage' : '—'}</span>`}</td>
</tr>`;
}

function skippedFacts(v: Verdict): Html {
  const reason = v.skipped!;
  const detail = [v.status ? `HTTP ${v.status}` : '', v.error ? `proxy error: ${v.error}` : '', v.aborted ? 'client went away before the end' : ''].filter(Boolean).join(' · ');
  return html`<dt>Not analysed</dt><dd data-field="skipped"><span class="badge" data-reason="${reason}">${reason}</span> ${SKIP_REASON[reason] ?? 'handled but not analysed'}${detail ? html` <span data-field="skip-detail">(${detail})</span>` : ''}.
It has a verdict so that a look-up by id can tell “never will be” from “not yet”; it is not a check and counts in no rate.</dd>`;
}

function findingsList(call: ToolCallVerdict): Html {
  if (call.findings.length === 0) return html`<span class="muted">—</span>`;
  return html`<ul class="findings">${call.findings.map(
    (f) => html`<li data-rule="${f.rule}" data-path="${f.path}">${f.text || html`<span class="muted">${f.failure_mode}</span>`} <small class="muted">(rule ${f.rule}${f.path ? html`, at <code>${f.path}</code>` : ''}${f.schema_path ? html`, schema <code>${f.schema_path}</code>` : ''})</small></li>`,
  )}</ul>`;
}

function toolCallRow(call: ToolCallVerdict): Html {
  const valid = call.incomplete ? 'incomplete' : call.valid ? 'valid' : 'invalid';
  const notes = [call.incomplete ? 'the answer ended inside this call: not checked, not counted' : '', call.schema_error ? `schema not used: ${call.schema_error}` : '', ...(call.unchecked ?? []).map((u) => `not enforced: ${u}`)].filter(Boolean);
  return html`<tr data-call="${call.index}">
<th scope="row">${call.index + 1}</th>
<td class="left" data-field="name">${call.name ? html`<code>${call.name}</code>` : html`<span class="muted">not stored</span>`}${call.id ? html` <small class="muted">${call.id}</small>` : ''}</td>
<td class="left" data-field="checked" data-checked="${call.checked}">${call.checked}: ${TOOL_CHECKED[call.checked] ?? ''}</td>
<td data-field="valid"><span class="badge ${call.valid ? 'supported' : call.incomplete ? '' : 'contradicted'}">${valid}</span></td>
<td data-field="failure_mode">${call.failure_mode ? html`<span class="badge mode">${call.failure_mode}</span>` : html`<span class="muted">—</span>`}</td>
<td class="left" data-field="findings">${findingsList(call)}${notes.length > 0 ? html`<small class="muted">${notes.join('; ')}</small>` : ''}</td>
</tr>`;
}

/** Each tool call of the answer held to the tools the request declared. */
function toolCallsSection(v: Verdict): Html {
  const t = v.tool_calls;
  if (!t) return html``;
  return html`<h2 id="tool-calls">Tool calls</h2>
<p data-field="tool-summary">${t.checked} ${t.checked === 1 ? 'call' : 'calls'} checked against the tools the request declared: ${t.failed} failed.${t.failed > 0 ? ' A failing call keeps the exchange flagged whatever the text’s checks say.' : ''}</p>
<div class="table-wrap"><table class="tool-calls">
<caption>Each tool call: its name, how far it was checked, whether it is valid, how it fails, and what is wrong (the rule and where, in the arguments and in the declared schema)</caption>
<thead><tr><th scope="col">#</th><th scope="col" class="left">Tool</th><th scope="col" class="left">Checked</th><th scope="col">Valid</th><th scope="col">Failure mode</th><th scope="col" class="left">Errors</th></tr></thead>
<tbody>${t.calls.map(toolCallRow)}</tbody></table></div>`;
}

export function exchangeBody(v: Verdict, text: ExchangeText | undefined, storeText: boolean, shadows: Verdict[] = []): Html {
  const claims = v.hallucination.claims;
  const textless = claims.length > 0 && claims.every((c) => c.text === '');
  const withText = !textless;
  const why = v.skipped !== undefined
    ? 'An exchange that was not analysed keeps no text.'
    : textless || !storeText
    ? 'Text is not stored: this deployment runs with capture.storeText: false, so verdicts keep claim offsets and scores only, never the question, the answer or the context.'
    : 'The question and answer text are not available for this exchange (analysed before the console kept them, or expired).';
  const flags = [
    v.hallucination.flagged ? html`<span class="badge flagged">hallucination ${score(v.hallucination.score)}</span>` : html`<span class="badge">hallucination ${score(v.hallucination.score)}</span>`,
    v.confidence_mismatch.flagged ? html`<span class="badge flagged">confidence mismatch ${score(v.confidence_mismatch.score)}</span>` : html`<span class="badge">confidence mismatch ${score(v.confidence_mismatch.score)}</span>`,
    v.refusal.flagged ? html`<span class="badge flagged">${v.refusal.kind} refusal ${score(v.refusal.score)}</span>` : html`<span class="badge">refusal ${v.refusal.kind} ${score(v.refusal.score)}</span>`,
  ];
  if (v.tool_calls && v.tool_calls.failed > 0) flags.push(html`<span class="badge flagged" data-field="tool-flag">${v.tool_calls.failed} of ${v.tool_calls.checked} tool ${v.tool_calls.checked === 1 ? 'call' : 'calls'} failed</span>`);
  const counts = { supported: 0, unsupported: 0, contradicted: 0 };
  for (const c of claims) counts[c.support]++;
  const skipped = v.skipped !== undefined;
  return html`<h1>Exchange <code>${v.id}</code></h1>
<p>${skipped ? html`<span class="badge">not analysed: ${v.skipped}</span>` : flags.map((f, i) => html`${i > 0 ? ' ' : ''}${f}`)}</p>
<dl class="facts">
<dt>Model</dt><dd>${v.provider}/${v.model}</dd>
${v.route ? html`<dt>Route</dt><dd>${v.route}${v.status ? ` · HTTP ${v.status}` : ''}${v.aborted ? ' · client went away before the end (aborted)' : ''}</dd>` : ''}
${v.app ? html`<dt>App</dt><dd>${v.app}</dd>` : ''}
${v.analysed_at ? html`<dt>Analysed</dt><dd>${utc(Date.parse(v.analysed_at))}${v.detection_lag_ms !== undefined ? ` · ${v.detection_lag_ms} ms after the response ended` : ''}</dd>` : ''}
${v.shadow_of ? html`<dt>Shadow of</dt><dd><a href="/veracity/exchanges/${encodeURIComponent(v.shadow_of)}" data-field="shadow_of">${v.shadow_of}</a> (this model was asked the same request as a shadow model; its answer is not counted with primary traffic)</dd>` : ''}
${shadows.length > 0 ? html`<dt>Shadows</dt><dd>${shadows.length} shadow ${shadows.length === 1 ? 'answer' : 'answers'} to this request, <a href="#shadows">below</a></dd>` : ''}
${inlineFacts(v)}
${skipped ? skippedFacts(v) : ''}
</dl>

${text
    ? html`<h2>Question</h2><div class="text" tabindex="0" aria-label="Question">${text.question || html`<span class="muted">(empty)</span>`}</div>${text.cut?.question ? html`<p class="note">Cut to the first ${text.question.length} characters.</p>` : ''}
<h2>Response</h2>
<p class="legend" aria-hidden="true"><span><mark class="claim" data-support="unsupported">unsupported</mark></span><span><mark class="claim" data-support="contradicted">contradicted</mark></span><span><mark class="claim" data-support="supported">supported</mark></span></p>
<p class="sr-only">Claims are marked in the response and numbered; each number links to the claim's row in the table below.</p>
<div class="text response" tabindex="0" aria-label="Response">${text.response === '' && v.tool_calls ? html`<span class="muted">(no text: the answer is tool calls only, below)</span>` : highlighted(text.response, claims)}</div>
${text.cut?.response ? html`<p class="note">Only the first ${text.response.length} characters were analysed and kept.</p>` : ''}
${text.refusal ? html`<p>Provider refusal message: <q>${text.refusal}</q></p>` : ''}`
    : html`<h2>Response</h2><p class="note" role="note">${why}</p>`}

${skipped ? '' : html`${toolCallsSection(v)}
<h2>Claims</h2>
<p>${claims.length} ${claims.length === 1 ? 'claim' : 'claims'}: ${counts.unsupported} unsupported, ${counts.contradicted} contradicted, ${counts.supported} supported.${claims.length === 0 && v.refusal.kind === 'full' ? ' A full refusal states nothing to check.' : ''}</p>
${claims.length > 0
    ? html`<div class="table-wrap"><table>
<caption>Each claim with its support, how it fails when it is not supported, its score (likelihood it is not supported, 0 to 1), the certainty of its wording and the words behind it, what else read it, and the closest passage of the context${claims.some((c) => c.agreement) ? ' or of the sampled answers' : ''}.</caption>
<thead><tr><th scope="col">#</th><th scope="col" class="left">Claim</th><th scope="col">Support</th><th scope="col">Failure mode</th><th scope="col">Score</th><th scope="col">Certainty</th><th scope="col" class="left">Hedges and boosters</th><th scope="col" class="left">Other checks</th><th scope="col" class="left">Closest passage</th></tr></thead>
<tbody>${claims.map((c, i) => claimRow(c, i + 1, withText))}</tbody></table></div>`
    : ''}

<h2>Readings</h2>
<dl class="facts">
<dt>Hallucination</dt><dd>score ${score(v.hallucination.score)}${v.hallucination.flagged ? ', flagged' : ', not flagged'}: ${(v.tool_calls?.failed ?? 0) > 0 ? html`a tool call fails its declared tool (<a href="#tool-calls">above</a>), which holds the exchange flagged at 1 whatever the text’s claims score.` : 'combines the two least supported claims and the number of claims.'}</dd>
<dt>Confidence</dt><dd>mismatch ${score(v.confidence_mismatch.score)}${v.confidence_mismatch.flagged ? ', flagged' : ', not flagged'}: the largest of each claim’s assertiveness (certainty above 0.4, from its boosters, hedges and disclaimers) times its doubt (its score${claims.some((c) => c.logprob) ? ', mixed with token log-probabilities' : ''}). Hedged wording on weak support is honest; assertive wording on it is a mismatch.</dd>
<dt>Refusal</dt><dd>${v.refusal.kind === 'none' ? 'none' : `${v.refusal.kind} refusal`}, score ${score(v.refusal.score)}${v.refusal.flagged ? ', flagged' : ''}.</dd>
</dl>

<h2>How it was checked</h2>
<dl class="facts">
<dt>Method</dt><dd data-field="method">${v.hallucination.method ? `${v.hallucination.method}: ${METHOD[v.hallucination.method] ?? ''}` : v.grounded ? METHOD.context : METHOD.none}</dd>
<dt>Grounded</dt><dd>${v.grounded ? 'yes: the request carried context to check against' : 'no: the request carried no context'}</dd>
${v.hallucination.disagreement ? html`<dt>Sampled answers</dt><dd data-field="disagreement">${disagreementText(v.hallucination.disagreement)}</dd>` : ''}
${v.provenance ? html`<dt>Provenance</dt><dd data-field="provenance">${v.provenance.join(', ')}</dd>` : ''}
${v.remote ? html`<dt>Remote scoring</dt><dd data-field="remote">${v.remote.name} scored ${v.remote.claims} ${v.remote.claims === 1 ? 'claim' : 'claims'} against the context, exchange score ${score(v.remote.score)}; each scored claim's score is its local score and the remote one merged by weight (the claim’s “remote model” reading above)</dd>` : ''}
${v.judge ? html`<dt>Judge</dt><dd>${v.judge.model} read ${v.judge.claims} claims${v.judge.basis === 'knowledge' ? ' from its own knowledge (no context)' : ''}, score ${score(v.judge.score)}</dd>` : ''}
${v.prompt_hash ? html`<dt>Prompt hash</dt><dd><code>${v.prompt_hash}</code> (answers of other models with the same hash answered the same prompt)</dd>` : ''}
${v.truncated ? html`<dt>Cut before analysis</dt><dd>${[v.truncated.response ? 'response' : '', v.truncated.context ? 'context' : ''].filter(Boolean).join(' and ')}</dd>` : ''}
</dl>

`}
<div id="shadows">${shadowList(v, shadows)}</div>

<details><summary>Raw verdict JSON</summary><pre class="json">${JSON.stringify(v, null, 2)}</pre></details>
<p><a href="/veracity/v1/verdicts/${encodeURIComponent(v.id)}">The verdict from the API</a></p>`;
}
